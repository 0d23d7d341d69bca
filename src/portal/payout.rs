//! `/merchant-center/payout`: the bank account payouts go to. Financial admins only; the
//! numbers are never shown again, only their last four digits.

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Form, Query, Redirect};
use poem::{handler, IntoResponse, Request, Response};
use serde::Deserialize;

use super::errors::PortalError;
use super::frame::{page_response, BrandView, Frame};
use super::signed_in;
use super::{Saved, StepUpNotice};
use crate::domain::payout::PayoutInput;
use crate::services::{payout, ServiceError};
use crate::state::AppState;
use crate::store::merchant_center::PayoutRow;
use crate::store::merchants::MerchantSessionRow;
use crate::web::view::{when, FieldErrors};

#[derive(Deserialize)]
pub struct PayoutForm {
    #[serde(flatten)]
    input: PayoutInput,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "portal/payout.html")]
struct PayoutPage {
    brand: BrandView,
    frame: Frame,
    current: Option<PayoutRow>,
    updated: Option<String>,
    /// The holder's name and the routing number (a bank's public code) as posted.
    holder: String,
    routing: String,
    /// The form had errors: the account number is never echoed back, so it is asked again.
    retype_account: bool,
    errors: FieldErrors,
    saved: bool,
    step_up: StepUpNotice,
}

impl PayoutPage {
    /// The fields to fix with their labels, for the error summary.
    fn error_links(&self) -> Vec<(&str, &'static str)> {
        self.errors.fields().map(|field| (field, Self::label(field))).collect()
    }

    fn label(field: &str) -> &'static str {
        match field {
            "account_holder" => "Account holder",
            "routing_number" => "Routing number",
            "account_number" => "Account number",
            "account_number_confirmation" => "Confirm account number",
            _ => "A field",
        }
    }
}

/// What a refused form shows again: all but the account number, which must be retyped.
struct Typed {
    holder: String,
    routing: String,
    retype_account: bool,
}

fn render(session: &MerchantSessionRow, typed: Typed, errors: FieldErrors, saved: bool, step_up: StepUpNotice) -> Result<String, PortalError> {
    let frame = Frame::new(session, "payout");
    let page = PayoutPage {
        brand: BrandView::of_session(session),
        frame,
        current: session.payout.clone(),
        updated: session.payout.as_ref().map(|p| when(p.updated_at)),
        holder: typed.holder,
        routing: typed.routing,
        retype_account: typed.retype_account,
        errors,
        saved,
        step_up,
    };
    Ok(page.render()?)
}

/// Caller: a signed-in financial admin; moderators get 403.
#[handler]
pub async fn show(req: &Request, state: Data<&AppState>, Query(saved): Query<Saved>) -> Result<Response, PortalError> {
    let session = signed_in::session(req, &state).await?;
    payout::authorize(&session).map_err(|_| PortalError::forbidden(&session, "payout"))?;
    let holder = session.payout.as_ref().map(|p| p.account_holder.clone()).unwrap_or_default();
    let step_up = StepUpNotice::of(&state, &session, &saved);
    let typed = Typed { holder, routing: String::new(), retype_account: false };
    Ok(page_response(StatusCode::OK, render(&session, typed, FieldErrors::default(), saved.saved.is_some(), step_up)?, &session.sign_out_origins))
}

/// Caller: a signed-in financial admin; moderators get 403.
#[handler]
pub async fn submit(req: &Request, state: Data<&AppState>, form: poem::Result<Form<PayoutForm>>) -> Result<Response, PortalError> {
    let session = signed_in::session(req, &state).await?;
    let Ok(Form(form)) = form else { return Err(PortalError::expired_form(&session, "payout")) };
    signed_in::check_csrf(&session, &form.csrf_token, "payout")?;
    match payout::save(&state, &session, &form.input).await {
        Ok(()) => Ok(Redirect::see_other("/merchant-center/payout?saved=1").into_response()),
        Err(ServiceError::Forbidden) => Err(PortalError::forbidden(&session, "payout")),
        // Nothing is saved: through the IdM, then back to this form.
        Err(ServiceError::StepUpRequired) => Ok(Redirect::see_other("/sso/step-up?page=payout").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let input = &form.input;
            let typed = Typed {
                holder: input.account_holder.clone(),
                routing: input.routing_number.clone(),
                retype_account: !input.account_number.is_empty() || !input.account_number_confirmation.is_empty(),
            };
            let html = render(&session, typed, FieldErrors::from_service(&errors), false, StepUpNotice::NONE)?;
            Ok(page_response(StatusCode::BAD_REQUEST, html, &session.sign_out_origins))
        }
        Err(other) => Err(other.into()),
    }
}
