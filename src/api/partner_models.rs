//! Bodies of the Partner API.

use poem_openapi::Object;
use poem_openapi::types::Example;
use serde::Deserialize;

use crate::domain::idm_config::{ClaimNamesInput, HostedLoginConfig, IdmConfigInput, Kind, UserinfoMode, DEFAULT_REQUIRED_CLAIMS};
use crate::domain::urls::UrlPolicy;
use crate::federation::idm_check::CheckReport;
use crate::services::idm::{IdmHistoryEntry, IdmView};
use crate::store::brandings::BrandingRow;
use crate::store::sso_events::SsoEventRow;

/// The partner's identity manager, of one kind: `oidc` (the default: issuer, client_id,
/// client_secret, domain, logout_url required) or `hosted_login` (base_url, site_key,
/// service_key, user_id_field, logout_url required). A field of the other kind is refused.
/// The secret (`client_secret` or `service_key`) is write-only: send it the first time, and
/// whenever it changes; leave it out to keep the stored one.
#[derive(Object, Deserialize, Debug, Clone)]
#[oai(deny_unknown_fields, example)]
#[serde(deny_unknown_fields)]
pub struct IdmConfigBody {
    /// `oidc` (the default) or `hosted_login`.
    #[oai(nullable)]
    pub kind: Option<String>,
    /// OIDC: discovery is fetched from issuer + /.well-known/openid-configuration.
    #[oai(nullable)]
    pub issuer: Option<String>,
    /// OIDC: the client your IdM registered for Causeway.
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub client_id: Option<String>,
    /// OIDC, write-only: stored encrypted, never returned.
    #[oai(nullable, write_only, validator(min_length = 1, max_length = 1024))]
    pub client_secret: Option<String>,
    /// OIDC: `client_secret_basic` (the default) or `client_secret_post`.
    #[oai(nullable)]
    pub token_endpoint_auth_method: Option<String>,
    /// OIDC: optional overrides; required when the IdM has no discovery.
    #[oai(nullable)]
    pub authorization_endpoint: Option<String>,
    #[oai(nullable)]
    pub token_endpoint: Option<String>,
    #[oai(nullable)]
    pub jwks_uri: Option<String>,
    #[oai(nullable)]
    pub userinfo_endpoint: Option<String>,
    #[oai(nullable)]
    pub end_session_endpoint: Option<String>,
    /// OIDC: the bare host name that namespaces the account claim
    /// `https://{domain}/wepay_account_id`.
    #[oai(nullable, validator(min_length = 1, max_length = 253))]
    pub domain: Option<String>,
    /// Where merchants go after logout (both kinds).
    #[oai(nullable)]
    pub logout_url: Option<String>,
    /// OIDC: defaults to openid, email, profile; must include openid.
    #[oai(nullable, validator(min_items = 1, max_items = 20))]
    pub scopes: Option<Vec<String>>,
    /// OIDC: clock skew allowed on ID-token exp and iat, in seconds (default 60).
    #[oai(nullable, validator(minimum(value = "0"), maximum(value = "300")))]
    pub clock_leeway_seconds: Option<i64>,
    /// OIDC: `when_needed` (the default: only if a claim Causeway needs is missing from the
    /// ID token), `always` or `never`.
    #[oai(nullable)]
    pub userinfo: Option<String>,
    /// OIDC: the names your IdM gives the claims Causeway reads (each defaults to the standard name).
    #[oai(nullable)]
    pub claims: Option<ClaimNamesBody>,
    /// OIDC: the claims a sign-in must carry (default email, given_name and family_name).
    #[oai(nullable)]
    pub required_claims: Option<Vec<String>>,
    /// OIDC: `required` (the default: only `email_verified: true` counts) or `trusted_idm`
    /// (your IdM sends no `email_verified` and you vouch for its e-mails).
    #[oai(nullable)]
    pub email_verified: Option<String>,
    /// Hosted login: the IdM's address.
    #[oai(nullable)]
    pub base_url: Option<String>,
    /// Hosted login: default base_url + /connect/login.
    #[oai(nullable)]
    pub login_url: Option<String>,
    /// Hosted login: default base_url + /api/service/exchange.
    #[oai(nullable)]
    pub exchange_url: Option<String>,
    /// Hosted login: the site key the IdM's administrator approved.
    #[oai(nullable, validator(pattern = "^[!-~]{1,128}$"))]
    pub site_key: Option<String>,
    /// Hosted login, write-only: sent as `X-Service-Key` with every code exchange; stored
    /// encrypted, never returned.
    #[oai(nullable, write_only, validator(min_length = 1, max_length = 1024))]
    pub service_key: Option<String>,
    /// Hosted login: the member of the exchange answer's `data` holding the user id.
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub user_id_field: Option<String>,
}

