//! Limits failed sign-ins per client address, so App-Tokens cannot be guessed at speed
//! (they are 256-bit random, so this is about load and noise more than odds).
//!
//! Per process: with several replicas each keeps its own count. Behind a proxy every
//! client shares the proxy's address; the limit is generous enough for that.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Failed attempts allowed per address and window.
const MAX_FAILURES: u32 = 10;
/// Window length in seconds; once it is used up, the address waits until it ends.
const WINDOW_SECONDS: i64 = 15 * 60;
/// Entries kept before expired windows are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Clone, Copy)]
struct Window {
    started: i64,
    failures: u32,
}

#[derive(Default)]
pub struct SignInThrottle {
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl SignInThrottle {
    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        // A panic elsewhere while holding the lock leaves plain counters behind: still usable.
        self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Seconds until `ip` may try again, when it has used up its failures.
    pub fn blocked_for(&self, ip: IpAddr, now: i64) -> Option<i64> {
        let window = *self.windows().get(&ip)?;
        let ends = window.started + WINDOW_SECONDS;
        (window.failures >= MAX_FAILURES && now < ends).then_some(ends - now)
    }

    pub fn record_failure(&self, ip: IpAddr, now: i64) {
        let mut windows = self.windows();
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, w| now < w.started + WINDOW_SECONDS);
        }
        let window = windows.entry(ip).or_insert(Window { started: now, failures: 0 });
        if now >= window.started + WINDOW_SECONDS {
            *window = Window { started: now, failures: 0 };
        }
        window.failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_allowed_failures_until_the_window_ends() {
        let throttle = SignInThrottle::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..MAX_FAILURES - 1 {
            throttle.record_failure(a, 1000);
        }
        assert_eq!(throttle.blocked_for(a, 1000), None);
        throttle.record_failure(a, 1001);
        assert_eq!(throttle.blocked_for(a, 1001), Some(WINDOW_SECONDS - 1));
        assert_eq!(throttle.blocked_for(b, 1001), None);
        assert_eq!(throttle.blocked_for(a, 1000 + WINDOW_SECONDS), None);
        throttle.record_failure(a, 1000 + WINDOW_SECONDS);
        assert_eq!(throttle.blocked_for(a, 1000 + WINDOW_SECONDS), None);
    }
}
