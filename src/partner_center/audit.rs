//! The audit trail: every change to this app's integration, who made it, and the chain of
//! hashes that shows nothing was altered since.

use askama::Template;
use poem::handler;
use poem::web::{Data, Html};

use super::errors::PageError;
use super::session::PartnerSession;
use super::view::{ago, Shell};
use crate::domain::audit::AuditEntry;
use crate::services::audit;
use crate::state::AppState;
use crate::web::view::when;

/// Entries listed on the page.
const SHOWN: i64 = 100;

pub struct EntryView {
    pub seq: i64,
    pub when: String,
    pub ago: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    /// The first characters of the hash: enough to compare with a copy kept elsewhere.
    pub hash_prefix: String,
}

impl EntryView {
    fn new(e: AuditEntry, now: i64) -> Self {
        Self {
            seq: e.seq,
            when: when(e.occurred_at),
            ago: ago(e.occurred_at, now),
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
            hash_prefix: e.hash.chars().take(12).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "partner_center/audit.html")]
struct AuditPage {
    shell: Shell,
    entries: Vec<EntryView>,
}

/// The app's audit trail, newest first. Caller: a signed-in partner.
#[handler]
pub async fn page(signed_in: PartnerSession, state: Data<&AppState>) -> Result<Html<String>, PageError> {
    let now = state.clock.now();
    let entries = audit::recent(&state.store, signed_in.app_id, SHOWN).await?.into_iter().map(|e| EntryView::new(e, now)).collect();
    Ok(Html(AuditPage { shell: Shell::new(&signed_in, "audit"), entries }.render()?))
}