/// Claim names, as your IdM spells them.
#[derive(Object, Deserialize, Debug, Clone, Default)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ClaimNamesBody {
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub email: Option<String>,
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub given_name: Option<String>,
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub family_name: Option<String>,
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub phone_number: Option<String>,
    /// The claim naming the merchant account; default `https://{domain}/wepay_account_id`.
    #[oai(nullable, validator(min_length = 1, max_length = 255))]
    pub account: Option<String>,
}

impl From<ClaimNamesBody> for ClaimNamesInput {
    fn from(b: ClaimNamesBody) -> Self {
        Self { email: b.email, given_name: b.given_name, family_name: b.family_name, phone_number: b.phone_number, account: b.account }
    }
}

impl Example for IdmConfigBody {
    fn example() -> Self {
        Self {
            kind: Some("oidc".into()),
            issuer: Some("https://idm.partner.example/".into()),
            client_id: Some("causeway".into()),
            client_secret: Some("s3cr3t-from-your-idm".into()),
            token_endpoint_auth_method: Some("client_secret_basic".into()),
            authorization_endpoint: None,
            token_endpoint: None,
            jwks_uri: None,
            userinfo_endpoint: None,
            end_session_endpoint: None,
            domain: Some("partner.example".into()),
            logout_url: Some("https://partner.example/after-logout".into()),
            scopes: Some(vec!["openid".into(), "email".into(), "profile".into()]),
            clock_leeway_seconds: None,
            userinfo: Some("when_needed".into()),
            claims: None,
            required_claims: Some(vec!["email".into(), "given_name".into(), "family_name".into()]),
            email_verified: Some("required".into()),
            base_url: None,
            login_url: None,
            exchange_url: None,
            site_key: None,
            service_key: None,
            user_id_field: None,
        }
    }
}

impl IdmConfigBody {
    pub fn input(&self) -> IdmConfigInput {
        IdmConfigInput {
            kind: self.kind.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            token_endpoint_auth_method: self.token_endpoint_auth_method.clone(),
            authorization_endpoint: self.authorization_endpoint.clone(),
            token_endpoint: self.token_endpoint.clone(),
            jwks_uri: self.jwks_uri.clone(),
            userinfo_endpoint: self.userinfo_endpoint.clone(),
            end_session_endpoint: self.end_session_endpoint.clone(),
            domain: self.domain.clone(),
            logout_url: self.logout_url.clone(),
            scopes: self.scopes.clone(),
            clock_leeway_seconds: self.clock_leeway_seconds,
            userinfo: self.userinfo.clone(),
            claims: self.claims.clone().map(Into::into),
            required_claims: self.required_claims.clone(),
            email_verified: self.email_verified.clone(),
            base_url: self.base_url.clone(),
            login_url: self.login_url.clone(),
            exchange_url: self.exchange_url.clone(),
            site_key: self.site_key.clone(),
            user_id_field: self.user_id_field.clone(),
        }
    }
}

/// The stored configuration (without the secret) and what to register at the IdM.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct IdmConfigView {
    /// False until the first PUT.
    pub configured: bool,
    #[oai(skip_serializing_if_is_none)]
    pub version: Option<i64>,
    /// Unix time of the last change.
    #[oai(skip_serializing_if_is_none)]
    pub update_time: Option<i64>,
    /// Once configured.
    #[oai(skip_serializing_if_is_none)]
    pub kind: Option<String>,
    /// OIDC: whether a client secret is stored (never shown).
    pub client_secret_set: bool,
    /// Hosted login: whether a service key is stored (never shown).
    pub service_key_set: bool,
    /// Register this redirect URI (callback URL) for Causeway at your IdM.
    pub redirect_uri: String,
    /// Link merchants here to sign in to their Merchant Center.
    pub cta_url: String,
    /// Register this back-channel logout URI at an OpenID IdM that supports it: when the IdM
    /// ends a user's session, it ends their Merchant Center sessions too.
    pub backchannel_logout_uri: String,
    #[oai(skip_serializing_if_is_none)]
    pub config: Option<IdmSettings>,
}

