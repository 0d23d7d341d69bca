//! `/metrics`: the Prometheus text exposition of the application's registry.

use poem::web::Data;
use poem::{handler, Response};

use crate::state::AppState;

/// Prometheus text exposition. Caller: the operator's monitoring.
#[handler]
pub fn serve(state: Data<&AppState>) -> Response {
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.jwks.fetch_count()))
}
