//! `Unique-Key` records: the first request with a key claims it inside the transaction
//! that creates the object, so concurrent duplicates serialize on the primary key and
//! exactly one object is created.

use sqlx::AnyConnection;

use super::error::column;
use super::{Store, StoreError};
use crate::domain::ids::AppId;

/// A request's claim on an idempotency key.
#[derive(Clone, Debug)]
pub struct KeyClaim {
    pub key: String,
    /// Hash of method, path and canonical body: the same key with another request conflicts.
    pub fingerprint: String,
    /// Records created at or before this time have expired and may be claimed anew.
    pub expired_before: i64,
}

/// What became of a create request that carried an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Creation {
    Created,
    /// The key was used before for the same request: answer with this object again (and
    /// the first answer's status, where the operation has more than one success status).
    Replay { resource_id: String, status: Option<i64> },
    /// The key was used before for a different request.
    KeyReused,
}

/// Claims the key for `resource_id`, or reports who holds it. Runs on the transaction's
/// connection, before the object's insert.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    app: AppId,
    claim: &KeyClaim,
    resource_id: &str,
    now: i64,
) -> Result<Creation, StoreError> {
    let app = app.to_string();
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (app_id, idem_key, fingerprint, resource_id, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (app_id, idem_key) DO UPDATE
            SET fingerprint = excluded.fingerprint, resource_id = excluded.resource_id, created_at = excluded.created_at
            WHERE idempotency_keys.created_at <= $6
         RETURNING resource_id",
    )
    .bind(&app)
    .bind(&claim.key)
    .bind(&claim.fingerprint)
    .bind(resource_id)
    .bind(now)
    .bind(claim.expired_before)
    .fetch_optional(&mut *conn)
    .await?;
    if claimed.is_some() {
        return Ok(Creation::Created);
    }
    let holder = sqlx::query("SELECT fingerprint, resource_id, replay_status FROM idempotency_keys WHERE app_id = $1 AND idem_key = $2")
        .bind(&app)
        .bind(&claim.key)
        .fetch_one(&mut *conn)
        .await?;
    let fingerprint: String = column(&holder, "fingerprint")?;
    Ok(if fingerprint == claim.fingerprint {
        Creation::Replay { resource_id: column(&holder, "resource_id")?, status: column(&holder, "replay_status")? }
    } else {
        Creation::KeyReused
    })
}

impl Store {
    /// Runs `insert` after claiming `key` (when given), all in one transaction; the insert
    /// is skipped and the transaction rolled back when the key is already held.
    pub(super) async fn create_with_key<F>(
        &self,
        app: AppId,
        key: Option<&KeyClaim>,
        resource_id: &str,
        now: i64,
        insert: F,
    ) -> Result<Creation, StoreError>
    where
        F: for<'c> FnOnce(&'c mut AnyConnection) -> futures_util::future::BoxFuture<'c, Result<(), StoreError>>,
    {
        let Some(key) = key else {
            let mut conn = self.writer().acquire().await?;
            insert(&mut conn).await?;
            return Ok(Creation::Created);
        };
        let mut tx = self.writer().begin().await?;
        let outcome = claim(&mut tx, app, key, resource_id, now).await?;
        if outcome != Creation::Created {
            tx.rollback().await?;
            return Ok(outcome);
        }
        insert(&mut tx).await?;
        tx.commit().await?;
        Ok(Creation::Created)
    }

    /// Records, inside the claiming transaction, which object a key's request touched and
    /// with which status (an upsert learns both only after its write).
    pub(super) async fn settle_key(conn: &mut AnyConnection, app: AppId, key: &str, resource_id: &str, status: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE idempotency_keys SET resource_id = $3, replay_status = $4 WHERE app_id = $1 AND idem_key = $2")
            .bind(app.to_string())
            .bind(key)
            .bind(resource_id)
            .bind(status)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub async fn sweep_idempotency_keys(&self, expired_before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
            .bind(expired_before)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
