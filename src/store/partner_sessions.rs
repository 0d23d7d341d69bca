//! Partner Center sessions. Rows are keyed by the SHA-256 of the cookie value, so the
//! table never holds a usable session id.

use sqlx::any::AnyRow;

use super::error::{column, parsed};
use super::{Store, StoreError};
use crate::domain::app::AppStatus;
use crate::domain::ids::AppId;

pub struct NewPartnerSession<'a> {
    pub id_hash: &'a str,
    pub app_id: AppId,
    pub csrf_token: &'a str,
    pub token_fingerprint: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A session together with the app's current state, read in one statement so every page
/// re-checks suspension and token rotation without a second round trip.
#[derive(Clone, Debug)]
pub struct PartnerSessionRow {
    pub app_id: AppId,
    pub app_name: String,
    pub app_status: AppStatus,
    pub app_token_hash: String,
    pub csrf_token: String,
    pub token_fingerprint: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

fn from_row(row: &AnyRow) -> Result<PartnerSessionRow, StoreError> {
    Ok(PartnerSessionRow {
        app_id: parsed(row, "app_id")?,
        app_name: column(row, "app_name")?,
        app_status: parsed(row, "app_status")?,
        app_token_hash: column(row, "app_token_hash")?,
        csrf_token: column(row, "csrf_token")?,
        token_fingerprint: column(row, "token_fingerprint")?,
        created_at: column(row, "created_at")?,
        last_seen_at: column(row, "last_seen_at")?,
        expires_at: column(row, "expires_at")?,
    })
}

impl Store {
    pub async fn insert_partner_session(&self, s: &NewPartnerSession<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO partner_sessions (id_hash, app_id, csrf_token, token_fingerprint, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(s.id_hash)
        .bind(s.app_id.to_string())
        .bind(s.csrf_token)
        .bind(s.token_fingerprint)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn find_partner_session(&self, id_hash: &str) -> Result<Option<PartnerSessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT s.app_id, a.name AS app_name, a.status AS app_status, a.token_hash AS app_token_hash,
                    s.csrf_token, s.token_fingerprint, s.created_at, s.last_seen_at, s.expires_at
             FROM partner_sessions s JOIN apps a ON a.id = s.app_id
             WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Records activity for the idle timeout.
    pub async fn touch_partner_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE partner_sessions SET last_seen_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub async fn delete_partner_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM partner_sessions WHERE id_hash = $1").bind(id_hash).execute(self.writer()).await?;
        Ok(())
    }

    /// Deletes sessions past their absolute expiry or idle since before `idle_cutoff`.
    pub async fn sweep_partner_sessions(&self, now: i64, idle_cutoff: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM partner_sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(idle_cutoff)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }

    /// How many sessions an app has open (tests and operators).
    pub async fn count_partner_sessions(&self, app: AppId) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM partner_sessions WHERE app_id = $1")
            .bind(app.to_string())
            .fetch_one(self.reader())
            .await?;
        column(&row, "n")
    }
}
