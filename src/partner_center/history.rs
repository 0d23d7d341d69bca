//! Earlier IdM configurations, with a button to make one current again.

use askama::Template;
use poem::handler;
use poem::web::{Data, Form, Html, Path, Redirect};

use super::errors::PageError;
use super::session::PartnerSession;
use super::view::{ago, Shell};
use crate::web::view::when;
use super::{CsrfForm, BASE_PATH, CHANGED_BY};
use crate::services::idm;
use crate::state::AppState;

/// Versions listed; the service keeps more.
const SHOWN: i64 = 50;

pub struct VersionView {
    pub version: i64,
    pub when: String,
    pub ago: String,
    pub changed_by: String,
    pub secret_changed: bool,
    pub hosted: bool,
    pub issuer: String,
    pub client_id: String,
    pub domain: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "partner_center/history.html")]
struct HistoryPage {
    shell: Shell,
    versions: Vec<VersionView>,
}

/// The configuration history, newest first. Caller: a signed-in partner.
#[handler]
pub async fn page(signed_in: PartnerSession, state: Data<&AppState>) -> Result<Html<String>, PageError> {
    let now = state.clock.now();
    let entries = idm::history(&state, signed_in.app_id, SHOWN).await?;
    let versions = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| VersionView {
            version: e.version,
            when: when(e.changed_at),
            ago: ago(e.changed_at, now),
            changed_by: e.changed_by,
            secret_changed: e.secret_changed,
            hosted: e.config.kind.as_deref() == Some("hosted_login"),
            issuer: e.config.location().to_owned(),
            client_id: e.config.client_label().to_owned(),
            domain: e.config.domain.clone().unwrap_or_default(),
            current: i == 0,
        })
        .collect();
    Ok(Html(HistoryPage { shell: Shell::new(&signed_in, "idm"), versions }.render()?))
}

/// Makes an earlier version current again. Caller: a signed-in partner (CSRF-checked).
#[handler]
pub async fn restore(signed_in: PartnerSession, state: Data<&AppState>, Path(version): Path<i64>, Form(form): Form<CsrfForm>) -> Result<Redirect, PageError> {
    signed_in.check_csrf(&form.csrf_token)?;
    idm::restore(&state, signed_in.app_id, version, CHANGED_BY).await?;
    Ok(Redirect::see_other(format!("{BASE_PATH}/idm?restored={version}")))
}
