//! The IdM monitor (contract, "Go-live and health"): on a schedule, each configured OpenID
//! provider's discovery and JWKS are read again, and what changed becomes a notice in the
//! app's health. With several replicas, the database row of each app is a lease: one
//! replica looks per period, not every one.

use futures_util::StreamExt;

use super::{idm, ServiceError};
use crate::domain::idm_config::ConnectorConfig;
use crate::domain::idm_monitor::{notices, Snapshot};
use crate::domain::ids::AppId;
use crate::federation::oidc::monitor;
use crate::state::AppState;

/// IdMs looked at at once, whatever their number.
const CONCURRENCY: usize = 4;

/// Looks at every app whose check is due; returns how many this replica looked at.
pub async fn check_due(state: &AppState) -> Result<usize, ServiceError> {
    let apps = state.store.monitored_apps().await?;
    let looked = futures_util::stream::iter(apps)
        .map(|app| async move {
            match check(state, app).await {
                Ok(looked) => looked,
                Err(err) => {
                    tracing::warn!(%app, error = ?err, "IdM monitor check failed");
                    false
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter(|looked| std::future::ready(*looked))
        .count()
        .await;
    Ok(looked)
}

async fn check(state: &AppState, app: AppId) -> Result<bool, ServiceError> {
    let now = state.clock.now();
    let Some((seen_version, seen)) = state.store.claim_idm_check(app, now, state.settings.idm_monitor_seconds as i64).await? else {
        return Ok(false);
    };
    let Some(current) = state.store.current_idm_version(app).await? else { return Ok(false) };
    let (ConnectorConfig::Oidc(config), _) = idm::opened(state, app, &current)? else {
        // A hosted login publishes no metadata to watch.
        return Ok(false);
    };
    let snapshot = monitor::look(&state.outbound, &config).await;
    // A new configuration starts a new baseline: comparing it with the old IdM would only
    // repeat what the partner just changed.
    let before: Option<Snapshot> = seen.filter(|_| seen_version == current.version).and_then(|json| serde_json::from_str(&json).ok());
    if let Some(before) = &before {
        for (kind, detail) in notices(before, &snapshot) {
            state.store.insert_idm_notice(app, now, kind, &detail).await?;
        }
        if before.kids != snapshot.kids && snapshot.unreachable.is_none() {
            state.jwks.forget(app);
        }
    }
    let json = serde_json::to_string(&snapshot).map_err(|e| ServiceError::Internal(e.into()))?;
    state.store.save_idm_snapshot(app, current.version, &json).await?;
    Ok(true)
}

/// Runs `check_due` about every `CAUSEWAY_IDM_MONITOR_SECONDS`, with up to a tenth of it as
/// jitter so that replicas started together do not look at the same moment.
pub async fn monitor_forever(state: AppState) {
    let period = state.settings.idm_monitor_seconds;
    if period == 0 {
        return;
    }
    loop {
        let jitter = (uuid::Uuid::new_v4().as_u128() % u128::from(period / 10 + 1)) as u64;
        tokio::time::sleep(std::time::Duration::from_secs(period + jitter)).await;
        if let Err(err) = check_due(&state).await {
            tracing::warn!(error = ?err, "IdM monitor round failed");
        }
    }
}
