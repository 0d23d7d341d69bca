//! What the Merchant Center keeps per account: KYC details, the payout bank account, and
//! who has signed in.

use super::error::{column, parsed};
use super::{Store, StoreError};
use crate::domain::access::Source;
use crate::domain::ids::AccountId;
use crate::domain::role::Role;

/// KYC details as stored; the tax id only by its last four digits.
#[derive(Clone, Debug)]
pub struct KycRow {
    pub legal_name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub business_type: String,
    pub tax_id_last4: String,
    pub representative_dob: String,
    pub submitted_at: i64,
}

/// The payout bank account as pages may show it.
#[derive(Clone, Debug)]
pub struct PayoutRow {
    pub account_holder: String,
    pub routing_last4: String,
    pub account_last4: String,
    pub updated_at: i64,
}

pub struct NewKyc<'a> {
    pub legal_name: &'a str,
    pub address_line1: &'a str,
    pub address_line2: &'a str,
    pub city: &'a str,
    pub region: &'a str,
    pub postal_code: &'a str,
    pub business_type: &'a str,
    /// `None` keeps the tax id on file (sealed value, last four digits).
    pub tax_id: Option<(&'a str, &'a str)>,
    pub representative_dob: &'a str,
}

pub struct NewPayout<'a> {
    pub account_holder: &'a str,
    pub bank_sealed: &'a str,
    pub routing_last4: &'a str,
    pub account_last4: &'a str,
}

#[derive(Clone, Debug)]
pub struct MemberRow {
    pub user_id: String,
    pub given_name: String,
    pub family_name: String,
    /// '' when the IdM sent none.
    pub email: String,
    pub phone_number: Option<String>,
    pub subject: String,
    /// What grants match (verified only).
    pub email_key: Option<String>,
    pub phone_key: Option<String>,
    pub role: Role,
    pub source: Source,
    pub first_sign_in_at: i64,
    pub last_sign_in_at: i64,
}

/// Columns holding values sealed with the master key under a one-column key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealedColumn {
    KycTaxId,
    PayoutBank,
    SessionIdToken,
}

impl SealedColumn {
    pub const ALL: [Self; 3] = [Self::KycTaxId, Self::PayoutBank, Self::SessionIdToken];

    fn select(self) -> &'static str {
        match self {
            Self::KycTaxId => "SELECT account_id AS k, tax_id_sealed AS v FROM kyc_profiles",
            Self::PayoutBank => "SELECT account_id AS k, bank_sealed AS v FROM payout_methods",
            Self::SessionIdToken => "SELECT id_hash AS k, logout_hint_sealed AS v FROM merchant_sessions WHERE logout_hint_sealed IS NOT NULL",
        }
    }

    fn update(self) -> &'static str {
        match self {
            Self::KycTaxId => "UPDATE kyc_profiles SET tax_id_sealed = $2 WHERE account_id = $1",
            Self::PayoutBank => "UPDATE payout_methods SET bank_sealed = $2 WHERE account_id = $1",
            Self::SessionIdToken => "UPDATE merchant_sessions SET logout_hint_sealed = $2 WHERE id_hash = $1",
        }
    }
}

