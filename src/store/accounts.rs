use sqlx::any::AnyRow;

use super::error::{column, parsed};
use super::idempotency::{Creation, KeyClaim};
use super::request_path::{bound, Param};
use super::{Store, StoreError};
use crate::domain::ids::{AccountId, AppId, LegalEntityId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRow {
    pub id: AccountId,
    pub app_id: AppId,
    pub legal_entity_id: LegalEntityId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
}

fn from_row(row: &AnyRow) -> Result<AccountRow, StoreError> {
    Ok(AccountRow {
        id: parsed(row, "id")?,
        app_id: parsed(row, "app_id")?,
        legal_entity_id: parsed(row, "legal_entity_id")?,
        name: column(row, "name")?,
        description: column(row, "description")?,
        created_at: column(row, "created_at")?,
    })
}

/// The insert's values, and `recheck` ($7): see `create_account`.
fn insert_params<'a>(account: &'a AccountRow, recheck: Option<&'a str>) -> [Param<'a>; 7] {
    [
        account.id.to_string().into(),
        account.app_id.to_string().into(),
        account.legal_entity_id.to_string().into(),
        (&account.name).into(),
        (&account.description).into(),
        account.created_at.into(),
        recheck.into(),
    ]
}

impl Store {
    /// Creates the account only if its legal entity belongs to the same app, checked in
    /// the insert itself so no other app's entity can slip in between a check and a write.
    /// `NotFound` when the legal entity is not this app's.
    ///
    /// With `recheck` (the caller's token hash, from a recent check), the insert also
    /// requires the app to be active with that token; when nothing was inserted the app is
    /// read to tell `CredentialRefused` from `NotFound`.
    pub async fn create_account(&self, account: &AccountRow, key: Option<&KeyClaim>, recheck: Option<&str>) -> Result<Creation, StoreError> {
        const SQL: &str = "INSERT INTO accounts (id, app_id, legal_entity_id, name, description, created_at)
                     SELECT $1, $2, $3, $4, $5, $6
                     -- This app's legal entity: so the app exists too (migration 0017).
                     WHERE EXISTS (SELECT 1 FROM legal_entities WHERE id = $3 AND app_id = $2)
                       AND ($7 IS NULL OR EXISTS (SELECT 1 FROM apps WHERE id = $2 AND token_hash = $7 AND status = 'active'))
                     RETURNING id";
        // Without an idempotency key the insert is the whole request.
        let inserted = match key {
            None => !self.write_rows(SQL, &insert_params(account, recheck), |_| Ok(())).await?.is_empty(),
            Some(_) => {
                let (row, owned) = (account.clone(), recheck.map(str::to_owned));
                let created = self
                    .create_with_key(account.app_id, key, &account.id.to_string(), account.created_at, move |conn| {
                        Box::pin(async move {
                            let inserted = bound(SQL, &insert_params(&row, owned.as_deref())).fetch_optional(conn).await?;
                            if inserted.is_none() { Err(StoreError::NotFound) } else { Ok(()) }
                        })
                    })
                    .await;
                match created {
                    Err(StoreError::NotFound) => false,
                    other => return other,
                }
            }
        };
        if inserted {
            return Ok(Creation::Created);
        }
        Err(self.why_not_inserted(account.app_id, recheck).await?)
    }

    /// Why an account insert wrote nothing: the caller's rechecked credential is no longer
    /// valid, or else the legal entity is not this app's.
    async fn why_not_inserted(&self, app: AppId, recheck: Option<&str>) -> Result<StoreError, StoreError> {
        let Some(token_hash) = recheck else { return Ok(StoreError::NotFound) };
        let current = self.find_app(app).await?;
        let still_valid = current.token_hash == token_hash && current.status == crate::domain::app::AppStatus::Active;
        Ok(if still_valid { StoreError::NotFound } else { StoreError::CredentialRefused })
    }

    pub async fn find_account(&self, app: AppId, id: AccountId) -> Result<AccountRow, StoreError> {
        let row = sqlx::query(
            "SELECT id, app_id, legal_entity_id, name, description, created_at FROM accounts WHERE id = $1 AND app_id = $2",
        )
        .bind(id.to_string())
        .bind(app.to_string())
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn count_accounts(&self, app: AppId) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE app_id = $1")
            .bind(app.to_string())
            .fetch_one(self.reader())
            .await?;
        column(&row, "n")
    }
}
