//! Sign-in health of an app over a window (contract, "Go-live and health"): started,
//! succeeded, failed by code, success rate, callback and token-endpoint latency, clock
//! offsets — summed from every replica's hourly counts.

use std::collections::BTreeMap;

use super::ServiceError;
use crate::domain::health::{quantile_ms, CALLBACK_MS, CLOCK_OFFSET, FAILED, JWKS_FAILURES, JWKS_FETCHES, OFFSET_BUCKETS_S, STARTED, SUCCEEDED, TOKEN_MS};
use crate::domain::ids::AppId;
use crate::state::AppState;

/// The windows a partner may ask for, in hours.
pub const WINDOWS: [(&str, i64); 2] = [("24h", 24), ("7d", 24 * 7)];

/// Writes what this process counted since the last flush; what cannot be written now is
/// kept for the next one.
pub async fn flush(state: &AppState) {
    let now = state.clock.now();
    for (app, fetched, failed) in state.jwks.take_counts() {
        state.health.jwks(app, now, fetched, failed);
    }
    let counts = state.health.take();
    if counts.is_empty() {
        return;
    }
    if let Err(err) = state.store.add_health_counts(&counts).await {
        tracing::warn!(error = ?err, "health counts not written; kept for the next flush");
        state.health.give_back(counts);
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct HourCounts {
    pub hour: i64,
    pub started: i64,
    pub succeeded: i64,
    pub failed: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    pub window: &'static str,
    pub started: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Most frequent first.
    pub failed_by_code: Vec<(String, i64)>,
    /// Succeeded over completed (succeeded + failed); `None` before any.
    pub success_rate: Option<f64>,
    pub callback_p50_ms: Option<u64>,
    pub callback_p95_ms: Option<u64>,
    pub token_endpoint_p50_ms: Option<u64>,
    pub token_endpoint_p95_ms: Option<u64>,
    pub jwks_fetches: i64,
    pub jwks_fetch_failures: i64,
    /// (bucket upper bound in seconds, or `+Inf`; sign-ins), in bucket order.
    pub clock_offsets: Vec<(String, i64)>,
    /// Every hour of the window, oldest first.
    pub hourly: Vec<HourCounts>,
    /// What the IdM monitor noticed within the window, newest first.
    pub notices: Vec<crate::store::idm_monitor::NoticeRow>,
}

pub async fn report(state: &AppState, app: AppId, window: &str) -> Result<Health, ServiceError> {
    let Some((window, hours)) = WINDOWS.into_iter().find(|(name, _)| *name == window) else {
        use crate::domain::field_error::{FieldError, Reason};
        return Err(ServiceError::Invalid(vec![FieldError::new(&["window"], Reason::InvalidParameter, "must be 24h or 7d")]));
    };
    // This replica's latest counts first, so that what it just served is in the answer.
    flush(state).await;
    let now_hour = crate::domain::health::hour_of(state.clock.now());
    let from = now_hour - (hours - 1) * 3600;
    let mut health = Health { window, ..Health::default() };
    health.hourly = (0..hours).map(|i| HourCounts { hour: from + i * 3600, ..HourCounts::default() }).collect();
    let (mut failed, mut callback, mut token, mut offsets) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::<String, i64>::new());
    for (hour, metric, label, n) in state.store.health_counts(app, from).await? {
        // Rows start at `from`, one hour apart.
        let Some(slot) = usize::try_from((hour - from) / 3600).ok().and_then(|i| health.hourly.get_mut(i)) else { continue };
        match metric.as_str() {
            STARTED => slot.started += n,
            SUCCEEDED => slot.succeeded += n,
            FAILED => {
                slot.failed += n;
                *failed.entry(label).or_insert(0) += n;
            }
            CALLBACK_MS => *callback.entry(label).or_insert(0) += n,
            TOKEN_MS => *token.entry(label).or_insert(0) += n,
            CLOCK_OFFSET => *offsets.entry(label).or_insert(0) += n,
            JWKS_FETCHES => health.jwks_fetches += n,
            JWKS_FAILURES => health.jwks_fetch_failures += n,
            _ => {}
        }
    }
    health.started = health.hourly.iter().map(|h| h.started).sum();
    health.succeeded = health.hourly.iter().map(|h| h.succeeded).sum();
    health.failed = health.hourly.iter().map(|h| h.failed).sum();
    let mut by_code: Vec<(String, i64)> = failed.into_iter().collect();
    by_code.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    health.failed_by_code = by_code;
    let completed = health.succeeded + health.failed;
    health.success_rate = (completed > 0).then(|| health.succeeded as f64 / completed as f64);
    (health.callback_p50_ms, health.callback_p95_ms) = (quantile_ms(&callback, 0.5), quantile_ms(&callback, 0.95));
    (health.token_endpoint_p50_ms, health.token_endpoint_p95_ms) = (quantile_ms(&token, 0.5), quantile_ms(&token, 0.95));
    let order = |label: &str| label.parse::<i64>().map_or(usize::MAX, |b| OFFSET_BUCKETS_S.iter().position(|x| *x == b).unwrap_or(usize::MAX - 1));
    let mut offsets: Vec<(String, i64)> = offsets.into_iter().collect();
    offsets.sort_by_key(|(label, _)| order(label));
    health.clock_offsets = offsets;
    health.notices = state.store.idm_notices(app, from).await?;
    Ok(health)
}
