use rusqlite::types::ToSql;

use super::error::{column, parsed, Row};
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
        let app = flow.app_id.to_string();
        if let Some(inline) = self.inline() {
            let params: [&dyn ToSql; 7] =
                [&flow.state_hash, &app, &flow.browser_hash, &flow.private_sealed, &flow.config_version, &flow.created_at, &flow.expires_at];
            if let Ok(rows) = inline.write(SQL, &params, |_| Ok(()))? {
                return Ok(rows.len() == 1);
            }
        }
        let row = sqlx::query(SQL)
            .bind(&flow.state_hash)
            .bind(app)
            .bind(&flow.browser_hash)
            .bind(&flow.private_sealed)
            .bind(flow.config_version)
            .bind(flow.created_at)
            .bind(flow.expires_at)
            .fetch_optional(self.writer())
            .await?;
        Ok(row.is_some())
    }

    /// Marks the flow used and returns it with its app's status, in one statement: of two
    /// callbacks racing with the same state, exactly one gets the flow.
    pub async fn take_flow(&self, state_hash: &str, now: i64) -> Result<Taken, StoreError> {
        const SQL: &str = "UPDATE sso_flows SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL
             RETURNING app_id, browser_hash, private_sealed, config_version, created_at, expires_at,
                (SELECT status FROM apps WHERE apps.id = sso_flows.app_id) AS app_status";
        const SEEN: &str = "SELECT 1 AS seen FROM sso_flows WHERE state_hash = $1";
        let decode = |row: &dyn Row| -> Result<(FlowRow, AppStatus), StoreError> {
            Ok((
                FlowRow {
                    state_hash: state_hash.to_owned(),
                    app_id: parsed(row, "app_id")?,
                    browser_hash: column(row, "browser_hash")?,
                    private_sealed: column(row, "private_sealed")?,
                    config_version: column(row, "config_version")?,
                    created_at: column(row, "created_at")?,
                    expires_at: column(row, "expires_at")?,
                },
                parsed(row, "app_status")?,
            ))
        };
        if let Some(inline) = self.inline()
            && let Ok(taken) = inline.write(SQL, &[&state_hash, &now], |r| decode(r))?
        {
            if let Some((flow, status)) = taken.into_iter().next() {
                return Ok(Taken::Flow(flow, status));
            }
            let seen = inline.optional(SEEN, &[&state_hash], |_| Ok(()))?;
            return Ok(if seen.is_some() { Taken::Replayed } else { Taken::Unknown });
        }
        let row = sqlx::query(SQL).bind(state_hash).bind(now).fetch_optional(self.writer()).await?;
        if let Some(row) = row {
            let (flow, status) = decode(&row)?;
            return Ok(Taken::Flow(flow, status));
        }
        let seen = sqlx::query(SEEN).bind(state_hash).fetch_optional(self.writer()).await?;
        Ok(if seen.is_some() { Taken::Replayed } else { Taken::Unknown })
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
