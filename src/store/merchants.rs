//! Merchant users, their account memberships and Merchant Center sessions.

use super::brandings::BrandingRow;
use super::error::{column, parsed, Row};
use super::merchant_center::{KycRow, PayoutRow};
use super::{Store, StoreError};
use crate::domain::access::Source;
use crate::domain::ids::{AccountId, AppId};
use crate::domain::role::Role;

pub struct UserProfile<'a> {
    pub app_id: AppId,
    pub issuer: &'a str,
    pub subject: &'a str,
    /// As the IdM sent it, verified or not; `None` when it sent none.
    pub email: Option<&'a str>,
    /// What e-mail grants and the controller rule match: lower case, verified only.
    pub email_key: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    /// What phone grants match: E.164, verified only.
    pub phone_key: Option<&'a str>,
    pub given_name: &'a str,
    pub family_name: &'a str,
}

/// An account a session is (or is being) bound to, with the role and where access came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    pub account: AccountId,
    pub role: Role,
    pub source: Source,
}

/// A successful sign-in, written in one statement (see migration 0010): the user as the
/// IdM vouched for them, their sign-in on the account, the session and the partner's event.
/// A login's `state` as the database records it used: its hash, and the expiry sealed in it.
#[derive(Clone, Debug)]
pub struct UsedState {
    pub hash: String,
    pub expires_at: i64,
}

pub struct SignIn<'a> {
    pub profile: UserProfile<'a>,
    /// `None`: the person reaches several accounts and chooses one first.
    pub membership: Option<Membership>,
    pub session_id_hash: &'a str,
    pub csrf_token: &'a str,
    pub logout_hint_sealed: Option<&'a str>,
    pub sign_out_origins: &'a str,
    /// How many accounts the person reached at sign-in (more than one: they may switch).
    pub reachable_accounts: i64,
    pub expires_at: i64,
    /// The IdM's session (the ID token's `sid`), for back-channel logout.
    pub idm_sid: Option<&'a str>,
    /// When the person last authenticated at the IdM (`auth_time`, else this sign-in).
    pub authenticated_at: i64,
    pub event_id: &'a str,
    pub event_detail: &'a str,
    pub correlation_id: &'a str,
    pub signed_in_at: i64,
    /// Recorded used by the same statement: a state used before refuses the whole sign-in.
    pub used_state: &'a UsedState,
}

/// A live session bound to an account, with everything a Merchant Center page shows
/// around it, read in one statement: the page's only database round trip.
#[derive(Clone, Debug)]
pub struct MerchantSessionRow {
    pub app_id: AppId,
    pub user_id: String,
    pub account_id: AccountId,
    pub role: Role,
    pub csrf_token: String,
    pub sign_out_origins: String,
    pub reachable_accounts: i64,
    pub created_at: i64,
    /// When the person last authenticated at the IdM, for step-up.
    pub authenticated_at: i64,
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

/// A live session whose person has yet to choose among their accounts.
#[derive(Clone, Debug)]
pub struct ChoosingSessionRow {
    pub app_id: AppId,
    pub user_id: String,
    pub csrf_token: String,
    pub sign_out_origins: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub app_name: String,
    pub app_active: bool,
    pub branding: Option<BrandingRow>,
}

#[derive(Clone, Debug)]
pub enum SessionRow {
    Bound(Box<MerchantSessionRow>),
    Choosing(Box<ChoosingSessionRow>),
}

impl SessionRow {
    pub fn app_id(&self) -> AppId {
        match self {
            Self::Bound(s) => s.app_id,
            Self::Choosing(s) => s.app_id,
        }
    }

    pub fn app_active(&self) -> bool {
        match self {
            Self::Bound(s) => s.app_active,
            Self::Choosing(s) => s.app_active,
        }
    }

    /// (last seen, absolute expiry)
    pub fn times(&self) -> (i64, i64) {
        match self {
            Self::Bound(s) => (s.last_seen_at, s.expires_at),
            Self::Choosing(s) => (s.last_seen_at, s.expires_at),
        }
    }

    pub fn user_id(&self) -> &str {
        match self {
            Self::Bound(s) => &s.user_id,
            Self::Choosing(s) => &s.user_id,
        }
    }

