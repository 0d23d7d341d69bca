use sqlx::any::AnyRow;

use super::error::{column, parsed, retry_on_conflict};
use super::{Store, StoreError};
use crate::domain::app::AppStatus;
use crate::domain::ids::AppId;

#[derive(Clone, Debug)]
pub struct IdmVersionRow {
    pub app_id: AppId,
    pub version: i64,
    pub config_json: String,
    pub client_secret_sealed: Option<String>,
    pub secret_changed: bool,
    pub changed_by: String,
    pub changed_at: i64,
}

fn from_row(app_id: AppId, row: &AnyRow) -> Result<IdmVersionRow, StoreError> {
    Ok(IdmVersionRow {
        app_id,
        version: column(row, "version")?,
        config_json: column(row, "config_json")?,
        client_secret_sealed: column(row, "client_secret_sealed")?,
        secret_changed: column::<i64>(row, "secret_changed")? != 0,
        changed_by: column(row, "changed_by")?,
        changed_at: column(row, "changed_at")?,
    })
}

macro_rules! columns {
    () => {
        "version, config_json, client_secret_sealed, secret_changed, changed_by, changed_at"
    };
}

/// What a new version records; its number is assigned by the store.
pub struct NewIdmVersion<'a> {
    pub config_json: &'a str,
    pub client_secret_sealed: Option<&'a str>,
    pub secret_changed: bool,
    pub changed_by: &'a str,
    pub changed_at: i64,
}

impl Store {
    /// The app's status and its current IdM configuration (`None` before the first), in one
    /// statement: what a CTA reads when its process has not seen the app, or it changed.
    pub async fn app_with_current_idm(&self, app: AppId) -> Result<Option<(AppStatus, Option<IdmVersionRow>)>, StoreError> {
        let row = sqlx::query(
            "SELECT a.status, v.version, v.config_json, v.client_secret_sealed, v.secret_changed, v.changed_by, v.changed_at
             FROM apps a LEFT JOIN idm_config_versions v
               ON v.app_id = a.id AND v.version = (SELECT MAX(version) FROM idm_config_versions WHERE app_id = a.id)
             WHERE a.id = $1",
        )
        .bind(app.to_string())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let status: AppStatus = parsed(&row, "status")?;
        let current = match column::<Option<i64>>(&row, "version")? {
            Some(_) => Some(from_row(app, &row)?),
            None => None,
        };
        Ok(Some((status, current)))
    }

    /// Appends a version (the next number for the app) and returns its number. Two
    /// concurrent writers (PostgreSQL; SQLite has one writer) may pick the same number: the
    /// primary key refuses the second, which takes the next number and tries again.
    pub async fn append_idm_version(&self, app: AppId, new: &NewIdmVersion<'_>) -> Result<i64, StoreError> {
        retry_on_conflict(|| async {
            let row = sqlx::query(
                "INSERT INTO idm_config_versions (app_id, version, config_json, client_secret_sealed, secret_changed, changed_by, changed_at)
                 SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6 FROM idm_config_versions WHERE app_id = $1
                 RETURNING version",
            )
            .bind(app.to_string())
            .bind(new.config_json)
            .bind(new.client_secret_sealed)
            .bind(i64::from(new.secret_changed))
            .bind(new.changed_by)
            .bind(new.changed_at)
            .fetch_one(self.writer())
            .await?;
            column(&row, "version")
        })
        .await
    }

    pub async fn current_idm_version(&self, app: AppId) -> Result<Option<IdmVersionRow>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM idm_config_versions WHERE app_id = $1 ORDER BY version DESC LIMIT 1"))
            .bind(app.to_string())
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| from_row(app, &r)).transpose()
    }

    pub async fn idm_version(&self, app: AppId, version: i64) -> Result<IdmVersionRow, StoreError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM idm_config_versions WHERE app_id = $1 AND version = $2"))
            .bind(app.to_string())
            .bind(version)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(app, &row)
    }

    pub async fn idm_history(&self, app: AppId, limit: i64) -> Result<Vec<IdmVersionRow>, StoreError> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM idm_config_versions WHERE app_id = $1 ORDER BY version DESC LIMIT $2"))
            .bind(app.to_string())
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|r| from_row(app, r)).collect()
    }

    /// Every version with a sealed secret (client secret or service key), for master-key
    /// rotation: the configuration says which kind, and so which sealing context.
    pub async fn idm_versions_with_secrets(&self) -> Result<Vec<IdmVersionRow>, StoreError> {
        let rows = sqlx::query(concat!("SELECT app_id, ", columns!(), " FROM idm_config_versions WHERE client_secret_sealed IS NOT NULL"))
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|r| from_row(super::error::parsed(r, "app_id")?, r)).collect()
    }

    pub async fn reseal_idm_secret(&self, app: AppId, version: i64, sealed: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE idm_config_versions SET client_secret_sealed = $3 WHERE app_id = $1 AND version = $2")
            .bind(app.to_string())
            .bind(version)
            .bind(sealed)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
