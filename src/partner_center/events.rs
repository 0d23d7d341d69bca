//! The SSO event log: recent sign-in attempts through this app's CTA, for debugging.

use askama::Template;
use poem::handler;
use poem::web::{Data, Html};

use super::errors::PageError;
use super::session::PartnerSession;
use super::view::{ago, Shell};
use crate::web::view::when;
use crate::services::sso_events;
use crate::state::AppState;
use crate::store::sso_events::SsoEventRow;

/// Events listed on the page.
const SHOWN: i64 = 100;

pub struct EventView {
    pub when: String,
    pub ago: String,
    pub outcome: String,
    pub error_code: String,
    pub detail: String,
    pub correlation_id: String,
}

impl EventView {
    pub fn new(e: SsoEventRow, now: i64) -> Self {
        Self {
            when: when(e.occurred_at),
            ago: ago(e.occurred_at, now),
            outcome: e.outcome,
            error_code: e.error_code.unwrap_or_default(),
            detail: e.detail,
            correlation_id: e.correlation_id,
        }
    }
}

#[derive(Template)]
#[template(path = "partner_center/events.html")]
struct EventsPage {
    shell: Shell,
    events: Vec<EventView>,
    cta_url: String,
}

/// Recent SSO attempts, newest first. Caller: a signed-in partner.
#[handler]
pub async fn page(signed_in: PartnerSession, state: Data<&AppState>) -> Result<Html<String>, PageError> {
    let now = state.clock.now();
    let events = sso_events::recent(&state, signed_in.app_id, SHOWN).await?.into_iter().map(|e| EventView::new(e, now)).collect();
    let cta_url = crate::services::idm::cta_url(&state, signed_in.app_id);
    Ok(Html(EventsPage { shell: Shell::new(&signed_in, "events"), events, cta_url }.render()?))
}