impl Store {
    /// Creates or replaces the account's KYC details.
    pub async fn save_kyc(&self, account: AccountId, k: &NewKyc<'_>, user_id: &str, now: i64) -> Result<(), StoreError> {
        let sql = match k.tax_id {
            Some(_) => {
                "INSERT INTO kyc_profiles (account_id, legal_name, address_line1, address_line2, city, region, postal_code,
                    business_type, representative_dob, submitted_by, submitted_at, tax_id_sealed, tax_id_last4)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (account_id) DO UPDATE SET legal_name = excluded.legal_name, address_line1 = excluded.address_line1,
                    address_line2 = excluded.address_line2, city = excluded.city, region = excluded.region,
                    postal_code = excluded.postal_code, business_type = excluded.business_type,
                    representative_dob = excluded.representative_dob, submitted_by = excluded.submitted_by,
                    submitted_at = excluded.submitted_at, tax_id_sealed = excluded.tax_id_sealed, tax_id_last4 = excluded.tax_id_last4"
            }
            None => {
                "UPDATE kyc_profiles SET legal_name = $2, address_line1 = $3, address_line2 = $4, city = $5, region = $6,
                    postal_code = $7, business_type = $8, representative_dob = $9, submitted_by = $10, submitted_at = $11
                 WHERE account_id = $1"
            }
        };
        let mut query = sqlx::query(sql)
            .bind(account.to_string())
            .bind(k.legal_name)
            .bind(k.address_line1)
            .bind(k.address_line2)
            .bind(k.city)
            .bind(k.region)
            .bind(k.postal_code)
            .bind(k.business_type)
            .bind(k.representative_dob)
            .bind(user_id)
            .bind(now);
        if let Some((sealed, last4)) = k.tax_id {
            query = query.bind(sealed).bind(last4);
        }
        let done = query.execute(self.writer()).await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn save_payout(&self, account: AccountId, p: &NewPayout<'_>, user_id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO payout_methods (account_id, account_holder, bank_sealed, routing_last4, account_last4, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (account_id) DO UPDATE SET account_holder = excluded.account_holder, bank_sealed = excluded.bank_sealed,
                routing_last4 = excluded.routing_last4, account_last4 = excluded.account_last4,
                updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(account.to_string())
        .bind(p.account_holder)
        .bind(p.bank_sealed)
        .bind(p.routing_last4)
        .bind(p.account_last4)
        .bind(user_id)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Everyone who has signed in to the account, most recent first.
    pub async fn account_members(&self, account: AccountId) -> Result<Vec<MemberRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.user_id, u.given_name, u.family_name, u.email, u.phone_number, u.subject, u.email_key, u.phone_key, m.role, m.source,
                    m.first_sign_in_at, m.last_sign_in_at
             FROM account_memberships m JOIN merchant_users u ON u.id = m.user_id
             WHERE m.account_id = $1 ORDER BY m.last_sign_in_at DESC, u.email",
        )
        .bind(account.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MemberRow {
                    user_id: column(r, "user_id")?,
                    given_name: column(r, "given_name")?,
                    family_name: column(r, "family_name")?,
                    email: column(r, "email")?,
                    phone_number: column(r, "phone_number")?,
                    subject: column(r, "subject")?,
                    email_key: column(r, "email_key")?,
                    phone_key: column(r, "phone_key")?,
                    role: parsed(r, "role")?,
                    source: {
                        let raw: String = column(r, "source")?;
                        Source::parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("source: {raw:?}")))?
                    },
                    first_sign_in_at: column(r, "first_sign_in_at")?,
                    last_sign_in_at: column(r, "last_sign_in_at")?,
                })
            })
            .collect()
    }

    /// Forgets that the user signed in to the account and ends their sessions there.
    pub async fn remove_member(&self, account: AccountId, user_id: &str) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM merchant_sessions WHERE account_id = $1 AND user_id = $2")
            .bind(account.to_string())
            .bind(user_id)
            .execute(self.writer())
            .await?;
        let done = sqlx::query("DELETE FROM account_memberships WHERE account_id = $1 AND user_id = $2")
            .bind(account.to_string())
            .bind(user_id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// (key, sealed value) of every row of `col`, for master-key rotation.
    pub async fn sealed_values(&self, col: SealedColumn) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(col.select()).fetch_all(self.reader()).await?;
        rows.iter().map(|r| Ok((column(r, "k")?, column(r, "v")?))).collect()
    }

    pub async fn reseal_value(&self, col: SealedColumn, key: &str, sealed: &str) -> Result<(), StoreError> {
        sqlx::query(col.update()).bind(key).bind(sealed).execute(self.writer()).await?;
        Ok(())
    }
}
