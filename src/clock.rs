use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Source of "now" in Unix seconds (UTC). Tests pin it to exercise expiry rules
/// without sleeping.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    pinned: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { pinned: None }
    }

    pub fn pinned(at: i64) -> Self {
        Self { pinned: Some(Arc::new(AtomicI64::new(at))) }
    }

    pub fn now(&self) -> i64 {
        match &self.pinned {
            Some(at) => at.load(Ordering::Relaxed),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default(),
        }
    }

    /// Moves a pinned clock; a system clock ignores it.
    pub fn advance(&self, seconds: i64) {
        if let Some(at) = &self.pinned {
            at.fetch_add(seconds, Ordering::Relaxed);
        }
    }
}
