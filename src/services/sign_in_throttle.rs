//! Failed Partner Center sign-ins, counted in the database so every replica sees the same
//! numbers: per (App-Id, client address), so that nobody can lock a partner out from
//! elsewhere, and per client address, so that one address cannot spray every App-Id.

use std::net::IpAddr;

use super::ServiceError;
use crate::state::AppState;

/// Failures allowed per window for one App-Id from one address…
pub const PER_APP_AND_ADDRESS: i64 = 10;
/// …and from one address over all App-Ids.
pub const PER_ADDRESS: i64 = 50;
/// Window length in seconds; once a budget is used up, it waits until the window ends.
pub const WINDOW_SECONDS: i64 = 15 * 60;

fn keys(app_id: &str, ip: IpAddr) -> [String; 2] {
    // The typed App-Id, bounded: it is whatever the form was sent with.
    let app: String = app_id.trim().to_ascii_lowercase().chars().take(64).collect();
    [format!("pc-sign-in:{app}:{ip}"), format!("pc-sign-in:*:{ip}")]
}

fn window(now: i64) -> i64 {
    now - now.rem_euclid(WINDOW_SECONDS)
}

/// Seconds until a sign-in for `app_id` from `ip` may be tried again, when a budget is spent.
pub async fn blocked_for(state: &AppState, app_id: &str, ip: IpAddr) -> Result<Option<i64>, ServiceError> {
    let now = state.clock.now();
    let [pair, address] = keys(app_id, ip);
    let [pair_hits, address_hits] = state.store.throttle_peak([&pair, &address], window(now)).await?;
    let blocked = pair_hits >= PER_APP_AND_ADDRESS || address_hits >= PER_ADDRESS;
    Ok(blocked.then(|| window(now) + WINDOW_SECONDS - now))
}

pub async fn record_failure(state: &AppState, app_id: &str, ip: IpAddr) -> Result<(), ServiceError> {
    let start = window(state.clock.now());
    for key in keys(app_id, ip) {
        state.store.throttle_hit(&key, start).await?;
    }
    Ok(())
}
