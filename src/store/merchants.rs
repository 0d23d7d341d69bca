//! Merchant users, their account memberships and Merchant Center sessions.

use sqlx::any::AnyRow;

use super::brandings::BrandingRow;
use super::error::{column, parsed};
use super::merchant_center::{KycRow, PayoutRow};
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
    pub sign_out_origins: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A live session with everything a Merchant Center page shows around it, read in one
/// statement: the page's only database round trip.
#[derive(Clone, Debug)]
pub struct MerchantSessionRow {
    pub app_id: AppId,
    pub user_id: String,
    pub account_id: AccountId,
    pub role: Role,
    pub csrf_token: String,
    pub id_token_sealed: String,
    pub sign_out_origins: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub account_name: String,
    pub account_description: Option<String>,
    pub country: String,
    pub app_name: String,
    pub app_active: bool,
    /// `None` until the partner sets a branding.
    pub branding: Option<BrandingRow>,
    pub kyc: Option<KycRow>,
    pub payout: Option<PayoutRow>,
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
    /// account; returns the user's id. Two statements without a transaction: a user whose
    /// membership write failed holds no access (access is the membership), the next sign-in
    /// writes it, and BEGIN/COMMIT would double the round trips of every login.
    pub async fn provision_user(&self, profile: &UserProfile<'_>, account: AccountId, role: Role, now: i64) -> Result<String, StoreError> {
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
        .fetch_one(self.writer())
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
        .execute(self.writer())
        .await?;
        Ok(user_id)
    }

    pub async fn insert_merchant_session(&self, s: &NewMerchantSession<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO merchant_sessions (id_hash, app_id, user_id, account_id, role, csrf_token, id_token_sealed, created_at, last_seen_at,
                expires_at, sign_out_origins)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)",
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
        .bind(s.sign_out_origins)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The session with its user, account, legal entity country, app, branding, KYC and
    /// payout summary, in one statement.
    pub async fn find_merchant_session(&self, id_hash: &str) -> Result<Option<MerchantSessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT s.app_id, s.user_id, s.account_id, s.role, s.csrf_token, s.id_token_sealed, s.sign_out_origins, s.created_at, s.last_seen_at,
                    s.expires_at, u.email, u.given_name, u.family_name, a.name AS account_name,
                    a.description AS account_description, le.country, ap.name AS app_name, ap.status AS app_status,
                    b.display_name, b.logo_url, b.brand_color, b.support_label, b.updated_at AS branding_updated_at,
                    k.legal_name, k.address_line1, k.address_line2, k.city, k.region, k.postal_code, k.business_type,
                    k.tax_id_last4, k.representative_dob, k.submitted_at,
                    p.account_holder, p.routing_last4, p.account_last4, p.updated_at AS payout_updated_at
             FROM merchant_sessions s
             JOIN merchant_users u ON u.id = s.user_id
             JOIN accounts a ON a.id = s.account_id
             JOIN legal_entities le ON le.id = a.legal_entity_id
             JOIN apps ap ON ap.id = s.app_id
             LEFT JOIN brandings b ON b.app_id = s.app_id
             LEFT JOIN kyc_profiles k ON k.account_id = s.account_id
             LEFT JOIN payout_methods p ON p.account_id = s.account_id
             WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| session_row(&r)).transpose()
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

fn session_row(r: &AnyRow) -> Result<MerchantSessionRow, StoreError> {
    let branding = match column::<Option<i64>>(r, "branding_updated_at")? {
        None => None,
        Some(updated_at) => Some(BrandingRow {
            display_name: column(r, "display_name")?,
            logo_url: column(r, "logo_url")?,
            brand_color: column(r, "brand_color")?,
            support_label: column(r, "support_label")?,
            updated_at,
        }),
    };
    let kyc = match column::<Option<i64>>(r, "submitted_at")? {
        None => None,
        Some(submitted_at) => Some(KycRow {
            legal_name: column(r, "legal_name")?,
            address_line1: column(r, "address_line1")?,
            address_line2: column(r, "address_line2")?,
            city: column(r, "city")?,
            region: column(r, "region")?,
            postal_code: column(r, "postal_code")?,
            business_type: column(r, "business_type")?,
            tax_id_last4: column(r, "tax_id_last4")?,
            representative_dob: column(r, "representative_dob")?,
            submitted_at,
        }),
    };
    let payout = match column::<Option<i64>>(r, "payout_updated_at")? {
        None => None,
        Some(updated_at) => Some(PayoutRow {
            account_holder: column(r, "account_holder")?,
            routing_last4: column(r, "routing_last4")?,
            account_last4: column(r, "account_last4")?,
            updated_at,
        }),
    };
    Ok(MerchantSessionRow {
        app_id: parsed(r, "app_id")?,
        user_id: column(r, "user_id")?,
        account_id: parsed(r, "account_id")?,
        role: parsed(r, "role")?,
        csrf_token: column(r, "csrf_token")?,
        id_token_sealed: column(r, "id_token_sealed")?,
        sign_out_origins: column(r, "sign_out_origins")?,
        created_at: column(r, "created_at")?,
        last_seen_at: column(r, "last_seen_at")?,
        expires_at: column(r, "expires_at")?,
        email: column(r, "email")?,
        given_name: column(r, "given_name")?,
        family_name: column(r, "family_name")?,
        account_name: column(r, "account_name")?,
        account_description: column(r, "account_description")?,
        country: column(r, "country")?,
        app_name: column(r, "app_name")?,
        app_active: column::<String>(r, "app_status")? == "active",
        branding,
        kyc,
        payout,
    })
}
