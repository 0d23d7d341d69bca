//! What ends or starts a Merchant Center session from outside it: the IdM's back-channel
//! logout (by its session id or subject, each logout token used once) and the partner's
//! single-use deep links.

use super::error::{column, parsed};
use super::{Store, StoreError};
use crate::domain::ids::{AccountId, AppId};

/// Whom a back-channel logout names (OpenID Connect Back-Channel Logout 1.0 §2.7): the IdM
/// session, the subject, or a subject's one session.
pub struct IdmLogout<'a> {
    pub issuer: &'a str,
    pub sid: Option<&'a str>,
    pub sub: Option<&'a str>,
    pub jti_hash: &'a str,
    pub keep_until: i64,
}

pub struct NewLink<'a> {
    pub token_hash: &'a str,
    pub app: AppId,
    pub account: AccountId,
    pub target: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Uses the logout token's `jti` and ends the sessions it names, in one transaction:
    /// `None` when that `jti` was used already (nothing ends), else how many sessions ended.
    pub async fn end_idm_sessions(&self, app: AppId, logout: &IdmLogout<'_>) -> Result<Option<u64>, StoreError> {
        let mut tx = self.writer().begin().await?;
        let fresh = sqlx::query("INSERT INTO logout_token_uses (app_id, jti_hash, keep_until) VALUES ($1, $2, $3) ON CONFLICT (app_id, jti_hash) DO NOTHING")
            .bind(app.to_string())
            .bind(logout.jti_hash)
            .bind(logout.keep_until)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !fresh {
            tx.rollback().await?;
            return Ok(None);
        }
        // By sid (and sub, when both are named), or every session of the sub. Sessions
        // opened before sessions kept a sid carry none: a sid names none of them, a sub all.
        const BY_SID: &str = "DELETE FROM merchant_sessions WHERE app_id = $1 AND idm_sid = $2 AND idm_sid IS NOT NULL
               AND ($3 IS NULL OR user_id IN (SELECT id FROM merchant_users WHERE app_id = $1 AND issuer = $4 AND subject = $3))";
        const BY_SUB: &str = "DELETE FROM merchant_sessions WHERE app_id = $1
               AND user_id IN (SELECT id FROM merchant_users WHERE app_id = $1 AND issuer = $3 AND subject = $2)";
        let ended = match (logout.sid, logout.sub) {
            (Some(sid), sub) => sqlx::query(BY_SID).bind(app.to_string()).bind(sid).bind(sub).bind(logout.issuer).execute(&mut *tx).await?,
            (None, Some(sub)) => sqlx::query(BY_SUB).bind(app.to_string()).bind(sub).bind(logout.issuer).execute(&mut *tx).await?,
            (None, None) => {
                tx.rollback().await?;
                return Ok(Some(0));
            }
        }
        .rows_affected();
        tx.commit().await?;
        Ok(Some(ended))
    }

    pub async fn insert_account_link(&self, link: &NewLink<'_>) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO account_links (token_hash, app_id, account_id, target, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(link.token_hash)
            .bind(link.app.to_string())
            .bind(link.account.to_string())
            .bind(link.target)
            .bind(link.created_at)
            .bind(link.expires_at)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Uses `app`'s link `token_hash` if it is unused and unexpired at `now`, and returns
    /// its account and target: one statement, so two clicks cannot both use it.
    pub async fn claim_account_link(&self, app: AppId, token_hash: &str, now: i64) -> Result<Option<(AccountId, String)>, StoreError> {
        let claimed = sqlx::query(
            "UPDATE account_links SET used_at = $3 WHERE token_hash = $1 AND app_id = $2 AND used_at IS NULL AND expires_at > $3
             RETURNING account_id, target",
        )
        .bind(token_hash)
        .bind(app.to_string())
        .bind(now)
        .fetch_optional(self.writer())
        .await?;
        claimed.map(|row| Ok((parsed(&row, "account_id")?, column(&row, "target")?))).transpose()
    }

    /// Forgets used logout tokens that could no longer be accepted, and expired deep links.
    pub async fn sweep_session_lifecycle(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM logout_token_uses WHERE keep_until <= $1").bind(now).execute(self.writer()).await?;
        sqlx::query("DELETE FROM account_links WHERE expires_at <= $1").bind(now).execute(self.writer()).await?;
        Ok(())
    }
}
