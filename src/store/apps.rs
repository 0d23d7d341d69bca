
use super::error::{column, parsed, Row};
use super::{Store, StoreError};
use crate::domain::app::AppStatus;
use crate::domain::ids::AppId;

#[derive(Clone, Debug)]
pub struct AppRow {
    pub id: AppId,
    pub name: String,
    pub status: AppStatus,
    pub token_hash: String,
    pub token_prefix: String,
    pub token_created_at: i64,
    pub token_last_used_at: Option<i64>,
    pub created_at: i64,
}

macro_rules! columns {
    () => {
        "id, name, status, token_hash, token_prefix, token_created_at, token_last_used_at, created_at"
    };
}

fn from_row(row: &(impl Row + ?Sized)) -> Result<AppRow, StoreError> {
    Ok(AppRow {
        id: parsed(row, "id")?,
        name: column(row, "name")?,
        status: parsed(row, "status")?,
        token_hash: column(row, "token_hash")?,
        token_prefix: column(row, "token_prefix")?,
        token_created_at: column(row, "token_created_at")?,
        token_last_used_at: column(row, "token_last_used_at")?,
        created_at: column(row, "created_at")?,
    })
}

impl Store {
    pub async fn insert_app(&self, app: &AppRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO apps (id, name, status, token_hash, token_prefix, token_created_at, token_last_used_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(app.id.to_string())
        .bind(&app.name)
        .bind(app.status.as_str())
        .bind(&app.token_hash)
        .bind(&app.token_prefix)
        .bind(app.token_created_at)
        .bind(app.token_last_used_at)
        .bind(app.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// What every API call authenticates against.
    pub async fn find_app(&self, id: AppId) -> Result<AppRow, StoreError> {
        const SQL: &str = concat!("SELECT ", columns!(), " FROM apps WHERE id = $1");
        self.read_rows(SQL, &[id.to_string().into()], |row| from_row(row)).await?.pop().ok_or(StoreError::NotFound)
    }

    pub async fn list_apps(&self) -> Result<Vec<AppRow>, StoreError> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM apps ORDER BY created_at, id"))
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces the token; the old hash is gone in the same statement, so the old token
    /// stops working at once.
    pub async fn replace_app_token(&self, id: AppId, hash: &str, prefix: &str, now: i64) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE apps SET token_hash = $2, token_prefix = $3, token_created_at = $4, token_last_used_at = NULL WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(hash)
        .bind(prefix)
        .bind(now)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn set_app_status(&self, id: AppId, status: AppStatus) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE apps SET status = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(status.as_str())
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn touch_app_token(&self, id: AppId, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE apps SET token_last_used_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
