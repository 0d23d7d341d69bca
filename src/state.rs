use std::sync::Arc;

use crate::rate_limit::{AppRateLimiter, CtaLimiter};
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keyring::Keyring;
use crate::federation::cache::ConnectorCache;
use crate::federation::http::OutboundClient;
use crate::federation::jwks::JwksCache;
use crate::store::Store;
use crate::metrics::Metrics;

/// Everything a request handler or service may use, built once in `startup`.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    pub rate_limiter: Arc<AppRateLimiter>,
    pub cta_limiter: Arc<CtaLimiter>,
    pub keyring: Arc<Keyring>,
    pub outbound: OutboundClient,
    pub connectors: Arc<ConnectorCache>,
    pub jwks: Arc<JwksCache>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<crate::sign_in_health::Recorder>,
    pub recent_callers: Arc<crate::services::apps::RecentCallers>,
}