    pub fn csrf_token(&self) -> &str {
        match self {
            Self::Bound(s) => &s.csrf_token,
            Self::Choosing(s) => &s.csrf_token,
        }
    }
}

impl Store {
    /// Writes a sign-in: creates or updates the user keyed by (app, iss, sub) with the
    /// profile the IdM sent this time, records the membership (when bound), opens the
    /// session, logs the event and records the login's state used — one statement, so one
    /// round trip, all or nothing. `Conflict` when the state was used already.
    pub async fn sign_in(&self, s: &SignIn<'_>) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO sign_ins (new_user_id, app_id, issuer, subject, email, email_key, phone_number, phone_key, given_name,
                family_name, account_id, role, source, session_id_hash, csrf_token, logout_hint_sealed, sign_out_origins, reachable_accounts,
                expires_at, event_id, event_detail, correlation_id, signed_in_at, idm_sid, authenticated_at, state_hash, state_expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)";
        let p = &s.profile;
        let params = [
            uuid::Uuid::new_v4().to_string().into(),
            p.app_id.to_string().into(),
            p.issuer.into(),
            p.subject.into(),
            p.email.unwrap_or_default().into(),
            p.email_key.into(),
            p.phone_number.into(),
            p.phone_key.into(),
            p.given_name.into(),
            p.family_name.into(),
            s.membership.map(|m| m.account.to_string()).into(),
            s.membership.map(|m| m.role.as_str()).into(),
            s.membership.map(|m| m.source.as_str()).into(),
            s.session_id_hash.into(),
            s.csrf_token.into(),
            s.logout_hint_sealed.into(),
            s.sign_out_origins.into(),
            s.reachable_accounts.into(),
            s.expires_at.into(),
            s.event_id.into(),
            s.event_detail.into(),
            s.correlation_id.into(),
            s.signed_in_at.into(),
            s.idm_sid.into(),
            s.authenticated_at.into(),
            (&s.used_state.hash).into(),
            s.used_state.expires_at.into(),
        ];
        self.write_rows(SQL, &params, |_| Ok(())).await?;
        self.logged_apps.note(p.app_id);
        Ok(())
    }

