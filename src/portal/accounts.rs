//! `/merchant-center/accounts`: a person who reaches several of the partner's accounts
//! chooses one after sign-in, and switches later without another IdM round trip.

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Form, Redirect};
use poem::{handler, IntoResponse, Request, Response};
use serde::Deserialize;

use super::errors::PortalError;
use super::frame::{page_response, role_class, BrandView, Frame};
use super::signed_in;
use crate::services::{account_choice, ServiceError};
use crate::state::AppState;
use crate::store::merchants::SessionRow;
use crate::web::csrf;

pub struct Choice {
    pub account_id: String,
    pub name: String,
    pub role_label: &'static str,
    pub role_class: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "portal/accounts.html")]
struct AccountsPage {
    brand: BrandView,
    frame: Frame,
    choices: Vec<Choice>,
    /// Shown when a chosen account is no longer reachable.
    refused: bool,
}

async fn render(state: &AppState, session: &SessionRow, refused: bool) -> Result<Response, PortalError> {
    let current = match session {
        SessionRow::Bound(s) => Some(s.account_id),
        SessionRow::Choosing(_) => None,
    };
    let choices = account_choice::choices(state, session)
        .await?
        .into_iter()
        .map(|r| Choice {
            account_id: r.account.to_string(),
            name: r.account_name,
            role_label: r.role.label(),
            role_class: role_class(r.role),
            current: current == Some(r.account),
        })
        .collect();
    let frame = Frame::of_any(session, "accounts");
    let origins = frame.sign_out_origins.clone();
    let page = AccountsPage { brand: BrandView::of_any(session), frame, choices, refused };
    let status = if refused { StatusCode::FORBIDDEN } else { StatusCode::OK };
    Ok(page_response(status, page.render()?, &origins))
}

/// Caller: any signed-in merchant user (bound to an account or still choosing).
#[handler]
pub async fn show(req: &Request, state: Data<&AppState>) -> Result<Response, PortalError> {
    let (_, session) = signed_in::any_session(req, &state).await?;
    render(&state, &session, false).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChooseForm {
    account_id: String,
    csrf_token: String,
}

/// Binds the session to the chosen account if the person reaches it now.
/// Caller: any signed-in merchant user (form with the session's CSRF token).
#[handler]
pub async fn choose(req: &Request, state: Data<&AppState>, form: poem::Result<Form<ChooseForm>>) -> Result<Response, PortalError> {
    let (cookie, session) = signed_in::any_session(req, &state).await?;
    let Ok(Form(form)) = form else { return Err(PortalError::expired_form_of(&session, "accounts")) };
    if !csrf::matches(session.csrf_token(), &form.csrf_token) {
        return Err(PortalError::expired_form_of(&session, "accounts"));
    }
    match account_choice::choose(&state, cookie, &session, &form.account_id).await {
        Ok(_) => Ok(Redirect::see_other("/merchant-center").into_response()),
        Err(ServiceError::NotFound { .. }) => render(&state, &session, true).await,
        Err(other) => Err(other.into()),
    }
}
