//! The overview merchants land on after SSO: the account, who they are, and what is
//! still missing before payouts can flow.

use askama::Template;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Request, Response};

use super::errors::PortalError;
use super::frame::{country_name, page_response, BrandView, Frame};
use super::signed_in;
use crate::domain::kyc;
use crate::state::AppState;
use crate::web::view::when;

/// One setup step and where it stands.
pub struct Step {
    pub title: &'static str,
    pub done: bool,
    pub summary: String,
    /// What is still missing, for an incomplete step.
    pub missing: Vec<&'static str>,
    pub link: &'static str,
    pub action: &'static str,
}

#[derive(Template)]
#[template(path = "portal/overview.html")]
struct Overview {
    brand: BrandView,
    frame: Frame,
    account_id: String,
    account_description: Option<String>,
    country: String,
    steps: Vec<Step>,
}

/// Caller: any signed-in merchant user.
#[handler]
pub async fn show(req: &Request, state: Data<&AppState>) -> Result<Response, PortalError> {
    let session = signed_in::session(req, &state).await?;
    let frame = Frame::new(&session, "overview");
    let admin = frame.is_admin;
    let kyc_step = match &session.kyc {
        Some(k) => Step {
            title: "Business details (KYC)",
            done: true,
            summary: format!("Submitted {} for {}.", when(k.submitted_at), k.legal_name),
            missing: vec![],
            link: "/merchant-center/kyc",
            action: if admin { "Review or update" } else { "View" },
        },
        None => Step {
            title: "Business details (KYC)",
            done: false,
            summary: if admin { "Tell us about the business to receive payouts.".into() } else { "Your financial admin has not submitted them yet.".into() },
            missing: kyc::REQUIRED.iter().map(|(_, label)| *label).collect(),
            link: "/merchant-center/kyc",
            action: if admin { "Complete business details" } else { "View" },
        },
    };
    let payout_step = match (&session.payout, admin) {
        (Some(p), true) => Step {
            title: "Payout bank account",
            done: true,
            summary: format!("{} · account ending {}", p.account_holder, p.account_last4),
            missing: vec![],
            link: "/merchant-center/payout",
            action: "Change bank account",
        },
        (Some(_), false) => Step {
            title: "Payout bank account",
            done: true,
            summary: "On file. Only your financial admin can see or change it.".into(),
            missing: vec![],
            link: "",
            action: "",
        },
        (None, _) => Step {
            title: "Payout bank account",
            done: false,
            summary: if admin { "Add the bank account payouts go to.".into() } else { "Your financial admin has not added it yet.".into() },
            missing: vec!["bank account holder", "routing number", "account number"],
            link: if admin { "/merchant-center/payout" } else { "" },
            action: if admin { "Add bank account" } else { "" },
        },
    };
    let page = Overview {
        brand: BrandView::of_session(&session),
        account_id: session.account_id.to_string(),
        account_description: session.account_description.clone(),
        country: country_name(&session.country),
        steps: vec![kyc_step, payout_step],
        frame,
    };
    Ok(page_response(StatusCode::OK, page.render()?, &session.sign_out_origins))
}
