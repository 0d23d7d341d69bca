//! In-process rate limits (GCRA via `governor`): the API quota per app, so one noisy
//! partner cannot starve others, and the pace of sign-in starts (CTAs) per client address,
//! per browser and per app, so anonymous clicks cannot fill the database with flows.
//!
//! Replicas sharing one PostgreSQL database announce themselves (`store::replicas`), and
//! each enforces its share of the configured quota: the sum across replicas is the
//! configured budget when a load balancer spreads requests.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::ids::AppId;

/// Whole seconds to wait, rounded up.
fn seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// A keyed limiter whose quota is split among the live replicas.
struct Shared<K: Hash + Eq + Clone> {
    /// One more request is allowed every `period`, up to `burst` at once.
    period: Duration,
    burst: NonZeroU32,
    /// (replicas sharing the quota, the limiter built for that share)
    current: RwLock<(u32, DefaultKeyedRateLimiter<K>)>,
}

fn share(total: NonZeroU32, replicas: u32) -> NonZeroU32 {
    NonZeroU32::new(total.get().div_ceil(replicas.max(1))).unwrap_or(NonZeroU32::MIN)
}

impl<K: Hash + Eq + Clone> Shared<K> {
    fn new(per: Duration, count: NonZeroU32, burst: NonZeroU32) -> Self {
        let period = per / count.get();
        Self { period, burst, current: RwLock::new((1, Self::build(period, burst, 1))) }
    }

    fn build(period: Duration, burst: NonZeroU32, replicas: u32) -> DefaultKeyedRateLimiter<K> {
        let quota = Quota::with_period(period * replicas.max(1)).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
        RateLimiter::keyed(quota.allow_burst(share(burst, replicas)))
    }

    fn share_among(&self, replicas: u32) {
        let replicas = replicas.max(1);
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if current.0 != replicas {
            *current = (replicas, Self::build(self.period, self.burst, replicas));
        }
    }

    fn check(&self, key: &K, clock: &DefaultClock) -> Result<(), u64> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.1.check_key(key).map_err(|not_until| seconds(not_until.wait_time_from(clock.now())))
    }

    fn prune(&self) {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.1.retain_recent();
    }
}

pub struct AppRateLimiter {
    apps: Shared<AppId>,
    failed_auth: FailedAuth,
    clock: DefaultClock,
}

/// Failed authentications per client address, in fixed one-minute windows: once an
/// address has spent its budget, its calls are refused before any lookup until the
/// window ends.
struct FailedAuth {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

const MINUTE: Duration = Duration::from_secs(60);

impl AppRateLimiter {
    /// `failed_per_minute`: failed authentications one client address may make per minute
    /// (tokens are 256 random bits: this bounds what a guesser costs, not its chances).
    /// Keyed by address only: keyed by App-Id, anyone could lock a partner's integration out.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32, failed_per_minute: NonZeroU32) -> Self {
        Self {
            apps: Shared::new(Duration::from_secs(1), per_second, burst),
            failed_auth: FailedAuth { per_minute: failed_per_minute.get(), windows: Mutex::new(HashMap::new()) },
            clock: DefaultClock::default(),
        }
    }

    /// Seconds `address` must still wait, once it has spent its failed-authentication budget.
    pub fn auth_blocked(&self, address: IpAddr) -> Option<u64> {
        let windows = self.failed_auth.windows.lock().unwrap_or_else(|p| p.into_inner());
        let (start, failures) = *windows.get(&address)?;
        let left = MINUTE.checked_sub(start.elapsed())?;
        (failures >= self.failed_auth.per_minute).then(|| seconds(left))
    }

    /// Counts a failed authentication from `address`.
    pub fn auth_failed(&self, address: IpAddr) {
        let mut windows = self.failed_auth.windows.lock().unwrap_or_else(|p| p.into_inner());
        let window = windows.entry(address).or_insert((Instant::now(), 0));
        if window.0.elapsed() >= MINUTE {
            *window = (Instant::now(), 0);
        }
        window.1 = window.1.saturating_add(1);
    }

    /// Forgets windows that have ended (a map keyed by address grows otherwise).
    pub fn prune(&self) {
        self.failed_auth.windows.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, (start, _)| start.elapsed() < MINUTE);
    }

    /// `Ok` when the call fits the app's quota, else the whole seconds to wait.
    pub fn check(&self, app: AppId) -> Result<(), u64> {
        self.apps.check(&app, &self.clock)
    }

    pub fn share_among(&self, replicas: u32) {
        self.apps.share_among(replicas);
    }
}