/// The stored configuration; the fields of its kind only.
#[derive(Object, Debug, Clone)]
pub struct IdmSettings {
    pub kind: String,
    #[oai(skip_serializing_if_is_none)]
    pub issuer: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub client_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub token_endpoint_auth_method: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub authorization_endpoint: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub token_endpoint: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub jwks_uri: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub userinfo_endpoint: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub end_session_endpoint: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub domain: Option<String>,
    /// OIDC: the claim that names the merchant's account (when your IdM sends one).
    #[oai(skip_serializing_if_is_none)]
    pub account_claim: Option<String>,
    pub logout_url: String,
    #[oai(skip_serializing_if_is_none)]
    pub scopes: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    pub clock_leeway_seconds: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub userinfo: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub claims: Option<ClaimNamesView>,
    #[oai(skip_serializing_if_is_none)]
    pub required_claims: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    pub email_verified: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub base_url: Option<String>,
    /// Hosted login: the login page (the default, when not set).
    #[oai(skip_serializing_if_is_none)]
    pub login_url: Option<String>,
    /// Hosted login: the exchange endpoint (the default, when not set).
    #[oai(skip_serializing_if_is_none)]
    pub exchange_url: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub site_key: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub user_id_field: Option<String>,
}

/// The claim names Causeway reads.
#[derive(Object, Debug, Clone)]
pub struct ClaimNamesView {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub phone_number: String,
    pub account: String,
}

impl From<IdmConfigInput> for IdmSettings {
    fn from(c: IdmConfigInput) -> Self {
        let logout_url = c.logout_url.clone().unwrap_or_default();
        if c.kind.as_deref() == Some(Kind::HostedLogin.as_str()) {
            // The effective addresses: the defaults are shown as what they are.
            let config = HostedLoginConfig::parse(&c, UrlPolicy::AllowInsecure).ok();
            return Self {
                kind: Kind::HostedLogin.as_str().into(),
                login_url: config.as_ref().map(|h| h.login_url.as_str().to_owned()),
                exchange_url: config.as_ref().map(|h| h.exchange_url.as_str().to_owned()),
                base_url: c.base_url,
                site_key: c.site_key,
                user_id_field: c.user_id_field,
                logout_url,
                ..Self::empty()
            };
        }
        let domain = c.domain.clone().unwrap_or_default();
        let account_claim = c.claims.as_ref().and_then(|n| n.account.clone()).unwrap_or_else(|| format!("https://{domain}/wepay_account_id"));
        let names = c.claims.clone().unwrap_or_default();
        let name = |n: Option<String>, standard: &str| n.unwrap_or_else(|| standard.to_owned());
        Self {
            kind: Kind::Oidc.as_str().into(),
            userinfo: Some(c.userinfo.clone().unwrap_or_else(|| UserinfoMode::WhenNeeded.as_str().into())),
            claims: Some(ClaimNamesView {
                email: name(names.email, "email"),
                given_name: name(names.given_name, "given_name"),
                family_name: name(names.family_name, "family_name"),
                phone_number: name(names.phone_number, "phone_number"),
                account: account_claim.clone(),
            }),
            required_claims: Some(c.required_claims.clone().unwrap_or_else(|| DEFAULT_REQUIRED_CLAIMS.iter().map(|r| r.as_str().to_owned()).collect())),
            email_verified: Some(c.email_verified.clone().unwrap_or_else(|| "required".into())),
            account_claim: Some(account_claim),
            issuer: c.issuer,
            client_id: c.client_id,
            token_endpoint_auth_method: Some(c.token_endpoint_auth_method.unwrap_or_else(|| "client_secret_basic".into())),
            authorization_endpoint: c.authorization_endpoint,
            token_endpoint: c.token_endpoint,
            jwks_uri: c.jwks_uri,
            userinfo_endpoint: c.userinfo_endpoint,
            end_session_endpoint: c.end_session_endpoint,
            domain: Some(domain),
            logout_url,
            scopes: Some(c.scopes.unwrap_or_default()),
            clock_leeway_seconds: Some(c.clock_leeway_seconds.unwrap_or(crate::domain::idm_config::DEFAULT_CLOCK_LEEWAY_SECONDS)),
            ..Self::empty()
        }
    }
}

