//! How long browser sessions (Partner Center, Merchant Center) live.

/// Idle and absolute lifetimes of a session, in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub idle: i64,
    pub absolute: i64,
    /// How stale `last_seen_at` may get before a request refreshes it: writing it on
    /// every page view would turn each read into a write.
    pub touch_after: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Valid; record the activity.
    Touch,
    Expired,
}

impl Lifetimes {
    pub fn judge(&self, now: i64, last_seen_at: i64, expires_at: i64) -> Freshness {
        if now >= expires_at || now.saturating_sub(last_seen_at) >= self.idle {
            Freshness::Expired
        } else if now.saturating_sub(last_seen_at) >= self.touch_after {
            Freshness::Touch
        } else {
            Freshness::Fresh
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        let l = Lifetimes { idle: 1800, absolute: 43200, touch_after: 60 };
        let start = 1_000_000;
        let expires = start + l.absolute;
        assert_eq!(l.judge(start + 10, start, expires), Freshness::Fresh);
        assert_eq!(l.judge(start + 61, start, expires), Freshness::Touch);
        assert_eq!(l.judge(start + 1800, start, expires), Freshness::Expired);
        // Active all along, but past the absolute lifetime.
        assert_eq!(l.judge(expires, expires - 5, expires), Freshness::Expired);
    }
}