/// How fast sign-ins may start.
#[derive(Clone, Copy, Debug)]
pub struct CtaRates {
    /// Per client address and per browser, sustained and burst alike.
    pub per_minute: NonZeroU32,
    pub per_app_per_second: NonZeroU32,
}

pub struct CtaLimiter {
    addresses: Shared<IpAddr>,
    browsers: Shared<String>,
    apps: Shared<AppId>,
    /// Callbacks that match no login of this app (anyone can make them up), as written to
    /// the app's event log.
    unmatched_events: Shared<AppId>,
    clock: DefaultClock,
}

/// Made-up callbacks an app's event log records per minute; the metric counts them all.
const UNMATCHED_EVENTS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).unwrap();

impl CtaLimiter {
    pub fn new(rates: CtaRates) -> Self {
        // A minute's budget may be spent at once; it refills evenly over the minute.
        let minute = Duration::from_secs(60);
        let app_burst = rates.per_app_per_second.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
        Self {
            addresses: Shared::new(minute, rates.per_minute, rates.per_minute),
            browsers: Shared::new(minute, rates.per_minute, rates.per_minute),
            apps: Shared::new(Duration::from_secs(1), rates.per_app_per_second, app_burst),
            unmatched_events: Shared::new(minute, UNMATCHED_EVENTS_PER_MINUTE, UNMATCHED_EVENTS_PER_MINUTE),
            clock: DefaultClock::default(),
        }
    }

    /// Whether a callback that matched none of `app`'s logins may still go to its event
    /// log: a flood of them must not push the partner's real events out.
    pub fn may_log_unmatched(&self, app: AppId) -> bool {
        self.unmatched_events.check(&app, &self.clock).is_ok()
    }

    /// `Ok` when a sign-in may start for `app` from `address` in `browser` (the hash of its
    /// binding cookie, `None` for a browser without one yet), else the seconds to wait.
    pub fn check(&self, app: AppId, address: IpAddr, browser: Option<&str>) -> Result<(), u64> {
        self.addresses.check(&address, &self.clock)?;
        if let Some(browser) = browser {
            self.browsers.check(&browser.to_owned(), &self.clock)?;
        }
        self.apps.check(&app, &self.clock)
    }

    pub fn share_among(&self, replicas: u32) {
        self.addresses.share_among(replicas);
        self.browsers.share_among(replicas);
        self.apps.share_among(replicas);
        self.unmatched_events.share_among(replicas);
    }

    /// Forgets keys whose budget is full again (a limiter keyed by address grows otherwise).
    pub fn prune(&self) {
        self.addresses.prune();
        self.browsers.prune();
        self.apps.prune();
        self.unmatched_events.prune();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_app_has_its_own_budget() {
        let limiter = AppRateLimiter::new(NonZeroU32::new(1).unwrap(), NonZeroU32::new(2).unwrap(), NonZeroU32::MIN);
        let (a, b) = (AppId::new(), AppId::new());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        let wait = limiter.check(a).unwrap_err();
        assert!(wait >= 1);
        assert!(limiter.check(b).is_ok());
    }

    #[test]
    fn replicas_share_the_quota() {
        let limiter = AppRateLimiter::new(NonZeroU32::new(10).unwrap(), NonZeroU32::new(10).unwrap(), NonZeroU32::MIN);
        limiter.share_among(2);
        let app = AppId::new();
        let allowed = (0..10).filter(|_| limiter.check(app).is_ok()).count();
        assert_eq!(allowed, 5, "half the burst for each of two replicas");
        assert_eq!(share(NonZeroU32::new(3).unwrap(), 2).get(), 2, "rounded up");
        assert_eq!(share(NonZeroU32::new(1).unwrap(), 8).get(), 1, "never zero");
    }

    #[test]
    fn sign_ins_are_paced_per_address_browser_and_app() {
        let limiter = CtaLimiter::new(CtaRates { per_minute: NonZeroU32::new(5).unwrap(), per_app_per_second: NonZeroU32::new(100).unwrap() });
        let app = AppId::new();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert_eq!((0..8).filter(|_| limiter.check(app, a, None).is_ok()).count(), 5);
        assert!(limiter.check(app, a, None).unwrap_err() >= 1);
        assert!(limiter.check(app, b, Some("browser-1")).is_ok(), "another address");
        let c: IpAddr = "192.0.2.3".parse().unwrap();
        // One browser hopping addresses is held by its own budget.
        let hops = (0..8).filter(|i| limiter.check(app, IpAddr::from([198, 51, 100, *i as u8]), Some("browser-1")).is_ok()).count();
        assert_eq!(hops, 4, "the browser had used one of its five");
        assert!(limiter.check(app, c, Some("browser-2")).is_ok());
    }
}
