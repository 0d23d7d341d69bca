//! Opened connectors per app and configuration version. A partner's edit takes effect at
//! the next login without a restart, and a login started before the edit finishes with
//! the connector of the version it started with. Opening one (OIDC: reading discovery)
//! happens once at a time per version, and a failure is remembered briefly, so an IdM that
//! is down is not asked again by every merchant who clicks meanwhile.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::connector::{Connector, FederationError};
use crate::domain::ids::AppId;

/// How long a failure to open a connector is answered from memory. Short: an IdM back
/// up is used within seconds, without a restart.
pub const FAILURE_KEPT: Duration = Duration::from_secs(5);

type Version = (AppId, i64);

/// Versions kept open per app: the current one and those that logins still in flight
/// (at most ten minutes old) may have started with.
const VERSIONS_KEPT: usize = 3;

#[derive(Default)]
pub struct ConnectorCache {
    open: Mutex<HashMap<AppId, Vec<Arc<dyn Connector>>>>,
    /// One opening at a time per version: the others wait for its outcome.
    opening: Mutex<HashMap<Version, Arc<tokio::sync::Mutex<()>>>>,
    failed: Mutex<HashMap<Version, (Instant, FederationError)>>,
}

impl ConnectorCache {
    /// The connector for `app` opened from configuration `version`, if it is open.
    pub fn get(&self, app: AppId, version: i64) -> Option<Arc<dyn Connector>> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&app)?.iter().find(|c| c.config_version() == version).cloned()
    }

    pub fn put(&self, app: AppId, connector: Arc<dyn Connector>) -> Arc<dyn Connector> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let versions = open.entry(app).or_default();
        versions.retain(|c| c.config_version() != connector.config_version());
        versions.push(connector.clone());
        // Newest versions first; the oldest fall out.
        versions.sort_by_key(|c| std::cmp::Reverse(c.config_version()));
        versions.truncate(VERSIONS_KEPT);
        connector
    }

    /// The connector of (`app`, `version`): the open one, the failure of an attempt less
    /// than `FAILURE_KEPT` ago, or what `open` gives — run by one caller at a time.
    pub async fn get_or_open<F, Fut>(&self, app: AppId, version: i64, open: F) -> Result<Arc<dyn Connector>, FederationError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<dyn Connector>, FederationError>>,
    {
        let gate = self.opening.lock().unwrap_or_else(|p| p.into_inner()).entry((app, version)).or_default().clone();
        let _turn = gate.lock().await;
        if let Some(connector) = self.get(app, version) {
            return Ok(connector);
        }
        if let Some(err) = self.recent_failure(app, version) {
            return Err(err);
        }
        let result = open().await;
        match &result {
            Ok(connector) => {
                self.put(app, connector.clone());
                self.failed.lock().unwrap_or_else(|p| p.into_inner()).remove(&(app, version));
            }
            Err(err) => {
                let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
                failed.retain(|_, (at, _)| at.elapsed() < FAILURE_KEPT);
                failed.insert((app, version), (Instant::now(), err.clone()));
            }
        }
        // Callers already waiting find the outcome above; later ones start afresh.
        self.opening.lock().unwrap_or_else(|p| p.into_inner()).remove(&(app, version));
        result
    }

    fn recent_failure(&self, app: AppId, version: i64) -> Option<FederationError> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.get(&(app, version)).filter(|(at, _)| at.elapsed() < FAILURE_KEPT).map(|(_, err)| err.clone())
    }
}
