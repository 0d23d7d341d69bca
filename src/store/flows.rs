use super::error::{column, parsed};
use super::{Store, StoreError};
use crate::domain::app::AppStatus;
use crate::domain::ids::AppId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRow {
    pub state_hash: String,
    pub app_id: AppId,
    pub browser_hash: String,
    /// The connector's private state (sealed): what its callback needs back.
    pub private_sealed: String,
    pub config_version: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What became of a callback's `state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// First use: the flow, now marked used (it may still have expired), and its app's
    /// status now.
    Flow(FlowRow, AppStatus),
    /// The state was used before.
    Replayed,
    /// No flow ever had this state (or it was swept).
    Unknown,
}

impl Store {
    /// Writes the flow if its app is active and `config_version` is still the app's current
    /// IdM configuration; `false` (nothing written) otherwise. The check rides on the write
    /// every CTA makes anyway, so a process may start logins from what it remembers of the
    /// app and still never start one for a suspended app or with a replaced configuration,
    /// whichever process or replica changed it.
    pub async fn insert_flow(&self, flow: &FlowRow) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO sso_flows (state_hash, app_id, browser_hash, private_sealed, config_version, created_at, expires_at)
             SELECT $1, $2, $3, $4, $5, $6, $7
             WHERE EXISTS (SELECT 1 FROM apps WHERE id = $2 AND status = 'active')
               AND NOT EXISTS (SELECT 1 FROM idm_config_versions WHERE app_id = $2 AND version > $5)
             RETURNING state_hash";
        let params = [
            (&flow.state_hash).into(),
            flow.app_id.to_string().into(),
            (&flow.browser_hash).into(),
            (&flow.private_sealed).into(),
            flow.config_version.into(),
            flow.created_at.into(),
            flow.expires_at.into(),
        ];
        Ok(self.write_rows(SQL, &params, |_| Ok(())).await?.len() == 1)
    }

    /// Marks the flow used and returns it with its app's status, in one statement: of two
    /// callbacks racing with the same state, exactly one gets the flow.
    pub async fn take_flow(&self, state_hash: &str, now: i64) -> Result<Taken, StoreError> {
        const SQL: &str = "UPDATE sso_flows SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL
             RETURNING app_id, browser_hash, private_sealed, config_version, created_at, expires_at,
                (SELECT status FROM apps WHERE apps.id = sso_flows.app_id) AS app_status";
        const SEEN: &str = "SELECT 1 AS seen FROM sso_flows WHERE state_hash = $1";
        let taken = self
            .write_rows(SQL, &[state_hash.into(), now.into()], |row| {
                let flow = FlowRow {
                    state_hash: state_hash.to_owned(),
                    app_id: parsed(row, "app_id")?,
                    browser_hash: column(row, "browser_hash")?,
                    private_sealed: column(row, "private_sealed")?,
                    config_version: column(row, "config_version")?,
                    created_at: column(row, "created_at")?,
                    expires_at: column(row, "expires_at")?,
                };
                Ok(Taken::Flow(flow, parsed(row, "app_status")?))
            })
            .await?;
        if let Some(taken) = taken.into_iter().next() {
            return Ok(taken);
        }
        let seen = self.read_rows(SEEN, &[state_hash.into()], |_| Ok(())).await?;
        Ok(if seen.is_empty() { Taken::Unknown } else { Taken::Replayed })
    }

    /// Deletes flows never completed once they expired (before `now`), and the tombstones
    /// of used ones that expired before `tombstones_before` (kept so that a late replay is
    /// still named a replay). Anonymous clicks on a CTA leave rows for minutes, not a day.
    pub async fn sweep_flows(&self, now: i64, tombstones_before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sso_flows WHERE (used_at IS NULL AND expires_at < $1) OR expires_at < $2")
            .bind(now)
            .bind(tombstones_before)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
