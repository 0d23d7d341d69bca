//! Per-app cache of IdM signing keys, indexed by `kid`.
//!
//! Follows key rotation (an unknown `kid` triggers one refetch) without letting a flood
//! of forged tokens turn Causeway against the IdM: forced refetches are rate-limited per
//! app, unknown kids are remembered for a while, and one fetch at a time runs per app.
//! A key that disappears from the JWKS stops being accepted at the next fetch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use super::http::{DOCUMENT_CAP_BYTES, FetchError, OutboundClient};
use super::oidc::jws::VerifyingKey;
use crate::domain::ids::AppId;

#[derive(Clone, Copy, Debug)]
pub struct JwksPolicy {
    /// Keys older than this are refetched before use.
    pub ttl: Duration,
    /// At most one forced refetch (unknown kid, bad signature) per app in this interval.
    pub min_refetch_interval: Duration,
    /// How long a kid that stayed unknown after a refetch is answered from memory.
    pub unknown_kid_ttl: Duration,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        Self { ttl: Duration::from_secs(3600), min_refetch_interval: Duration::from_secs(10), unknown_kid_ttl: Duration::from_secs(60) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("no key with this kid in the JWKS, even after refetching it")]
    KidUnknownAfterRefresh,
    #[error("the JWKS could not be fetched: {0}")]
    Fetch(#[from] FetchError),
    #[error("the JWKS is not a JWK Set")]
    NotAKeySet,
}

#[derive(Default)]
struct AppKeys {
    jwks_uri: Option<Url>,
    keys: Vec<Arc<VerifyingKey>>,
    fetched_at: Option<Instant>,
    last_forced: Option<Instant>,
    unknown: HashMap<String, Instant>,
}

impl AppKeys {
    fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)).cloned(),
            // Without a kid, only an unambiguous set will do.
            None if self.keys.len() == 1 => self.keys.first().cloned(),
            None => None,
        }
    }
}

pub struct JwksCache {
    policy: JwksPolicy,
    apps: Mutex<HashMap<AppId, Arc<tokio::sync::Mutex<AppKeys>>>>,
    fetches: AtomicU64,
    /// Fetches and failed fetches per app since the last `take_counts` (sign-in health).
    per_app: Mutex<HashMap<AppId, (u64, u64)>>,
}

impl JwksCache {
    pub fn new(policy: JwksPolicy) -> Self {
        Self { policy, apps: Mutex::new(HashMap::new()), fetches: AtomicU64::new(0), per_app: Mutex::new(HashMap::new()) }
    }

    /// Forgets `app`'s keys: the next login fetches the JWKS again (the monitor saw it change).
    pub fn forget(&self, app: AppId) {
        self.apps.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&app);
    }

    /// (app, fetches, failed fetches) since the last call.
    pub fn take_counts(&self) -> Vec<(AppId, u64, u64)> {
        let taken = std::mem::take(&mut *self.per_app.lock().unwrap_or_else(|p| p.into_inner()));
        taken.into_iter().map(|(app, (fetched, failed))| (app, fetched, failed)).collect()
    }

    /// JWKS documents fetched so far (for metrics and tests).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn slot(&self, app: AppId) -> Arc<tokio::sync::Mutex<AppKeys>> {
        let mut apps = self.apps.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        apps.entry(app).or_default().clone()
    }

    async fn fetch(&self, app: AppId, client: &OutboundClient, uri: &Url, state: &mut AppKeys) -> Result<(), JwksError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = Self::read(client, uri, state).await;
        let mut per_app = self.per_app.lock().unwrap_or_else(|p| p.into_inner());
        let counts = per_app.entry(app).or_default();
        counts.0 += 1;
        counts.1 += u64::from(result.is_err());
        result
    }

    async fn read(client: &OutboundClient, uri: &Url, state: &mut AppKeys) -> Result<(), JwksError> {
        let doc = client.get_json(uri, DOCUMENT_CAP_BYTES).await?;
        let keys = doc.get("keys").and_then(Value::as_array).ok_or(JwksError::NotAKeySet)?;
        state.keys = keys.iter().filter_map(VerifyingKey::from_jwk).map(Arc::new).collect();
        state.fetched_at = Some(Instant::now());
        state.unknown.clear();
        Ok(())
    }

    /// The key to verify a token signed with `kid`, fetching or refetching the JWKS as
    /// the policy allows. Nothing is fetched when the cache is warm and knows the kid.
    pub async fn key(&self, app: AppId, jwks_uri: &Url, kid: Option<&str>, client: &OutboundClient) -> Result<Arc<VerifyingKey>, JwksError> {
        let slot = self.slot(app);
        let mut state = slot.lock().await;
        if state.jwks_uri.as_ref() != Some(jwks_uri) {
            // The partner changed its configuration: forget keys of the old JWKS.
            *state = AppKeys { jwks_uri: Some(jwks_uri.clone()), ..AppKeys::default() };
        }
        let stale = state.fetched_at.is_none_or(|at| at.elapsed() >= self.policy.ttl);
        if stale
            && let Err(err) = self.fetch(app, client, jwks_uri, &mut state).await {
                // Keep serving the keys we have while the IdM is briefly unreachable.
                if state.keys.is_empty() {
                    return Err(err);
                }
                tracing::warn!(%app, error = %err, "JWKS refresh failed; using the cached keys");
            }
        if let Some(key) = state.find(kid) {
            return Ok(key);
        }
        self.refetch_once(app, client, &mut state, kid).await
    }

    /// Called when a signature failed under a known kid: some IdMs reuse a kid for new
    /// key material. Returns the refetched key if it differs from `tried`.
    pub async fn key_after_bad_signature(
        &self,
        app: AppId,
        jwks_uri: &Url,
        kid: Option<&str>,
        tried: &VerifyingKey,
        client: &OutboundClient,
    ) -> Option<Arc<VerifyingKey>> {
        let slot = self.slot(app);
        let mut state = slot.lock().await;
        if state.jwks_uri.as_ref() != Some(jwks_uri) {
            return None;
        }
        let key = self.refetch_once(app, client, &mut state, kid).await.ok()?;
        (key.as_ref() != tried).then_some(key)
    }

    async fn refetch_once(&self, app: AppId, client: &OutboundClient, state: &mut AppKeys, kid: Option<&str>) -> Result<Arc<VerifyingKey>, JwksError> {
        let kid_key = kid.unwrap_or_default().to_owned();
        if state.unknown.get(&kid_key).is_some_and(|at| at.elapsed() < self.policy.unknown_kid_ttl) {
            return Err(JwksError::KidUnknownAfterRefresh);
        }
        let allowed = state.last_forced.is_none_or(|at| at.elapsed() >= self.policy.min_refetch_interval);
        if allowed {
            state.last_forced = Some(Instant::now());
            if let Some(uri) = state.jwks_uri.clone() {
                self.fetch(app, client, &uri, state).await?;
            }
            if let Some(key) = state.find(kid) {
                return Ok(key);
            }
        }
        state.unknown.insert(kid_key, Instant::now());
        Err(JwksError::KidUnknownAfterRefresh)
    }
}
