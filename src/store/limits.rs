//! Counters that every replica on one database shares: fixed-window throttles and the
//! replicas' heartbeats.

use super::error::column;
use super::{Store, StoreError};

impl Store {
    /// Counts one more hit of `key` in the window starting at `window_start` (a new window
    /// starts from one) and returns the window's hits.
    /// Counts a hit for `key` in the window starting at `window_start` (windows are
    /// `window_seconds` long); the window before is kept as `previous_hits`.
    pub async fn throttle_hit(&self, key: &str, window_start: i64, window_seconds: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO throttle_windows (throttle_key, window_start, hits, previous_hits) VALUES ($1, $2, 1, 0)
             ON CONFLICT (throttle_key) DO UPDATE SET
                previous_hits = CASE WHEN throttle_windows.window_start = excluded.window_start THEN throttle_windows.previous_hits
                                     WHEN throttle_windows.window_start = excluded.window_start - $3 THEN throttle_windows.hits
                                     ELSE 0 END,
                hits = CASE WHEN throttle_windows.window_start = excluded.window_start THEN throttle_windows.hits + 1 ELSE 1 END,
                window_start = excluded.window_start",
        )
        .bind(key)
        .bind(window_start)
        .bind(window_seconds)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// What is counted for each of `keys`: (window start, hits, hits of the window before).
    pub async fn throttle_counts(&self, keys: [&str; 2]) -> Result<[Option<(i64, i64, i64)>; 2], StoreError> {
        let rows = sqlx::query("SELECT throttle_key, window_start, hits, previous_hits FROM throttle_windows WHERE throttle_key IN ($1, $2)")
            .bind(keys[0])
            .bind(keys[1])
            .fetch_all(self.reader())
            .await?;
        let mut counts = [None, None];
        for row in rows {
            let key: String = column(&row, "throttle_key")?;
            if let Some(slot) = keys.iter().position(|k| *k == key) {
                counts[slot] = Some((column(&row, "window_start")?, column(&row, "hits")?, column(&row, "previous_hits")?));
            }
        }
        Ok(counts)
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
