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

/// Hits in the last `WINDOW_SECONDS`, estimated from fixed windows: the current one's, plus
/// the previous one's in proportion to how much of it the sliding window still covers,
/// rounded up (a burst just before a boundary still counts whole just after it).
fn sliding_hits(counted: Option<(i64, i64, i64)>, now: i64) -> i64 {
    let current = window(now);
    let covered = WINDOW_SECONDS - (now - current);
    let share = |hits: i64| (hits * covered + WINDOW_SECONDS - 1) / WINDOW_SECONDS;
    match counted {
        Some((start, hits, previous)) if start == current => hits + share(previous),
        Some((start, hits, _)) if start == current - WINDOW_SECONDS => share(hits),
        _ => 0,
    }
}

/// Seconds until the estimate for `counted` drops below `limit`, from `now`.
fn wait(counted: Option<(i64, i64, i64)>, limit: i64, now: i64) -> i64 {
    (1..=2 * WINDOW_SECONDS).find(|t| sliding_hits(counted, now + t) < limit).unwrap_or(2 * WINDOW_SECONDS)
}

/// Seconds until a sign-in for `app_id` from `ip` may be tried again, when a budget is spent.
pub async fn blocked_for(state: &AppState, app_id: &str, ip: IpAddr) -> Result<Option<i64>, ServiceError> {
    let now = state.clock.now();
    let [pair, address] = keys(app_id, ip);
    let [pair_counts, address_counts] = state.store.throttle_counts([&pair, &address]).await?;
    let waits = [(pair_counts, PER_APP_AND_ADDRESS), (address_counts, PER_ADDRESS)]
        .into_iter()
        .filter(|(counted, limit)| sliding_hits(*counted, now) >= *limit)
        .map(|(counted, limit)| wait(counted, limit, now));
    Ok(waits.max())
}

pub async fn record_failure(state: &AppState, app_id: &str, ip: IpAddr) -> Result<(), ServiceError> {
    let start = window(state.clock.now());
    for key in keys(app_id, ip) {
        state.store.throttle_hit(&key, start, WINDOW_SECONDS).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_across_a_window_boundary_still_counts() {
        let boundary = 10 * WINDOW_SECONDS;
        // Ten failures just before the boundary, checked just after it: still spent.
        let counted = Some((boundary - WINDOW_SECONDS, 10, 0));
        assert_eq!(sliding_hits(counted, boundary + 2), 10);
        // The same ten, as the previous window, weigh less as the window slides on.
        let later = Some((boundary, 3, 10));
        assert_eq!(sliding_hits(later, boundary + WINDOW_SECONDS / 2), 3 + 5);
        // How long to wait: until one of them has slid out (a tenth of the window).
        assert_eq!(wait(counted, PER_APP_AND_ADDRESS, boundary + 2), WINDOW_SECONDS / 10 - 2);
        // Two windows back counts nothing.
        assert_eq!(sliding_hits(Some((boundary - 2 * WINDOW_SECONDS, 50, 50)), boundary), 0);
    }
}
