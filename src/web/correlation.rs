//! One log line per request, tagged with a correlation id that is also returned in the
//! `X-Correlation-Id` header and quoted by error pages and 500 bodies.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

tokio::task_local! {
    static CORRELATION_ID: String;
}

/// The current request's correlation id, or a fresh one outside a request.
pub fn current() -> String {
    CORRELATION_ID.try_with(Clone::clone).unwrap_or_else(|_| uuid::Uuid::new_v4().to_string())
}

pub async fn log_requests<E: Endpoint>(next: E, req: Request, metrics: std::sync::Arc<crate::metrics::Metrics>) -> poem::Result<Response> {
    let id = uuid::Uuid::new_v4().to_string();
    let method = req.method().clone();
    // The path only: query strings may carry codes or state values.
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("request", correlation_id = %id);
    let result = CORRELATION_ID.scope(id.clone(), next.call(req).instrument(span.clone())).await;
    let mut response = match result {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    if let Ok(value) = id.parse() {
        response.headers_mut().insert("X-Correlation-Id", value);
    }
    metrics.observe_request(method.as_str(), &path, response.status().as_u16(), started.elapsed());
    span.in_scope(|| {
        tracing::info!(
            %method,
            %path,
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        )
    });
    Ok(response)
}
