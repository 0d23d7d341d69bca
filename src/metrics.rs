//! Prometheus metrics: requests, SSO outcomes by error code, latencies, JWKS fetches.
//! One registry per application (no process-wide statics), served at `/metrics` by `web`.

use std::time::Duration;

use prometheus::{Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};


pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_seconds: HistogramVec,
    pub sso_started: IntCounter,
    /// Valid back-channel logout tokens acted on.
    pub backchannel_logouts: IntCounter,
    pub sso_outcomes: IntCounterVec,
    pub sso_callback_seconds: Histogram,
    pub token_endpoint_seconds: Histogram,
    pub jwks_fetches: IntCounter,
}

/// Buckets from 1 ms to 10 s: a login's callback sits between the two.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("causeway".into()), None)?;
        let histogram = |name: &str, help: &str| HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
        let metrics = Self {
            http_requests: IntCounterVec::new(Opts::new("http_requests_total", "HTTP requests by method and status"), &["method", "status"])?,
            http_seconds: HistogramVec::new(histogram("http_request_seconds", "HTTP request latency by route family"), &["family"])?,
            sso_started: IntCounter::new("sso_logins_started_total", "SSO logins sent to a partner IdM")?,
            backchannel_logouts: IntCounter::new("sso_backchannel_logouts_total", "Back-channel logout tokens from partner IdMs acted on")?,
            sso_outcomes: IntCounterVec::new(Opts::new("sso_logins_total", "SSO attempts by outcome and error code: completed callbacks, and sign-ins refused at the CTA"), &["outcome", "error_code"])?,
            sso_callback_seconds: Histogram::with_opts(histogram("sso_callback_seconds", "Latency of the SSO callback"))?,
            token_endpoint_seconds: Histogram::with_opts(histogram("idm_token_endpoint_seconds", "Latency of partner IdM token endpoints"))?,
            jwks_fetches: IntCounter::new("jwks_fetches_total", "JWKS documents fetched from partner IdMs")?,
            registry,
        };
        metrics.registry.register(Box::new(metrics.http_requests.clone()))?;
        metrics.registry.register(Box::new(metrics.http_seconds.clone()))?;
        metrics.registry.register(Box::new(metrics.sso_started.clone()))?;
        metrics.registry.register(Box::new(metrics.backchannel_logouts.clone()))?;
        metrics.registry.register(Box::new(metrics.sso_outcomes.clone()))?;
        metrics.registry.register(Box::new(metrics.sso_callback_seconds.clone()))?;
        metrics.registry.register(Box::new(metrics.token_endpoint_seconds.clone()))?;
        metrics.registry.register(Box::new(metrics.jwks_fetches.clone()))?;
        Ok(metrics)
    }

    pub fn observe_request(&self, method: &str, path: &str, status: u16, elapsed: Duration) {
        // Labels come from closed sets only: paths carry ids, and a client may send any
        // method name it likes; either would grow the series without bound.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        let status = if (100..600).contains(&status) { status } else { 0 };
        self.http_requests.with_label_values(&[method, &status.to_string()]).inc();
        let family = path.trim_start_matches('/').split('/').next().unwrap_or_default();
        let family = match family {
            "sso" | "merchant-center" | "partner-center" | "partner" | "legal_entities" | "accounts" => family,
            _ => "other",
        };
        self.http_seconds.with_label_values(&[family]).observe(elapsed.as_secs_f64());
    }

    pub fn render(&self, jwks_fetched: u64) -> String {
        // The JWKS cache counts its own fetches; mirror the total before encoding.
        let seen = self.jwks_fetches.get();
        if jwks_fetched > seen {
            self.jwks_fetches.inc_by(jwks_fetched - seen);
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