impl IdmSettings {
    fn empty() -> Self {
        Self {
            kind: String::new(),
            issuer: None,
            client_id: None,
            token_endpoint_auth_method: None,
            authorization_endpoint: None,
            token_endpoint: None,
            jwks_uri: None,
            userinfo_endpoint: None,
            end_session_endpoint: None,
            domain: None,
            account_claim: None,
            logout_url: String::new(),
            scopes: None,
            clock_leeway_seconds: None,
            userinfo: None,
            claims: None,
            required_claims: None,
            email_verified: None,
            base_url: None,
            login_url: None,
            exchange_url: None,
            site_key: None,
            user_id_field: None,
        }
    }
}

impl From<IdmView> for IdmConfigView {
    fn from(v: IdmView) -> Self {
        Self {
            configured: v.config.is_some(),
            version: v.version,
            update_time: v.updated_at,
            kind: v.kind.map(|k| k.as_str().to_owned()),
            client_secret_set: v.secret_set && v.kind == Some(Kind::Oidc),
            service_key_set: v.secret_set && v.kind == Some(Kind::HostedLogin),
            redirect_uri: v.redirect_uri,
            cta_url: v.cta_url,
            backchannel_logout_uri: v.backchannel_logout_uri,
            config: v.config.map(Into::into),
        }
    }
}

#[derive(Object, Debug, Clone)]
pub struct IdmHistoryItem {
    pub version: i64,
    /// Unix time.
    pub change_time: i64,
    /// `Partner API`, `Partner Center`, or the operator's command.
    pub changed_by: String,
    /// Whether this version set a new client secret (the secret itself is never shown).
    pub secret_changed: bool,
    pub config: IdmSettings,
}

impl From<IdmHistoryEntry> for IdmHistoryItem {
    fn from(e: IdmHistoryEntry) -> Self {
        Self { version: e.version, change_time: e.changed_at, changed_by: e.changed_by, secret_changed: e.secret_changed, config: e.config.into() }
    }
}

#[derive(Object, Debug, Clone)]
pub struct IdmHistory {
    /// Newest first.
    pub versions: Vec<IdmHistoryItem>,
}

