//! Merchant users, their account memberships and Merchant Center sessions.

use super::error::{column, parsed};
use super::{Store, StoreError};
use crate::domain::ids::{AccountId, AppId};
use crate::domain::role::Role;

/// An account with what provisioning needs to decide a role: its app and its legal
/// entity's controller.
#[derive(Clone, Debug)]
pub struct AccountOwner {
    pub app_id: AppId,
    pub account_name: String,
    pub controller_email: String,
    pub controller_email_verified: bool,
}

pub struct UserProfile<'a> {
    pub app_id: AppId,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
}

pub struct NewMerchantSession<'a> {
    pub id_hash: &'a str,
    pub app_id: AppId,
    pub user_id: &'a str,
    pub account_id: AccountId,
    pub role: Role,
    pub csrf_token: &'a str,
    pub id_token_sealed: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug)]
pub struct MerchantSessionRow {
    pub app_id: AppId,
    pub user_id: String,
    pub account_id: AccountId,
    pub role: Role,
    pub csrf_token: String,
    pub id_token_sealed: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub account_name: String,
}

impl Store {
    /// The account's owner, whatever app asks: the caller compares apps, so that "another
    /// partner's account" and "no such account" can be told apart in the partner's log.
    pub async fn account_owner(&self, account: AccountId) -> Result<Option<AccountOwner>, StoreError> {
        let row = sqlx::query(
            "SELECT a.app_id, a.name, le.controller_email, le.controller_email_verified
             FROM accounts a JOIN legal_entities le ON le.id = a.legal_entity_id WHERE a.id = $1",
        )
        .bind(account.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(AccountOwner {
                app_id: parsed(&r, "app_id")?,
                account_name: column(&r, "name")?,
                controller_email: column(&r, "controller_email")?,
                controller_email_verified: column::<i64>(&r, "controller_email_verified")? != 0,
            })
        })
        .transpose()
    }

    /// Creates or updates the user keyed by (app, iss, sub) and records the sign-in on the
    /// account, in one transaction; returns the user's id.
    pub async fn provision_user(&self, profile: &UserProfile<'_>, account: AccountId, role: Role, now: i64) -> Result<String, StoreError> {
        let mut tx = self.writer().begin().await?;
        let row = sqlx::query(
            "INSERT INTO merchant_users (id, app_id, issuer, subject, email, given_name, family_name, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
             ON CONFLICT (app_id, issuer, subject) DO UPDATE SET email = excluded.email, given_name = excluded.given_name,
                family_name = excluded.family_name, updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(profile.app_id.to_string())
        .bind(profile.issuer)
        .bind(profile.subject)
        .bind(profile.email)
        .bind(profile.given_name)
        .bind(profile.family_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let user_id: String = column(&row, "id")?;
        sqlx::query(
            "INSERT INTO account_memberships (user_id, account_id, role, first_sign_in_at, last_sign_in_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (user_id, account_id) DO UPDATE SET role = excluded.role, last_sign_in_at = excluded.last_sign_in_at",
        )
        .bind(&user_id)
        .bind(account.to_string())
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(user_id)
    }

    pub async fn insert_merchant_session(&self, s: &NewMerchantSession<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO merchant_sessions (id_hash, app_id, user_id, account_id, role, csrf_token, id_token_sealed, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
        )
        .bind(s.id_hash)
        .bind(s.app_id.to_string())
        .bind(s.user_id)
        .bind(s.account_id.to_string())
        .bind(s.role.as_str())
        .bind(s.csrf_token)
        .bind(s.id_token_sealed)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The session with the user's profile and the account's name, in one statement.
    pub async fn find_merchant_session(&self, id_hash: &str) -> Result<Option<MerchantSessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT s.app_id, s.user_id, s.account_id, s.role, s.csrf_token, s.id_token_sealed, s.created_at, s.last_seen_at,
                    s.expires_at, u.email, u.given_name, u.family_name, a.name AS account_name
             FROM merchant_sessions s JOIN merchant_users u ON u.id = s.user_id JOIN accounts a ON a.id = s.account_id
             WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(MerchantSessionRow {
                app_id: parsed(&r, "app_id")?,
                user_id: column(&r, "user_id")?,
                account_id: parsed(&r, "account_id")?,
                role: parsed(&r, "role")?,
                csrf_token: column(&r, "csrf_token")?,
                id_token_sealed: column(&r, "id_token_sealed")?,
                created_at: column(&r, "created_at")?,
                last_seen_at: column(&r, "last_seen_at")?,
                expires_at: column(&r, "expires_at")?,
                email: column(&r, "email")?,
                given_name: column(&r, "given_name")?,
                family_name: column(&r, "family_name")?,
                account_name: column(&r, "account_name")?,
            })
        })
        .transpose()
    }

    pub async fn touch_merchant_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE merchant_sessions SET last_seen_at = $2 WHERE id_hash = $1").bind(id_hash).bind(now).execute(self.writer()).await?;
        Ok(())
    }

    pub async fn delete_merchant_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM merchant_sessions WHERE id_hash = $1").bind(id_hash).execute(self.writer()).await?;
        Ok(())
    }

    /// Deletes sessions past their absolute lifetime.
    pub async fn sweep_merchant_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM merchant_sessions WHERE expires_at <= $1").bind(now).execute(self.writer()).await?;
        Ok(done.rows_affected())
    }

    pub async fn count_merchant_sessions(&self, app: AppId) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM merchant_sessions WHERE app_id = $1").bind(app.to_string()).fetch_one(self.reader()).await?;
        column(&row, "n")
    }
}
