use sqlx::any::AnyRow;

use super::error::{column, parsed};
use super::idempotency::{Creation, KeyClaim};
use super::request_path::{bound, Param};
use super::{Store, StoreError};
use crate::domain::ids::{AppId, LegalEntityId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegalEntityRow {
    pub id: LegalEntityId,
    pub app_id: AppId,
    pub country: String,
    pub controller_email: String,
    pub controller_email_verified: bool,
    pub tos_acceptance_time: Option<i64>,
    pub tos_original_ip: Option<String>,
    pub created_at: i64,
}

fn from_row(row: &AnyRow) -> Result<LegalEntityRow, StoreError> {
    Ok(LegalEntityRow {
        id: parsed(row, "id")?,
        app_id: parsed(row, "app_id")?,
        country: column(row, "country")?,
        controller_email: column(row, "controller_email")?,
        controller_email_verified: column::<i64>(row, "controller_email_verified")? != 0,
        tos_acceptance_time: column(row, "tos_acceptance_time")?,
        tos_original_ip: column(row, "tos_original_ip")?,
        created_at: column(row, "created_at")?,
    })
}

/// The insert's values, and `recheck` ($10): see `create_legal_entity`.
fn insert_params<'a>(le: &'a LegalEntityRow, recheck: Option<&'a str>) -> [Param<'a>; 10] {
    [
        le.id.to_string().into(),
        le.app_id.to_string().into(),
        (&le.country).into(),
        (&le.controller_email).into(),
        i64::from(le.controller_email_verified).into(),
        le.tos_acceptance_time.into(),
        (&le.tos_original_ip).into(),
        le.created_at.into(),
        crate::domain::identity::email_key(&le.controller_email).into(),
        recheck.into(),
    ]
}

impl Store {
    /// Creates the legal entity of an existing app. With `recheck` (the caller's token hash,
    /// from a recent check), the insert itself requires the app to be active with that
    /// token: `CredentialRefused` otherwise, and nothing is written.
    pub async fn create_legal_entity(&self, le: &LegalEntityRow, key: Option<&KeyClaim>, recheck: Option<&str>) -> Result<Creation, StoreError> {
        const SQL: &str = "INSERT INTO legal_entities (id, app_id, country, controller_email, controller_email_verified,
                        tos_acceptance_time, tos_original_ip, created_at, controller_email_key)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
                     -- The app exists (on PostgreSQL no foreign key says so: migration 0017).
                     WHERE EXISTS (SELECT 1 FROM apps WHERE id = $2 AND ($10 IS NULL OR (token_hash = $10 AND status = 'active')))
                     RETURNING id";
        let refused = |inserted: bool| if inserted { Ok(()) } else { Err(StoreError::CredentialRefused) };
        // Without an idempotency key the insert is the whole request.
        if key.is_none() {
            refused(!self.write_rows(SQL, &insert_params(le, recheck), |_| Ok(())).await?.is_empty())?;
            return Ok(Creation::Created);
        }
        let le = le.clone();
        let recheck = recheck.map(str::to_owned);
        self.create_with_key(le.app_id, key, &le.id.to_string(), le.created_at, move |conn| {
            Box::pin(async move { refused(bound(SQL, &insert_params(&le, recheck.as_deref())).fetch_optional(conn).await?.is_some()) })
        })
        .await
    }

    /// The legal entity, if it belongs to `app`: another app's id is simply not found.
    pub async fn find_legal_entity(&self, app: AppId, id: LegalEntityId) -> Result<LegalEntityRow, StoreError> {
        let row = sqlx::query(
            "SELECT id, app_id, country, controller_email, controller_email_verified, tos_acceptance_time,
                    tos_original_ip, created_at
             FROM legal_entities WHERE id = $1 AND app_id = $2",
        )
        .bind(id.to_string())
        .bind(app.to_string())
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn count_legal_entities(&self, app: AppId) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM legal_entities WHERE app_id = $1")
            .bind(app.to_string())
            .fetch_one(self.reader())
            .await?;
        column(&row, "n")
    }
}
