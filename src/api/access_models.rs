//! Bodies of the access-grant and session-revocation operations.

use poem_openapi::types::Example;
use poem_openapi::Object;
use serde::Deserialize;

use crate::services::grants::AccountUser as Access;
use crate::store::grants::GrantRow;

/// Who gets access: exactly one of `email`, `phone_number` or `idm_subject`.
#[derive(Object, Deserialize, Debug, Clone)]
#[oai(deny_unknown_fields, example)]
#[serde(deny_unknown_fields)]
pub struct AccountUserCreate {
    /// A verified e-mail at your IdM (compared case-insensitively).
    #[oai(nullable, validator(max_length = 254, pattern = "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"))]
    pub email: Option<String>,
    /// A verified phone number at your IdM, in E.164 (+4799999999); spaces, dots, dashes
    /// and parentheses are dropped.
    #[oai(nullable, validator(max_length = 64, pattern = "^[\\s.()-]*\\+[\\s0-9.()-]+$"))]
    pub phone_number: Option<String>,
    /// Your IdM's `sub` for the person (or the hosted-login user id), compared exactly.
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub idm_subject: Option<String>,
    /// `moderator` (the default) or `financial_admin` (one per legal entity: it names the
    /// controller at your IdM).
    #[oai(nullable)]
    pub role: Option<String>,
}

impl Example for AccountUserCreate {
    fn example() -> Self {
        Self { email: Some("clerk@corner-shop.example".into()), phone_number: None, idm_subject: None, role: Some("moderator".into()) }
    }
}

/// Someone with access to an account.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct AccountUser {
    /// The grant's id, or (for someone who signed in by the account claim or as the
    /// controller) the user's; DELETE takes either.
    pub id: String,
    pub resource: String,
    pub account_id: String,
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub phone_number: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub idm_subject: Option<String>,
    pub role: String,
    /// Where the access comes from: a grant, the IdM's account claim, or the controller's e-mail.
    pub source: String,
    /// The name the IdM gave, once the person has signed in.
    #[oai(skip_serializing_if_is_none)]
    pub name: Option<String>,
    /// Unix time the grant was made (or of the first sign-in).
    pub create_time: i64,
    #[oai(skip_serializing_if_is_none)]
    pub last_sign_in_time: Option<i64>,
}

impl Example for AccountUser {
    fn example() -> Self {
        Self {
            id: "5d0c6a7e-2f41-4b8e-9a3d-7c1e0f2b6a94".into(),
            resource: "account_users".into(),
            account_id: "b774001f-5c1e-4d2a-8f3b-6a9e0c7d1e25".into(),
            email: Some("clerk@corner-shop.example".into()),
            phone_number: None,
            idm_subject: None,
            role: "moderator".into(),
            source: "grant".into(),
            name: None,
            create_time: 1_795_393_700,
            last_sign_in_time: None,
        }
    }
}

impl AccountUser {
    pub fn of(account_id: &str, a: Access) -> Self {
        let (kind, value) = a.matcher;
        let pick = |k: &str| (kind == k).then(|| value.clone());
        Self {
            id: a.id,
            resource: "account_users".into(),
            account_id: account_id.to_owned(),
            email: pick("email"),
            phone_number: pick("phone_number"),
            idm_subject: pick("idm_subject"),
            role: a.role.as_str().into(),
            source: a.source.as_str().into(),
            name: a.name,
            create_time: a.create_time,
            last_sign_in_time: a.last_sign_in_time,
        }
    }

    pub fn of_grant(g: GrantRow) -> Self {
        let pick = |k: &str| (g.matcher_kind == k).then(|| g.display_value.clone());
        Self {
            resource: "account_users".into(),
            account_id: g.account_id.to_string(),
            email: pick("email"),
            phone_number: pick("phone_number"),
            idm_subject: pick("idm_subject"),
            role: g.role.as_str().into(),
            source: "grant".into(),
            name: None,
            create_time: g.created_at,
            last_sign_in_time: None,
            id: g.id,
        }
    }
}

#[derive(Object, Debug, Clone)]
pub struct AccountUserList {
    /// Grants first (oldest first), then the people who signed in by claim or as controller.
    pub users: Vec<AccountUser>,
}

/// Which Merchant Center sessions to end: every filter given must match (at least one).
#[derive(Object, Deserialize, Debug, Clone)]
#[oai(deny_unknown_fields, example)]
#[serde(deny_unknown_fields)]
pub struct SessionRevocation {
    /// One of your accounts.
    #[oai(nullable)]
    pub account_id: Option<String>,
    /// The person's e-mail (any case).
    #[oai(nullable, validator(max_length = 254, pattern = "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"))]
    pub email: Option<String>,
    /// The person's subject at your IdM, exactly.
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub idm_subject: Option<String>,
}

impl Example for SessionRevocation {
    fn example() -> Self {
        Self { account_id: None, email: Some("clerk@corner-shop.example".into()), idm_subject: None }
    }
}

#[derive(Object, Debug, Clone)]
pub struct SessionsRevoked {
    /// How many sessions ended.
    pub revoked: u64,
}

/// Where a deep link lands.
#[derive(Object, Deserialize, Debug, Clone)]
#[oai(deny_unknown_fields, example)]
#[serde(deny_unknown_fields)]
pub struct AccountLinkCreate {
    /// The Merchant Center page: `overview`, `kyc` (business details), `payout` or `users`.
    #[oai(validator(max_length = 32))]
    pub target: String,
}

impl Example for AccountLinkCreate {
    fn example() -> Self {
        Self { target: "kyc".into() }
    }
}

/// A single-use sign-in link to one page of an account's Merchant Center.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct AccountLink {
    /// Send the merchant here (once; it is not shown again). It signs them in through your
    /// IdM, unless their browser is signed in to this account already.
    pub url: String,
    /// Unix time after which the link no longer works (5 minutes after it was made).
    pub expires_at: i64,
}

impl Example for AccountLink {
    fn example() -> Self {
        Self {
            url: "https://causeway.example/sso/oidc/5b0e8a1c-9d2f-4e6b-a7c3-1f8d2e4b6a90/links/7Qx2mB9vK0pL3sT8wY1zC4dF6gH5jN2r".into(),
            expires_at: 1_795_394_100,
        }
    }
}