    /// Records a sign-in on an account: who, with which role, from which source.
    pub async fn record_membership(&self, user_id: &str, m: Membership, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO account_memberships (user_id, account_id, role, source, first_sign_in_at, last_sign_in_at) VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (user_id, account_id) DO UPDATE SET role = excluded.role, source = excluded.source,
                last_sign_in_at = excluded.last_sign_in_at",
        )
        .bind(user_id)
        .bind(m.account.to_string())
        .bind(m.role.as_str())
        .bind(m.source.as_str())
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// What the user's access is looked up by: (verified e-mail key, verified phone, subject).
    pub async fn user_access_keys(&self, user_id: &str) -> Result<(Option<String>, Option<String>, String), StoreError> {
        let row = sqlx::query("SELECT email_key, phone_key, subject FROM merchant_users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((column(&row, "email_key")?, column(&row, "phone_key")?, column(&row, "subject")?))
    }

    /// Binds a choosing session to the account its person chose (or switches a bound one).
    pub async fn bind_merchant_session(&self, id_hash: &str, m: Membership) -> Result<(), StoreError> {
        sqlx::query("UPDATE merchant_sessions SET account_id = $2, role = $3 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(m.account.to_string())
            .bind(m.role.as_str())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The session with its user, account, legal entity country, app, branding, KYC and
    /// payout summary, in one statement.
    pub async fn find_merchant_session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        const SQL: &str = "SELECT s.app_id, s.user_id, s.account_id, s.role, s.csrf_token, s.sign_out_origins, s.reachable_accounts,
                    s.created_at, COALESCE(s.authenticated_at, s.created_at) AS authenticated_at, s.last_seen_at,
                    s.expires_at, u.email, u.given_name, u.family_name, a.name AS account_name,
                    a.description AS account_description, le.country, ap.name AS app_name, ap.status AS app_status,
                    b.display_name, b.logo_url, b.brand_color, b.support_label, b.updated_at AS branding_updated_at,
                    k.legal_name, k.address_line1, k.address_line2, k.city, k.region, k.postal_code, k.business_type,
                    k.tax_id_last4, k.representative_dob, k.submitted_at,
                    p.account_holder, p.routing_last4, p.account_last4, p.updated_at AS payout_updated_at
             FROM merchant_sessions s
             JOIN merchant_users u ON u.id = s.user_id
             LEFT JOIN accounts a ON a.id = s.account_id
             LEFT JOIN legal_entities le ON le.id = a.legal_entity_id
             JOIN apps ap ON ap.id = s.app_id
             LEFT JOIN brandings b ON b.app_id = s.app_id
             LEFT JOIN kyc_profiles k ON k.account_id = s.account_id
             LEFT JOIN payout_methods p ON p.account_id = s.account_id
             WHERE s.id_hash = $1";
        Ok(self.read_rows(SQL, &[id_hash.into()], |row| session_row(row)).await?.pop())
    }

    pub async fn touch_merchant_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE merchant_sessions SET last_seen_at = $2 WHERE id_hash = $1";
        self.write_rows(SQL, &[id_hash.into(), now.into()], |_| Ok(())).await?;
        Ok(())
    }

    /// Ends a session at its person's sign-out and hands back what it kept for the IdM's
    /// end-session endpoint (`None`: no hint, or the session had ended already). Taken
    /// here rather than with every page's read: a sealed ID token is about a kilobyte,
    /// and only sign-out needs it.
    pub async fn end_merchant_session(&self, id_hash: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = sqlx::query_as("DELETE FROM merchant_sessions WHERE id_hash = $1 RETURNING logout_hint_sealed")
            .bind(id_hash)
            .fetch_optional(self.writer())
            .await?;
        Ok(row.and_then(|(hint,)| hint))
    }

    pub async fn delete_merchant_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM merchant_sessions WHERE id_hash = $1").bind(id_hash).execute(self.writer()).await?;
        Ok(())
    }

    /// Ends the app's sessions that match every filter given (at least one is): on the
    /// account, of users with the e-mail (any case, verified or not), of the IdM subject.
    pub async fn revoke_merchant_sessions(&self, app: AppId, account: Option<AccountId>, email_key: Option<&str>, subject: Option<&str>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM merchant_sessions WHERE app_id = $1 AND ($2 IS NULL OR account_id = $2)
               AND user_id IN (SELECT id FROM merchant_users WHERE app_id = $1 AND ($3 IS NULL OR lower(email) = $3) AND ($4 IS NULL OR subject = $4))",
        )
        .bind(app.to_string())
        .bind(account.map(|a| a.to_string()))
        .bind(email_key)
        .bind(subject)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
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

fn session_row(r: &(impl Row + ?Sized)) -> Result<SessionRow, StoreError> {
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
    if column::<Option<String>>(r, "account_id")?.is_none() {
        return Ok(SessionRow::Choosing(Box::new(ChoosingSessionRow {
            app_id: parsed(r, "app_id")?,
            user_id: column(r, "user_id")?,
            csrf_token: column(r, "csrf_token")?,
            sign_out_origins: column(r, "sign_out_origins")?,
            last_seen_at: column(r, "last_seen_at")?,
            expires_at: column(r, "expires_at")?,
            email: column(r, "email")?,
            given_name: column(r, "given_name")?,
            family_name: column(r, "family_name")?,
            app_name: column(r, "app_name")?,
            app_active: column::<String>(r, "app_status")? == "active",
            branding,
        })));
    }
    Ok(SessionRow::Bound(Box::new(MerchantSessionRow {
        app_id: parsed(r, "app_id")?,
        user_id: column(r, "user_id")?,
        account_id: parsed(r, "account_id")?,
        role: parsed(r, "role")?,
        csrf_token: column(r, "csrf_token")?,
        sign_out_origins: column(r, "sign_out_origins")?,
        reachable_accounts: column(r, "reachable_accounts")?,
        created_at: column(r, "created_at")?,
        authenticated_at: column(r, "authenticated_at")?,
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
    })))
}
