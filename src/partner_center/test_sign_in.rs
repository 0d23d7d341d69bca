//! "Test sign-in": the partner's staff signs in at their IdM like a merchant, and reads a
//! report of every rule instead of landing in the Merchant Center.

use askama::Template;
use poem::handler;
use poem::web::{Data, Form, Html, Path};

use super::errors::PageError;
use super::session::PartnerSession;
use super::view::Shell;
use super::CsrfForm;
use crate::domain::test_sign_in::{ClaimSeen, Report};
use crate::services::test_sign_ins;
use crate::state::AppState;
use crate::web::view::when;

#[derive(Template)]
#[template(path = "partner_center/test_sign_in_start.html")]
struct StartPage {
    shell: Shell,
    url: String,
}

/// Starts a test sign-in and offers the link to the IdM. A link, not a redirect: browsers
/// check a form's whole redirect chain against the page's `form-action 'self'`, and the
/// chain would end at the IdM. Caller: a signed-in partner (CSRF-checked).
#[handler]
pub async fn start(signed_in: PartnerSession, state: Data<&AppState>, Form(form): Form<CsrfForm>) -> Result<Html<String>, PageError> {
    signed_in.check_csrf(&form.csrf_token)?;
    let started = test_sign_ins::start(&state, signed_in.app_id, super::CHANGED_BY).await?;
    Ok(Html(StartPage { shell: Shell::new(&signed_in, "idm"), url: started.url }.render()?))
}

/// A claim row: the value shown as JSON when the report may show it.
pub struct ClaimView {
    pub name: String,
    pub json_type: String,
    pub value: String,
}

fn claim_views(claims: &[ClaimSeen]) -> Vec<ClaimView> {
    claims
        .iter()
        .map(|c| ClaimView {
            name: c.name.clone(),
            json_type: c.json_type.clone(),
            value: c.value.as_ref().map_or_else(|| "(not shown)".to_owned(), |v| v.to_string()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "partner_center/test_sign_in.html")]
struct ReportPage {
    shell: Shell,
    status: String,
    expires: String,
    report: Report,
    id_token_claims: Vec<ClaimView>,
    userinfo_claims: Option<Vec<ClaimView>>,
}

/// The report of test sign-in `id` (this app's only). Caller: a signed-in partner, sent
/// here by the callback.
#[handler]
pub async fn report(signed_in: PartnerSession, state: Data<&AppState>, Path(id): Path<String>) -> Result<Html<String>, PageError> {
    let found = test_sign_ins::find(&state, signed_in.app_id, &id).await?;
    let report = found.report.unwrap_or_default();
    let page = ReportPage {
        shell: Shell::new(&signed_in, "idm"),
        status: found.status,
        expires: when(found.expires_at),
        id_token_claims: claim_views(&report.id_token_claims),
        userinfo_claims: report.userinfo_claims.as_deref().map(claim_views),
        report,
    };
    Ok(Html(page.render()?))
}
