//! Per-app API quota (GCRA via `governor`), so one noisy partner cannot starve others.
//! The budget is per process: with several replicas each enforces its own share.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::ids::AppId;

pub struct AppRateLimiter {
    limiter: DefaultKeyedRateLimiter<AppId>,
    clock: DefaultClock,
}

impl AppRateLimiter {
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        Self { limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)), clock: DefaultClock::default() }
    }

    /// `Ok` when the call fits the app's quota, else the whole seconds to wait.
    pub fn check(&self, app: AppId) -> Result<(), u64> {
        self.limiter.check_key(&app).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_app_has_its_own_budget() {
        let limiter = AppRateLimiter::new(NonZeroU32::new(1).unwrap(), NonZeroU32::new(2).unwrap());
        let (a, b) = (AppId::new(), AppId::new());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        let wait = limiter.check(a).unwrap_err();
        assert!(wait >= 1);
        assert!(limiter.check(b).is_ok());
    }
}
