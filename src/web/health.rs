use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, IntoResponse};

use crate::state::AppState;

/// Liveness: the process is up and serving. Caller: orchestrators.
#[handler]
pub fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers. Caller: load balancers.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> poem::Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(err) => {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
