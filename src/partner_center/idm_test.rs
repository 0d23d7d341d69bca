//! "Test connection": runs the live IdM check and shows each step.

use askama::Template;
use poem::handler;
use poem::web::{Data, Form, Html};

use super::errors::PageError;
use super::session::PartnerSession;
use super::view::Shell;
use crate::web::view::when;
use super::CsrfForm;
use crate::federation::idm_check::{CheckStep, StepStatus};
use crate::services::{idm, ServiceError};
use crate::state::AppState;

pub struct StepView {
    pub title: &'static str,
    pub status: &'static str,
    pub icon: &'static str,
    pub label: &'static str,
    pub detail: String,
    pub millis: u64,
}

impl From<CheckStep> for StepView {
    fn from(step: CheckStep) -> Self {
        let title = match step.name {
            "discovery" => "Discovery document",
            "issuer" => "Issuer matches",
            "endpoints" => "Endpoints",
            "capabilities" => "Capabilities",
            "jwks" => "Signing keys (JWKS)",
            other => other,
        };
        let (icon, label) = match step.status {
            StepStatus::Passed => ("✓", "Passed"),
            StepStatus::Warning => ("!", "Warning"),
            StepStatus::Failed => ("✕", "Failed"),
            StepStatus::Skipped => ("–", "Skipped"),
        };
        Self { title, status: step.status.as_str(), icon, label, detail: step.detail, millis: step.millis }
    }
}

#[derive(Template)]
#[template(path = "partner_center/idm_test.html")]
struct TestPage {
    shell: Shell,
    configured: bool,
    ok: bool,
    issuer: String,
    tested_at: String,
    steps: Vec<StepView>,
}

/// Runs the check against the stored configuration. Caller: a signed-in partner
/// (CSRF-checked: it makes Causeway call out).
#[handler]
pub async fn run(signed_in: PartnerSession, state: Data<&AppState>, Form(form): Form<CsrfForm>) -> Result<Html<String>, PageError> {
    signed_in.check_csrf(&form.csrf_token)?;
    let current = idm::get(&state, signed_in.app_id).await?;
    let issuer = current.config.map(|c| c.location().to_owned()).unwrap_or_default();
    let (configured, ok, steps) = match idm::test(&state, signed_in.app_id).await {
        Ok(report) => (true, report.ok(), report.steps.into_iter().map(StepView::from).collect()),
        Err(ServiceError::NotFound { .. }) => (false, false, Vec::new()),
        Err(other) => return Err(other.into()),
    };
    let page = TestPage { shell: Shell::new(&signed_in, "idm"), configured, ok, issuer, tested_at: when(state.clock.now()), steps };
    Ok(Html(page.render()?))
}