#[derive(Object, Debug, Clone)]
pub struct IdmTestStep {
    pub name: String,
    pub status: String,
    /// What was found, and what to fix when it failed.
    pub detail: String,
    pub duration_ms: u64,
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct IdmTestReport {
    /// True when no step failed.
    pub ok: bool,
    pub steps: Vec<IdmTestStep>,
}

impl From<CheckReport> for IdmTestReport {
    fn from(r: CheckReport) -> Self {
        Self {
            ok: r.ok(),
            steps: r
                .steps
                .into_iter()
                .map(|s| IdmTestStep { name: s.name.into(), status: s.status.as_str().into(), detail: s.detail, duration_ms: s.millis })
                .collect(),
        }
    }
}

#[derive(Object, Deserialize, Debug, Clone)]
#[oai(deny_unknown_fields, example)]
#[serde(deny_unknown_fields)]
pub struct BrandingBody {
    /// Shown in the Merchant Center header.
    #[oai(validator(min_length = 1, max_length = 80))]
    pub display_name: String,
    /// https URL of a logo image.
    #[oai(nullable)]
    pub logo_url: Option<String>,
    /// #RRGGBB.
    #[oai(validator(pattern = "^#[0-9A-Fa-f]{6}$"))]
    pub brand_color: String,
    /// Where merchants get help, for example.
    #[oai(nullable, validator(max_length = 120))]
    pub support_label: Option<String>,
}

impl Example for BrandingBody {
    fn example() -> Self {
        Self {
            display_name: "Acme Payments".into(),
            logo_url: Some("https://acme.example/logo.svg".into()),
            brand_color: "#1A56DB".into(),
            support_label: Some("Questions? support@acme.example".into()),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct BrandingView {
    pub display_name: String,
    #[oai(skip_serializing_if_is_none)]
    pub logo_url: Option<String>,
    pub brand_color: String,
    #[oai(skip_serializing_if_is_none)]
    pub support_label: Option<String>,
}

impl From<BrandingRow> for BrandingView {
    fn from(b: BrandingRow) -> Self {
        Self { display_name: b.display_name, logo_url: b.logo_url, brand_color: b.brand_color, support_label: b.support_label }
    }
}

#[derive(Object, Debug, Clone)]
pub struct SsoEvent {
    pub id: String,
    /// Unix time.
    pub time: i64,
    pub outcome: String,
    /// Set when the attempt failed.
    #[oai(skip_serializing_if_is_none)]
    pub error_code: Option<String>,
    /// What happened, and for a failure what to fix.
    pub detail: String,
    /// The request's `X-Correlation-Id`, also shown on the merchant's error page.
    pub correlation_id: String,
}

impl From<SsoEventRow> for SsoEvent {
    fn from(e: SsoEventRow) -> Self {
        // Events written before the catalog was closed say `claim_missing:<name>`.
        let error_code = e.error_code.map(|code| code.split(':').next().unwrap_or_default().to_owned());
        Self { id: e.id, time: e.occurred_at, outcome: e.outcome, error_code, detail: e.detail, correlation_id: e.correlation_id }
    }
}

/// Failed sign-ins with one error code.
#[derive(Object, Debug, Clone)]
pub struct HealthFailure {
    pub error_code: String,
    pub count: i64,
}

/// Sign-ins within one clock-offset bucket.
#[derive(Object, Debug, Clone)]
pub struct HealthOffset {
    /// Causeway's clock minus the ID token's `iat`, up to this many seconds (`+Inf`: more).
    pub up_to_seconds: String,
    pub count: i64,
}

/// A change the IdM monitor noticed at your IdM.
#[derive(Object, Debug, Clone)]
pub struct HealthNotice {
    /// Unix time.
    pub time: i64,
    /// `unreachable`, `reachable_again`, `keys_added`, `keys_removed`, `one_signing_key_left`,
    /// `algorithms_changed`, `endpoint_changed` or `issuer_changed`.
    pub kind: String,
    pub detail: String,
}

/// One hour of the window.
#[derive(Object, Debug, Clone)]
pub struct HealthHour {
    /// Unix time of the hour's start.
    pub hour: i64,
    pub started: i64,
    pub succeeded: i64,
    pub failed: i64,
}

/// Sign-in health over a window.
#[derive(Object, Debug, Clone)]
pub struct PartnerHealth {
    /// `24h` or `7d`.
    pub window: String,
    pub started: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Most frequent first.
    pub failed_by_code: Vec<HealthFailure>,
    /// Succeeded over completed sign-ins, 0 to 1; absent before any.
    #[oai(skip_serializing_if_is_none)]
    pub success_rate: Option<f64>,
    #[oai(skip_serializing_if_is_none)]
    pub callback_p50_ms: Option<u64>,
    #[oai(skip_serializing_if_is_none)]
    pub callback_p95_ms: Option<u64>,
    #[oai(skip_serializing_if_is_none)]
    pub token_endpoint_p50_ms: Option<u64>,
    #[oai(skip_serializing_if_is_none)]
    pub token_endpoint_p95_ms: Option<u64>,
    /// JWKS documents fetched from your IdM, and how many of those fetches failed.
    pub jwks_fetches: i64,
    pub jwks_fetch_failures: i64,
    pub clock_offsets: Vec<HealthOffset>,
    /// Every hour of the window, oldest first.
    pub hourly: Vec<HealthHour>,
    /// What the IdM monitor noticed within the window (discovery and JWKS read again
    /// every few minutes), newest first.
    pub notices: Vec<HealthNotice>,
}

impl From<crate::services::health::Health> for PartnerHealth {
    fn from(h: crate::services::health::Health) -> Self {
        Self {
            window: h.window.to_owned(),
            started: h.started,
            succeeded: h.succeeded,
            failed: h.failed,
            failed_by_code: h.failed_by_code.into_iter().map(|(error_code, count)| HealthFailure { error_code, count }).collect(),
            success_rate: h.success_rate,
            callback_p50_ms: h.callback_p50_ms,
            callback_p95_ms: h.callback_p95_ms,
            token_endpoint_p50_ms: h.token_endpoint_p50_ms,
            token_endpoint_p95_ms: h.token_endpoint_p95_ms,
            jwks_fetches: h.jwks_fetches,
            jwks_fetch_failures: h.jwks_fetch_failures,
            clock_offsets: h.clock_offsets.into_iter().map(|(up_to_seconds, count)| HealthOffset { up_to_seconds, count }).collect(),
            hourly: h.hourly.into_iter().map(|x| HealthHour { hour: x.hour, started: x.started, succeeded: x.succeeded, failed: x.failed }).collect(),
            notices: h.notices.into_iter().map(|n| HealthNotice { time: n.occurred_at, kind: n.kind, detail: n.detail }).collect(),
        }
    }
}

/// Where a test sign-in starts.
#[derive(Object, Debug, Clone)]
pub struct TestSignInStart {
    pub id: String,
    /// Open it in a browser: it leads to your IdM's sign-in.
    pub url: String,
    /// Unix time; the report is kept until then.
    pub expires_at: i64,
}

/// One rule of a test sign-in.
#[derive(Object, Debug, Clone)]
pub struct TestSignInCheck {
    pub rule: String,
    pub passed: bool,
    /// What Causeway saw (claim names, JSON types, your own values; never a token or secret).
    pub observed: String,
    /// What to change; empty when the rule passed.
    pub fix: String,
}

/// A claim as the IdM sent it.
#[derive(Object, Debug, Clone)]
pub struct TestSignInClaim {
    pub name: String,
    /// `string`, `boolean`, `number`, `array`, `object` or `null`.
    pub json_type: String,
    /// The value, for protocol claims and your people's profile; absent for others.
    #[oai(skip_serializing_if_is_none)]
    pub value: Option<serde_json::Value>,
}

/// The claims of the ID token and of userinfo, side by side.
#[derive(Object, Debug, Clone)]
pub struct TestSignInClaims {
    pub id_token: Vec<TestSignInClaim>,
    /// Absent when userinfo was not read.
    #[oai(skip_serializing_if_is_none)]
    pub userinfo: Option<Vec<TestSignInClaim>>,
}

/// A test sign-in: `pending` until the IdM's answer came back, then `passed` (every rule
/// passed) or `failed`, with every rule.
#[derive(Object, Debug, Clone)]
pub struct TestSignInReport {
    pub id: String,
    /// `pending`, `passed` or `failed`.
    pub status: String,
    pub checks: Vec<TestSignInCheck>,
    #[oai(skip_serializing_if_is_none)]
    pub claims: Option<TestSignInClaims>,
    /// The ID token's signing algorithm and key id.
    #[oai(skip_serializing_if_is_none)]
    pub alg: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub kid: Option<String>,
    /// Causeway's clock minus the ID token's `iat`, in seconds.
    #[oai(skip_serializing_if_is_none)]
    pub clock_offset_seconds: Option<i64>,
    /// The account and role the identity would get.
    #[oai(skip_serializing_if_is_none)]
    pub account_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub role: Option<String>,
    /// Why that account and role (claim, grant, controller), or why none.
    #[oai(skip_serializing_if_is_none)]
    pub access: Option<String>,
    pub expires_at: i64,
}

impl From<crate::services::test_sign_ins::Found> for TestSignInReport {
    fn from(found: crate::services::test_sign_ins::Found) -> Self {
        let claim = |c: crate::domain::test_sign_in::ClaimSeen| TestSignInClaim { name: c.name, json_type: c.json_type, value: c.value };
        let mut out = Self {
            id: found.id,
            status: found.status,
            checks: vec![],
            claims: None,
            alg: None,
            kid: None,
            clock_offset_seconds: None,
            account_id: None,
            role: None,
            access: None,
            expires_at: found.expires_at,
        };
        if let Some(r) = found.report {
            out.checks = r.checks.into_iter().map(|c| TestSignInCheck { rule: c.rule, passed: c.passed, observed: c.observed, fix: c.fix }).collect();
            out.claims = Some(TestSignInClaims {
                id_token: r.id_token_claims.into_iter().map(claim).collect(),
                userinfo: r.userinfo_claims.map(|u| u.into_iter().map(claim).collect()),
            });
            (out.alg, out.kid, out.clock_offset_seconds, out.account_id, out.role, out.access) =
                (r.alg, r.kid, r.clock_offset_seconds, r.account_id, r.role, Some(r.access));
        }
        out
    }
}

/// One entry of the audit trail.
#[derive(Object, Debug, Clone)]
pub struct AuditEvent {
    /// Its number in the app's chain, from 1.
    pub seq: i64,
    /// Unix time.
    pub time: i64,
    /// Who acted: `Partner API`, `Partner Center`, `operator`, or `causeway demo`.
    pub actor: String,
    /// What was done, as `object.verb` (`idm_config.set`, `branding.set`, `grant.create`, …).
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// What changed (never a secret).
    pub detail: String,
    /// The hash of the entry before (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 of `prev_hash` followed by the entry's canonical form, lower-case hex.
    pub hash: String,
}

impl From<crate::domain::audit::AuditEntry> for AuditEvent {
    fn from(e: crate::domain::audit::AuditEntry) -> Self {
        Self { seq: e.seq, time: e.occurred_at, actor: e.actor, action: e.action, target: e.target, detail: e.detail, prev_hash: e.prev_hash, hash: e.hash }
    }
}

#[derive(Object, Debug, Clone)]
pub struct AuditEventList {
    /// Newest first.
    pub events: Vec<AuditEvent>,
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct SsoEventList {
    /// Newest first.
    pub events: Vec<SsoEvent>,
}

impl Example for IdmConfigView {
    fn example() -> Self {
        Self {
            configured: true,
            version: Some(3),
            update_time: Some(1_795_393_800),
            kind: Some(Kind::Oidc.as_str().into()),
            client_secret_set: true,
            service_key_set: false,
            redirect_uri: "https://causeway.example/sso/oidc/5b0e8a1c-9d2f-4e6b-a7c3-1f8d2e4b6a90/callback".into(),
            cta_url: "https://causeway.example/sso/oidc/5b0e8a1c-9d2f-4e6b-a7c3-1f8d2e4b6a90".into(),
            backchannel_logout_uri: "https://causeway.example/sso/oidc/5b0e8a1c-9d2f-4e6b-a7c3-1f8d2e4b6a90/backchannel_logout".into(),
            config: Some(IdmConfigBody::example().input().into()),
        }
    }
}

impl Example for IdmTestReport {
    fn example() -> Self {
        let step = |name: &str, status: &str, detail: &str, duration_ms| IdmTestStep { name: name.into(), status: status.into(), detail: detail.into(), duration_ms };
        Self {
            ok: false,
            steps: vec![
                step("discovery", "passed", "Fetched the discovery document at https://idm.partner.example/.well-known/openid-configuration.", 84),
                step("issuer", "passed", "The discovery document names exactly the configured issuer.", 0),
                step("endpoints", "passed", "Authorization, token and JWKS endpoints are known.", 0),
                step("capabilities", "passed", "The IdM supports the code flow, PKCE S256 and client_secret_basic.", 0),
                step("userinfo", "passed", "Userinfo is at https://idm.partner.example/userinfo and is called only when the ID token lacks a claim.", 0),
                step("jwks", "failed", "Could not fetch the JWKS at https://idm.partner.example/jwks: HTTP 404. Check the URL; the server must answer 200 with the document.", 61),
            ],
        }
    }
}

impl Example for BrandingView {
    fn example() -> Self {
        let b = BrandingBody::example();
        Self { display_name: b.display_name, logo_url: b.logo_url, brand_color: b.brand_color, support_label: b.support_label }
    }
}

impl Example for SsoEventList {
    fn example() -> Self {
        Self {
            events: vec![
                SsoEvent {
                    id: "019ad6f2-41c0-7b3e-9f12-3c4d5e6f7a81".into(),
                    time: 1_795_394_000,
                    outcome: "failed".into(),
                    error_code: Some("email_unverified".into()),
                    detail: crate::domain::sso_error::SsoError::EmailUnverified.fix_hint().into(),
                    correlation_id: "6f1e2d3c-4b5a-4978-8e6f-5a4b3c2d1e0f".into(),
                },
                SsoEvent {
                    id: "019ad6f1-9a20-7c44-8d01-2b3c4d5e6f70".into(),
                    time: 1_795_393_950,
                    outcome: "succeeded".into(),
                    error_code: None,
                    detail: "owner@corner-shop.example signed in to account b774001f-5c1e-4d2a-8f3b-6a9e0c7d1e25 as Financial admin (controller).".into(),
                    correlation_id: "0a1b2c3d-4e5f-4607-8899-aabbccddeeff".into(),
                },
            ],
        }
    }
}
