//! Access grants, the access lookups of a login, and the sessions a grant's removal ends.

use sqlx::any::AnyRow;

use super::error::{column, parsed, Row};
use super::request_path::Param;
use super::idempotency::{claim, Creation, KeyClaim};
use super::{Store, StoreError};
use crate::domain::access::Candidate;
use crate::domain::grant::NewGrant;
use crate::domain::ids::{AccountId, AppId};
use crate::domain::role::Role;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRow {
    pub id: String,
    pub account_id: AccountId,
    pub matcher_kind: String,
    pub matcher_value: String,
    pub display_value: String,
    pub role: Role,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a grant request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Granted {
    Created(GrantRow),
    /// The same matcher already had a grant on the account; `role_changed` says whether
    /// this request changed its role.
    Updated { row: GrantRow, role_changed: bool },
    /// A `Unique-Key` replay: the first request's grant and status.
    Replay { id: String, status: i64 },
    KeyReused,
}

/// The identity keys access is looked up by; `None` for what the policy does not trust.
#[derive(Clone, Copy, Debug, Default)]
pub struct PersonKeys<'a> {
    pub email_key: Option<&'a str>,
    pub phone_key: Option<&'a str>,
    pub subject: &'a str,
}

/// The index that keeps one financial-admin grant per legal entity.
pub const ONE_ADMIN: &str = "account_grants_one_admin";

const GRANT_COLUMNS: &str = "id, account_id, matcher_kind, matcher_value, display_value, role, created_at, updated_at";

fn grant_row(r: &AnyRow) -> Result<GrantRow, StoreError> {
    Ok(GrantRow {
        id: column(r, "id")?,
        account_id: parsed(r, "account_id")?,
        matcher_kind: column(r, "matcher_kind")?,
        matcher_value: column(r, "matcher_value")?,
        display_value: column(r, "display_value")?,
        role: parsed(r, "role")?,
        created_at: column(r, "created_at")?,
        updated_at: column(r, "updated_at")?,
    })
}

fn candidate(r: &(impl Row + ?Sized)) -> Result<Candidate, StoreError> {
    let grant: Option<String> = column(r, "grant_role")?;
    Ok(Candidate {
        account: parsed(r, "account_id")?,
        account_name: column(r, "name")?,
        controller: column::<i64>(r, "controller")? != 0,
        grant: grant.map(|g| g.parse().map_err(StoreError::Corrupt)).transpose()?,
    })
}

/// A grant names a person by one of the keys: the join condition of every access lookup.
macro_rules! grant_names_person {
    ($g:literal) => {
        concat!(
            "((", $g, ".matcher_kind = 'email' AND ", $g, ".matcher_value = $2) OR (", $g, ".matcher_kind = 'phone_number' AND ", $g,
            ".matcher_value = $3) OR (", $g, ".matcher_kind = 'idm_subject' AND ", $g, ".matcher_value = $4))"
        )
    };
}

/// The controller rule, as a 0/1 column (both backends decode integers through `Any`).
macro_rules! controller {
    () => {
        "CASE WHEN le.controller_email_verified = 1 AND le.controller_email_key = $2 THEN 1 ELSE 0 END"
    };
}

