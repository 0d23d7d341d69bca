//! `/merchant-center/users`: everyone the partner's IdM has signed in to this account.

use askama::Template;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Request, Response};

use super::errors::PortalError;
use super::frame::{page_response, role_class, BrandView, Frame};
use super::signed_in;
use crate::domain::access::Source;
use crate::services::team;
use crate::state::AppState;
use crate::web::view::when;

pub struct Member {
    pub name: String,
    pub email: String,
    pub role_label: &'static str,
    pub role_class: &'static str,
    /// Where the access comes from, in words.
    pub access: &'static str,
    pub first_sign_in: String,
    pub last_sign_in: String,
    pub is_you: bool,
}

#[derive(Template)]
#[template(path = "portal/users.html")]
struct UsersPage {
    brand: BrandView,
    frame: Frame,
    members: Vec<Member>,
}

/// Caller: any signed-in user of the account.
#[handler]
pub async fn show(req: &Request, state: Data<&AppState>) -> Result<Response, PortalError> {
    let session = signed_in::session(req, &state).await?;
    let rows = team::members(&state, &session).await?;
    let members = rows
        .into_iter()
        .map(|m| Member {
            name: format!("{} {}", m.given_name, m.family_name).trim().to_owned(),
            is_you: m.user_id == session.user_id,
            email: if m.email.is_empty() { m.phone_number.unwrap_or_default() } else { m.email },
            access: match m.source {
                Source::Claim => "Your platform names this account for them",
                Source::Grant => "Granted by your platform",
                Source::Controller => "The business's controller",
            },
            role_label: m.role.label(),
            role_class: role_class(m.role),
            first_sign_in: when(m.first_sign_in_at),
            last_sign_in: when(m.last_sign_in_at),
        })
        .collect();
    let page = UsersPage { brand: BrandView::of_session(&session), frame: Frame::new(&session, "users"), members };
    Ok(page_response(StatusCode::OK, page.render()?, &session.sign_out_origins))
}
