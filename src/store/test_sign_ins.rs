//! Test sign-ins: started by a partner, finished by its IdM's answer, read back as a report.

use super::error::column;
use super::{Store, StoreError};
use crate::domain::ids::AppId;

#[derive(Clone, Debug)]
pub struct TestSignInRow {
    pub id: String,
    pub app_id: AppId,
    pub status: String,
    pub report_json: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    pub async fn insert_test_sign_in(&self, row: &TestSignInRow) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO test_sign_ins (id, app_id, status, report_json, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&row.id)
            .bind(row.app_id.to_string())
            .bind(&row.status)
            .bind(&row.report_json)
            .bind(row.created_at)
            .bind(row.expires_at)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The app's test sign-in `id`, unless it expired before `now` (another app's is none).
    pub async fn find_test_sign_in(&self, app: AppId, id: &str, now: i64) -> Result<TestSignInRow, StoreError> {
        let row = sqlx::query("SELECT id, status, report_json, created_at, expires_at FROM test_sign_ins WHERE id = $1 AND app_id = $2 AND expires_at > $3")
            .bind(id)
            .bind(app.to_string())
            .bind(now)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(TestSignInRow {
            id: column(&row, "id")?,
            app_id: app,
            status: column(&row, "status")?,
            report_json: column(&row, "report_json")?,
            created_at: column(&row, "created_at")?,
            expires_at: column(&row, "expires_at")?,
        })
    }

    /// Stores the report of a pending test sign-in; `false` when it is no longer pending
    /// (each start yields one report).
    pub async fn finish_test_sign_in(&self, app: AppId, id: &str, status: &str, report_json: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE test_sign_ins SET status = $1, report_json = $2 WHERE id = $3 AND app_id = $4 AND status = 'pending' AND expires_at > $5")
            .bind(status)
            .bind(report_json)
            .bind(id)
            .bind(app.to_string())
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn sweep_test_sign_ins(&self, now: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM test_sign_ins WHERE expires_at <= $1").bind(now).execute(self.writer()).await?.rows_affected())
    }
}
