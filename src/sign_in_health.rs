//! Sign-in health counted in memory on the request path (a lock and a map entry, no
//! statement), and added to the database every few seconds by `services::health::flush`,
//! where every replica's counts meet.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::health::{hour_of, latency_bucket, offset_bucket, CALLBACK_MS, CLOCK_OFFSET, FAILED, JWKS_FAILURES, JWKS_FETCHES, STARTED, SUCCEEDED, TOKEN_MS};
use crate::domain::ids::AppId;
use crate::store::health::HealthCount;

type Key = (AppId, i64, &'static str, String);

#[derive(Default)]
pub struct Recorder {
    pending: Mutex<HashMap<Key, i64>>,
}

impl Recorder {
    fn add(&self, app: AppId, now: i64, metric: &'static str, label: String) {
        self.add_n(app, now, metric, label, 1);
    }

    fn add_n(&self, app: AppId, now: i64, metric: &'static str, label: String, n: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending.entry((app, hour_of(now), metric, label)).or_default() += n;
    }

    pub fn started(&self, app: AppId, now: i64) {
        self.add(app, now, STARTED, String::new());
    }

    pub fn succeeded(&self, app: AppId, now: i64) {
        self.add(app, now, SUCCEEDED, String::new());
    }

    pub fn failed(&self, app: AppId, now: i64, code: &str) {
        self.add(app, now, FAILED, code.to_owned());
    }

    pub fn callback(&self, app: AppId, now: i64, ms: u64) {
        self.add(app, now, CALLBACK_MS, latency_bucket(ms));
    }

    pub fn token_endpoint(&self, app: AppId, now: i64, ms: u64) {
        self.add(app, now, TOKEN_MS, latency_bucket(ms));
    }

    /// Causeway's clock minus the IdM's `iat`, in seconds.
    pub fn clock_offset(&self, app: AppId, now: i64, seconds: i64) {
        self.add(app, now, CLOCK_OFFSET, offset_bucket(seconds));
    }

    /// JWKS documents fetched for `app`, and how many of those fetches failed.
    pub fn jwks(&self, app: AppId, now: i64, fetched: u64, failed: u64) {
        self.add_n(app, now, JWKS_FETCHES, String::new(), fetched as i64);
        if failed > 0 {
            self.add_n(app, now, JWKS_FAILURES, String::new(), failed as i64);
        }
    }

    /// Everything counted since the last take.
    pub fn take(&self) -> Vec<HealthCount> {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        taken.into_iter().map(|((app_id, hour, metric, label), n)| HealthCount { app_id, hour, metric, label, n }).collect()
    }

    /// Counts a failed flush could not write, put back for the next one.
    pub fn give_back(&self, counts: Vec<HealthCount>) {
        for c in counts {
            self.add_n(c.app_id, c.hour, c.metric, c.label, c.n);
        }
    }
}
