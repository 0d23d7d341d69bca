//! Counters that every replica on one database shares: fixed-window throttles and the
//! replicas' heartbeats.

use super::error::column;
use super::{Store, StoreError};

impl Store {
    /// Counts one more hit of `key` in the window starting at `window_start` (a new window
    /// starts from one) and returns the window's hits.
    pub async fn throttle_hit(&self, key: &str, window_start: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO throttle_windows (throttle_key, window_start, hits) VALUES ($1, $2, 1)
             ON CONFLICT (throttle_key) DO UPDATE SET
                hits = CASE WHEN throttle_windows.window_start = excluded.window_start THEN throttle_windows.hits + 1 ELSE 1 END,
                window_start = excluded.window_start
             RETURNING hits",
        )
        .bind(key)
        .bind(window_start)
        .fetch_one(self.writer())
        .await?;
        column(&row, "hits")
    }

    /// The most hits any of `keys` has in the window starting at `window_start`.
    pub async fn throttle_peak(&self, keys: [&str; 2], window_start: i64) -> Result<[i64; 2], StoreError> {
        let rows = sqlx::query("SELECT throttle_key, hits FROM throttle_windows WHERE throttle_key IN ($1, $2) AND window_start = $3")
            .bind(keys[0])
            .bind(keys[1])
            .bind(window_start)
            .fetch_all(self.reader())
            .await?;
        let mut hits = [0, 0];
        for row in rows {
            let key: String = column(&row, "throttle_key")?;
            let count: i64 = column(&row, "hits")?;
            if let Some(slot) = keys.iter().position(|k| *k == key) {
                hits[slot] = count;
            }
        }
        Ok(hits)
    }

    pub async fn sweep_throttles(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM throttle_windows WHERE window_start < $1").bind(before).execute(self.writer()).await?;
        Ok(done.rows_affected())
    }

    /// Records that replica `id` is alive and returns how many replicas were seen since
    /// `alive_since` (this one included).
    pub async fn replica_heartbeat(&self, id: &str, now: i64, alive_since: i64) -> Result<u32, StoreError> {
        sqlx::query("INSERT INTO replicas (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at")
            .bind(id)
            .bind(now)
            .execute(self.writer())
            .await?;
        sqlx::query("DELETE FROM replicas WHERE seen_at < $1").bind(alive_since - 3600).execute(self.writer()).await?;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM replicas WHERE seen_at >= $1").bind(alive_since).fetch_one(self.reader()).await?;
        Ok(column::<i64>(&row, "n")?.clamp(1, i64::from(u32::MAX)) as u32)
    }

    /// A stopping replica gives its share back at once.
    pub async fn replica_gone(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM replicas WHERE id = $1").bind(id).execute(self.writer()).await?;
        Ok(())
    }
}
