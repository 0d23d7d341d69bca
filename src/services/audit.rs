//! Appending to and reading the audit trail (contract, "Go-live and health"): every
//! partner-side change and every operator action, one hash chain per app.

use super::ServiceError;
use crate::clock::Clock;
use crate::domain::audit::{self, AuditEntry, Break};
use crate::domain::ids::AppId;
use crate::store::audit::NewAuditEntry;
use crate::store::Store;

/// One action to record: on `chain` (an app id, or `audit::OPERATOR_CHAIN`).
pub struct Action<'a> {
    pub chain: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
}

/// Appends `action` once the change it describes is made. The change stands even when the
/// append fails (it is logged as an error): answering "failed" for a change that happened
/// would make a client repeat it.
pub async fn record(store: &Store, clock: &Clock, action: Action<'_>) {
    let new = NewAuditEntry {
        chain: action.chain,
        occurred_at: clock.now(),
        actor: action.actor,
        action: action.action,
        target: action.target,
        detail: action.detail,
    };
    if let Err(err) = store.append_audit(&new).await {
        tracing::error!(error = ?err, chain = action.chain, action = action.action, "audit entry not written");
    }
}

/// The app's newest entries, newest first.
pub async fn recent(store: &Store, app: AppId, limit: i64) -> Result<Vec<AuditEntry>, ServiceError> {
    Ok(store.recent_audit(&app.to_string(), limit).await?)
}

/// What `causeway audit verify` found: the chains and entries checked, and the first break
/// of each broken chain.
pub struct Verification {
    pub chains: usize,
    pub entries: usize,
    pub breaks: Vec<Break>,
}

pub async fn verify(store: &Store) -> Result<Verification, ServiceError> {
    let mut report = Verification { chains: 0, entries: 0, breaks: Vec::new() };
    for chain in store.audit_chains().await? {
        let entries = store.audit_chain(&chain).await?;
        report.chains += 1;
        report.entries += entries.len();
        if let Err(broken) = audit::verify(&entries) {
            report.breaks.push(broken);
        }
    }
    Ok(report)
}
