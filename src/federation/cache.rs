//! Opened connectors per app and configuration version. A partner's edit takes effect at
//! the next login without a restart, and a login started before the edit finishes with
//! the connector of the version it started with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::connector::Connector;
use crate::domain::ids::AppId;

/// Versions kept open per app: the current one and those that logins still in flight
/// (at most ten minutes old) may have started with.
const VERSIONS_KEPT: usize = 3;

#[derive(Default)]
pub struct ConnectorCache {
    open: Mutex<HashMap<AppId, Vec<Arc<dyn Connector>>>>,
}

impl ConnectorCache {
    /// The connector for `app` opened from configuration `version`, if it is open.
    pub fn get(&self, app: AppId, version: i64) -> Option<Arc<dyn Connector>> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&app)?.iter().find(|c| c.config_version() == version).cloned()
    }

    /// The newest configuration version open for `app`: what a CTA tries first. Whether it
    /// is still current is checked by the flow's write (`Store::insert_flow`).
    pub fn newest(&self, app: AppId) -> Option<Arc<dyn Connector>> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&app)?.first().cloned()
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
}