impl Store {
    /// Grants `new` on `account` if the account is `app`'s (`NotFound` otherwise), or updates
    /// the role of the grant the same matcher already has there. A second financial-admin
    /// grant in one legal entity is `Conflict { constraint: "account_grants_one_admin" }`.
    pub async fn grant(&self, app: AppId, account: AccountId, new: &NewGrant, key: Option<&KeyClaim>, now: i64) -> Result<Granted, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.writer().begin().await?;
        if let Some(key) = key {
            match claim(&mut tx, app, key, &id, now).await? {
                Creation::Created => {}
                Creation::Replay { resource_id, status } => {
                    tx.rollback().await?;
                    return Ok(Granted::Replay { id: resource_id, status: status.unwrap_or(201) });
                }
                Creation::KeyReused => {
                    tx.rollback().await?;
                    return Ok(Granted::KeyReused);
                }
            }
        }
        let before: Option<String> = sqlx::query("SELECT role FROM account_grants WHERE account_id = $1 AND matcher_kind = $2 AND matcher_value = $3")
            .bind(account.to_string())
            .bind(new.matcher.kind())
            .bind(new.matcher.key())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| column(&r, "role"))
            .transpose()?;
        // The account's app is checked in the insert itself: no other app's account can be
        // granted between a check and a write.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO account_grants (id, app_id, account_id, legal_entity_id, matcher_kind, matcher_value, display_value, role, created_at, updated_at)
             SELECT $1, a.app_id, a.id, a.legal_entity_id, $4, $5, $6, $7, $8, $8 FROM accounts a WHERE a.id = $3 AND a.app_id = $2
             ON CONFLICT (account_id, matcher_kind, matcher_value) DO UPDATE SET role = excluded.role, display_value = excluded.display_value,
                updated_at = excluded.updated_at
             RETURNING {GRANT_COLUMNS}"
        )))
        .bind(&id)
        .bind(app.to_string())
        .bind(account.to_string())
        .bind(new.matcher.kind())
        .bind(new.matcher.key())
        .bind(new.matcher.display())
        .bind(new.role.as_str())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|err| match StoreError::from(err) {
            // The matcher's own conflict is the upsert's; the only other unique rule is one
            // financial admin per legal entity (SQLite names no constraint, so say which).
            StoreError::Conflict { .. } => StoreError::Conflict { constraint: ONE_ADMIN.into() },
            other => other,
        })?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        };
        let row = grant_row(&row)?;
        let created = row.id == id;
        if let Some(key) = key {
            Store::settle_key(&mut tx, app, &key.key, &row.id, if created { 201 } else { 200 }).await?;
        }
        tx.commit().await?;
        Ok(if created { Granted::Created(row) } else { Granted::Updated { role_changed: before.as_deref() != Some(row.role.as_str()), row } })
    }

    pub async fn find_grant(&self, app: AppId, id: &str) -> Result<GrantRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {GRANT_COLUMNS} FROM account_grants WHERE id = $1 AND app_id = $2")))
            .bind(id)
            .bind(app.to_string())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        grant_row(&row)
    }

    pub async fn account_grants(&self, account: AccountId) -> Result<Vec<GrantRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM account_grants WHERE account_id = $1 ORDER BY created_at, id"
        )))
        .bind(account.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(grant_row).collect()
    }

    /// Removes the grant and returns it (`NotFound` when the app has no such grant on the account).
    pub async fn delete_grant(&self, app: AppId, account: AccountId, id: &str) -> Result<GrantRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM account_grants WHERE id = $1 AND app_id = $2 AND account_id = $3 RETURNING {GRANT_COLUMNS}"
        )))
        .bind(id)
        .bind(app.to_string())
        .bind(account.to_string())
        .fetch_optional(self.writer())
        .await?
        .ok_or(StoreError::NotFound)?;
        grant_row(&row)
    }

    /// Ends the sessions on `account` of the people `grant` names; returns how many.
    pub async fn end_sessions_named_by(&self, app: AppId, grant: &GrantRow) -> Result<u64, StoreError> {
        let sql = match grant.matcher_kind.as_str() {
            "email" => "DELETE FROM merchant_sessions WHERE account_id = $1 AND user_id IN (SELECT id FROM merchant_users WHERE app_id = $2 AND email_key = $3)",
            "phone_number" => "DELETE FROM merchant_sessions WHERE account_id = $1 AND user_id IN (SELECT id FROM merchant_users WHERE app_id = $2 AND phone_key = $3)",
            _ => "DELETE FROM merchant_sessions WHERE account_id = $1 AND user_id IN (SELECT id FROM merchant_users WHERE app_id = $2 AND subject = $3)",
        };
        let done = sqlx::query(sql).bind(grant.account_id.to_string()).bind(app.to_string()).bind(&grant.matcher_value).execute(self.writer()).await?;
        Ok(done.rows_affected())
    }

    /// The account an IdM's account claim names, whatever app owns it (the caller tells
    /// "another partner's" from "none"), with the controller rule and the grants naming
    /// the person there. Empty when there is no such account.
    pub async fn claimed_account(&self, account: &str, keys: PersonKeys<'_>) -> Result<Vec<(AppId, Candidate)>, StoreError> {
        const SQL: &str = concat!(
            "SELECT a.id AS account_id, a.app_id, a.name, ", controller!(), " AS controller, g.role AS grant_role
             FROM accounts a JOIN legal_entities le ON le.id = a.legal_entity_id
             LEFT JOIN account_grants g ON g.account_id = a.id AND ", grant_names_person!("g"), "
             WHERE a.id = $1"
        );
        self.read_rows(SQL, &keys.params(account), |row| Ok((parsed(row, "app_id")?, candidate(row)?))).await
    }

    /// Every account of `app` a grant or the controller rule lets the person reach.
    pub async fn granted_accounts(&self, app: AppId, keys: PersonKeys<'_>) -> Result<Vec<Candidate>, StoreError> {
        const SQL: &str = concat!(
            "SELECT a.id AS account_id, a.name, ", controller!(), " AS controller, g.role AS grant_role
             FROM account_grants g JOIN accounts a ON a.id = g.account_id JOIN legal_entities le ON le.id = a.legal_entity_id
             WHERE g.app_id = $1 AND ", grant_names_person!("g"), "
             UNION ALL
             SELECT a.id AS account_id, a.name, 1 AS controller, NULL AS grant_role
             FROM legal_entities le JOIN accounts a ON a.legal_entity_id = le.id
             WHERE le.app_id = $1 AND le.controller_email_key = $2 AND le.controller_email_verified = 1"
        );
        self.read_rows(SQL, &keys.params(&app.to_string()), |row| candidate(row)).await
    }
}

impl PersonKeys<'_> {
    /// `$1` (an app or account id) and the person's keys as `$2…$4`, as `grant_names_person!`
    /// and `controller!` expect them.
    fn params<'a>(&'a self, first: &'a str) -> [Param<'a>; 4] {
        [first.into(), self.email_key.into(), self.phone_key.into(), self.subject.into()]
    }
}
