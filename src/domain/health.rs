//! Sign-in health (contract, "Go-live and health"): what is counted per app and hour, the
//! latency buckets, and the figures a window of counts gives.

use std::collections::BTreeMap;

/// Upper bounds of the latency buckets, in milliseconds; a last bucket takes the rest.
pub const LATENCY_BUCKETS_MS: [u64; 10] = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
/// Upper bounds of the clock-offset buckets, in seconds (Causeway's clock minus `iat`).
pub const OFFSET_BUCKETS_S: [i64; 9] = [-300, -60, -10, -2, 2, 10, 60, 300, 3600];

pub const STARTED: &str = "started";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const CALLBACK_MS: &str = "callback_ms";
pub const TOKEN_MS: &str = "token_ms";
pub const CLOCK_OFFSET: &str = "clock_offset";
pub const JWKS_FETCHES: &str = "jwks_fetches";
pub const JWKS_FAILURES: &str = "jwks_failures";

/// The hour (Unix time of its start) that `at` falls in.
pub fn hour_of(at: i64) -> i64 {
    at - at.rem_euclid(3600)
}

/// The bucket label of a latency: its upper bound, or `+Inf`.
pub fn latency_bucket(ms: u64) -> String {
    LATENCY_BUCKETS_MS.iter().find(|b| ms <= **b).map_or_else(|| "+Inf".to_owned(), u64::to_string)
}

pub fn offset_bucket(seconds: i64) -> String {
    OFFSET_BUCKETS_S.iter().find(|b| seconds <= **b).map_or_else(|| "+Inf".to_owned(), i64::to_string)
}

/// The bound of the bucket holding the `q`-quantile of `counts` (label → n), or `None`
/// without any count: an upper estimate, as with Prometheus histograms.
pub fn quantile_ms(counts: &BTreeMap<String, i64>, q: f64) -> Option<u64> {
    let total: i64 = counts.values().sum();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for bound in LATENCY_BUCKETS_MS {
        seen += counts.get(&bound.to_string()).copied().unwrap_or(0);
        if seen >= rank {
            return Some(bound);
        }
    }
    Some(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_quantiles() {
        assert_eq!((latency_bucket(0), latency_bucket(25), latency_bucket(26), latency_bucket(40_000)), ("25".into(), "25".into(), "50".into(), "+Inf".into()));
        assert_eq!((offset_bucket(-400), offset_bucket(0), offset_bucket(4000)), ("-300".into(), "2".into(), "+Inf".into()));
        let counts: BTreeMap<String, i64> = [("25".to_owned(), 90), ("500".to_owned(), 9), ("5000".to_owned(), 1)].into();
        assert_eq!((quantile_ms(&counts, 0.5), quantile_ms(&counts, 0.95), quantile_ms(&counts, 1.0)), (Some(25), Some(500), Some(5000)));
        assert_eq!(quantile_ms(&BTreeMap::new(), 0.5), None);
        assert_eq!(hour_of(7_205), 7_200);
    }
}
