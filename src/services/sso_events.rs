//! The log of SSO attempts a partner reads to debug its integration. Details never hold
//! tokens, codes or secrets: callers pass only what a partner's developer may see.

use super::ServiceError;
use crate::domain::ids::AppId;
use crate::state::AppState;
use crate::store::sso_events::SsoEventRow;

pub const LIMIT_DEFAULT: i64 = 50;
pub const LIMIT_MAX: i64 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
}

impl Outcome {
    pub const ALL: [Self; 2] = [Self::Succeeded, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// Time-ordered (RFC 9562 §5.7), so events of the same second list in the order they
/// happened: the log sorts by (occurred_at, id).
pub fn new_event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub async fn record(
    state: &AppState,
    app: AppId,
    outcome: Outcome,
    error_code: Option<&str>,
    detail: &str,
    correlation_id: &str,
) -> Result<(), ServiceError> {
    let event = SsoEventRow {
        id: new_event_id(),
        app_id: app,
        occurred_at: state.clock.now(),
        outcome: outcome.as_str().to_owned(),
        error_code: error_code.map(str::to_owned),
        detail: detail.to_owned(),
        correlation_id: correlation_id.to_owned(),
    };
    Ok(state.store.insert_sso_event(&event).await?)
}

pub async fn recent(state: &AppState, app: AppId, limit: i64) -> Result<Vec<SsoEventRow>, ServiceError> {
    Ok(state.store.recent_sso_events(app, limit.clamp(1, LIMIT_MAX)).await?)
}
