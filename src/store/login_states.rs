//! What the database knows of logins in progress: nothing until a callback uses a state
//! (the flow travels sealed in it, `services::login_state`), then that state's hash, so it
//! is used once. A sign-in records it in its own statement (`sign_in`); the other ends of a
//! callback record it here.

use super::error::{column, parsed};
use super::{Store, StoreError};
use crate::domain::app::AppStatus;
use crate::domain::ids::AppId;

/// What a callback reads before it calls the IdM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackFacts {
    pub app_status: AppStatus,
    /// A callback used this state before.
    pub used: bool,
}

impl Store {
    /// The app's status and the number of its current IdM configuration (`None` before the
    /// first): what a CTA checks against what its process remembers, in one read.
    pub async fn app_status_and_version(&self, app: AppId) -> Result<Option<(AppStatus, Option<i64>)>, StoreError> {
        const SQL: &str = "SELECT status, (SELECT MAX(version) FROM idm_config_versions WHERE app_id = $1) AS version FROM apps WHERE id = $1";
        let rows = self.read_rows(SQL, &[app.to_string().into()], |row| Ok((parsed(row, "status")?, column(row, "version")?))).await?;
        Ok(rows.into_iter().next())
    }

    /// The app's status and whether the state (its hash, and the expiry sealed in it) was
    /// used, in one read; `None` for an unknown app.
    pub async fn callback_facts(&self, app: AppId, state_hash: &str, expires_at: i64) -> Result<Option<CallbackFacts>, StoreError> {
        const SQL: &str = "SELECT status,
                (SELECT COUNT(*) FROM sso_used_states WHERE expires_at = $2 AND state_hash = $3) AS used
             FROM apps WHERE id = $1";
        let params = [app.to_string().into(), expires_at.into(), state_hash.into()];
        let rows = self
            .read_rows(SQL, &params, |row| Ok(CallbackFacts { app_status: parsed(row, "status")?, used: column::<i64>(row, "used")? > 0 }))
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Records a state used by a callback that did not sign anyone in (an error, a test
    /// sign-in); `false` when it was recorded already.
    pub async fn mark_state_used(&self, state_hash: &str, expires_at: i64) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO sso_used_states (expires_at, state_hash) VALUES ($1, $2)
             ON CONFLICT (expires_at, state_hash) DO NOTHING RETURNING state_hash";
        Ok(self.write_rows(SQL, &[expires_at.into(), state_hash.into()], |_| Ok(())).await?.len() == 1)
    }

    /// Forgets the states of flows that expired before `before` (a day ago: until then a
    /// late replay is still named a replay).
    pub async fn sweep_used_states(&self, before: i64) -> Result<u64, StoreError> {
        self.sweep_used_states_in_chunks(before, SWEEP_CHUNK).await
    }

    async fn sweep_used_states_in_chunks(&self, before: i64, chunk: i64) -> Result<u64, StoreError> {
        // From the start of the key, which is the expiry: each chunk reads only what it deletes.
        const SQL: &str = "DELETE FROM sso_used_states WHERE (expires_at, state_hash) IN
             (SELECT expires_at, state_hash FROM sso_used_states WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)";
        let mut deleted = 0;
        loop {
            let done = sqlx::query(SQL).bind(before).bind(chunk).execute(self.writer()).await?.rows_affected();
            deleted += done;
            if (done as i64) < chunk {
                return Ok(deleted);
            }
            self.let_waiting_writes_in().await;
        }
    }
}

/// States one sweep statement deletes at most. A minute of a day-old peak at 2,000 logins/s
/// is 120,000 rows: in one DELETE the write lock would be held long enough to stall
/// sign-ins (the event log's one-statement retention held it for half a second).
const SWEEP_CHUNK: i64 = 1000;

#[cfg(test)]
mod tests {
    use crate::store::scratch_store;

    #[tokio::test]
    async fn the_sweep_in_chunks_forgets_exactly_the_expired_states() {
        let dir = tempfile::tempdir().unwrap();
        let store = scratch_store(&dir, "states.db").await;
        store.migrate().await.unwrap();
        for n in 0..23 {
            assert!(store.mark_state_used(&format!("state-{n}"), 1_000 + n).await.unwrap());
        }
        assert_eq!(store.sweep_used_states_in_chunks(1_010, 4).await.unwrap(), 10, "two chunks and a short one");
        assert_eq!(store.sweep_used_states_in_chunks(1_010, 4).await.unwrap(), 0);
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sso_used_states WHERE expires_at >= 1010").fetch_one(store.writer()).await.unwrap();
        assert_eq!(left, 13);
        assert_eq!(store.sweep_used_states_in_chunks(2_000, 5).await.unwrap(), 13, "a chunk size that divides nothing");
    }
}
