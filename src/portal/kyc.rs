//! `/merchant-center/kyc`: the financial admin edits and submits the business's KYC
//! details; moderators read them (the tax id only by its last four digits).

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Form, Query, Redirect};
use poem::{handler, IntoResponse, Request, Response};
use serde::Deserialize;

use super::errors::PortalError;
use super::frame::{page_response, BrandView, Frame};
use super::signed_in;
use super::{Saved, StepUpNotice};
use crate::domain::kyc::{BusinessType, KycInput};
use crate::services::{kyc, ServiceError};
use crate::state::AppState;
use crate::store::merchant_center::KycRow;
use crate::web::view::{when, FieldErrors};

#[derive(Deserialize)]
pub struct KycForm {
    #[serde(flatten)]
    input: KycInput,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "portal/kyc.html")]
struct KycPage {
    brand: BrandView,
    frame: Frame,
    /// What the form shows: the stored values, or what was just posted (never the tax id).
    v: KycInput,
    business_types: Vec<(&'static str, &'static str)>,
    country: String,
    /// Last four digits of the tax id on file.
    tax_id_last4: Option<String>,
    submitted: Option<String>,
    errors: FieldErrors,
    saved: bool,
    step_up: StepUpNotice,
    /// The form had errors and a tax id was typed: it is never echoed back, so it is asked again.
    retype_tax_id: bool,
}

impl KycPage {
    fn tax_id_hint(&self) -> String {
        if self.retype_tax_id {
            return "For your security the tax id is not shown again: enter it once more.".into();
        }
        match &self.tax_id_last4 {
            Some(last4) => format!("A tax id ending in {last4} is on file. Leave empty to keep it."),
            None => "Stored encrypted; afterwards only its last four digits are shown.".into(),
        }
    }

    fn tax_id_placeholder(&self) -> String {
        self.tax_id_last4.as_ref().map_or_else(|| "12-3456789".into(), |last4| format!("•••••{last4}"))
    }

    /// The fields to fix with their labels, for the error summary.
    fn error_links(&self) -> Vec<(&str, &'static str)> {
        self.errors.fields().map(|field| (field, Self::label(field))).collect()
    }

    fn label(field: &str) -> &'static str {
        match field {
            "legal_name" => "Business legal name",
            "business_type" => "Business type",
            "tax_id" => "Tax id",
            "address_line1" => "Address",
            "address_line2" => "Address line 2",
            "city" => "City",
            "region" => "State or region",
            "postal_code" => "Postal code",
            "representative_dob" => "Representative's date of birth",
            _ => "A field",
        }
    }

    fn business_type_label(&self) -> &'static str {
        BusinessType::parse(&self.v.business_type).map_or("", BusinessType::label)
    }
}

fn values_of(k: &KycRow) -> KycInput {
    KycInput {
        legal_name: k.legal_name.clone(),
        address_line1: k.address_line1.clone(),
        address_line2: k.address_line2.clone(),
        city: k.city.clone(),
        region: k.region.clone(),
        postal_code: k.postal_code.clone(),
        business_type: k.business_type.clone(),
        tax_id: String::new(),
        representative_dob: k.representative_dob.clone(),
    }
}

fn render(session: &crate::store::merchants::MerchantSessionRow, v: KycInput, errors: FieldErrors, saved: bool, step_up: StepUpNotice) -> Result<String, PortalError> {
    // The tax id is the one value a refused form does not show again.
    let retype_tax_id = !v.tax_id.is_empty();
    let v = KycInput { tax_id: String::new(), ..v };
    let frame = Frame::new(session, "kyc");
    let page = KycPage {
        brand: BrandView::of_session(session),
        frame,
        v,
        business_types: BusinessType::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        country: super::frame::country_name(&session.country),
        tax_id_last4: session.kyc.as_ref().map(|k| k.tax_id_last4.clone()),
        submitted: session.kyc.as_ref().map(|k| when(k.submitted_at)),
        errors,
        saved,
        step_up,
        retype_tax_id,
    };
    Ok(page.render()?)
}

/// Caller: any signed-in user; moderators get the read-only view.
#[handler]
pub async fn show(req: &Request, state: Data<&AppState>, Query(saved): Query<Saved>) -> Result<Response, PortalError> {
    let session = signed_in::session(req, &state).await?;
    let values = session.kyc.as_ref().map(values_of).unwrap_or_default();
    let step_up = StepUpNotice::of(&state, &session, &saved);
    Ok(page_response(StatusCode::OK, render(&session, values, FieldErrors::default(), saved.saved.is_some(), step_up)?, &session.sign_out_origins))
}

/// Caller: a signed-in financial admin (checked by the service; moderators get 403).
#[handler]
pub async fn submit(req: &Request, state: Data<&AppState>, form: poem::Result<Form<KycForm>>) -> Result<Response, PortalError> {
    let session = signed_in::session(req, &state).await?;
    let Ok(Form(form)) = form else { return Err(PortalError::expired_form(&session, "kyc")) };
    signed_in::check_csrf(&session, &form.csrf_token, "kyc")?;
    match kyc::submit(&state, &session, &form.input).await {
        Ok(()) => Ok(Redirect::see_other("/merchant-center/kyc?saved=1").into_response()),
        Err(ServiceError::Forbidden) => Err(PortalError::forbidden(&session, "kyc")),
        // Nothing is saved: through the IdM, then back to this form.
        Err(ServiceError::StepUpRequired) => Ok(Redirect::see_other("/sso/step-up?page=kyc").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            Ok(page_response(StatusCode::BAD_REQUEST, render(&session, form.input, FieldErrors::from_service(&errors), false, StepUpNotice::NONE)?, &session.sign_out_origins))
        }
        Err(other) => Err(other.into()),
    }
}
