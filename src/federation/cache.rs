//! Opened connectors per app, reopened when the partner's configuration version changes,
//! so a partner's edit takes effect at the next login without a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::oidc::connector::Connector;
use crate::domain::ids::AppId;

#[derive(Default)]
pub struct ConnectorCache {
    open: Mutex<HashMap<AppId, Arc<Connector>>>,
}

impl ConnectorCache {
    /// The connector for `app` if it was opened from configuration `version`.
    pub fn get(&self, app: AppId, version: i64) -> Option<Arc<Connector>> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&app).filter(|c| c.config_version == version).cloned()
    }

    pub fn put(&self, app: AppId, connector: Connector) -> Arc<Connector> {
        let connector = Arc::new(connector);
        self.open.lock().unwrap_or_else(|p| p.into_inner()).insert(app, connector.clone());
        connector
    }
}
