//! The stable catalog of SSO failure codes: what the merchant's error page shows, what
//! the partner reads in its event log, and how the partner fixes each one.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SsoError {
    AppUnknown,
    AppSuspended,
    /// Sign-ins started faster than allowed from one address, browser or for one app.
    TooManySignIns { retry_after: u64 },
    IdmNotConfigured,
    IdmUnavailable { detail: String },
    IdmError { error: String },
    IdmCredentialsRejected,
    StateMissing,
    StateUnknown,
    StateExpired,
    StateReplayed,
    FlowOtherBrowser,
    IssParamMismatch,
    TokenEndpointFailed { detail: String },
    CodeRejected,
    IdTokenMissing,
    IdTokenMalformed,
    AlgNotAllowed,
    KidUnknownAfterRefresh,
    SignatureInvalid,
    IssMismatch,
    AudMismatch,
    AzpMismatch,
    TokenExpired,
    IatInFuture,
    NonceMismatch,
    EmailUnverified,
    PhoneUnverified,
    ClaimMissing(String),
    UserinfoFailed { detail: String },
    UserinfoSubMismatch,
    AccountUnknown,
    AccountOtherPartner,
    AccountNotGranted,
    UserInactive,
    /// A deep link used before, expired, or never made.
    LinkExpired,
    /// A step-up's IdM answered without authenticating the person again.
    StepUpRequired,
    /// Causeway itself failed (database, sealing); details are in its own log.
    Internal,
}

impl SsoError {
    /// The claim a `claim_missing` failure is about.
    pub fn missing_claim(&self) -> Option<&str> {
        match self {
            Self::ClaimMissing(name) => Some(name),
            _ => None,
        }
    }

    /// The code shown on the error page and stored in the partner's event log; one of a
    /// closed set (the claim a `claim_missing` is about travels in the detail).
    pub fn code(&self) -> String {
        let code = match self {
            Self::AppUnknown => "app_unknown",
            Self::AppSuspended => "app_suspended",
            Self::TooManySignIns { .. } => "too_many_sign_ins",
            Self::IdmNotConfigured => "idm_not_configured",
            Self::IdmUnavailable { .. } => "idm_unavailable",
            Self::IdmError { .. } => "idm_error",
            Self::IdmCredentialsRejected => "idm_credentials_rejected",
            Self::StateMissing => "state_missing",
            Self::StateUnknown => "state_unknown",
            Self::StateExpired => "state_expired",
            Self::StateReplayed => "state_replayed",
            Self::FlowOtherBrowser => "flow_other_browser",
            Self::IssParamMismatch => "iss_param_mismatch",
            Self::TokenEndpointFailed { .. } => "token_endpoint_failed",
            Self::CodeRejected => "code_rejected",
            Self::IdTokenMissing => "id_token_missing",
            Self::IdTokenMalformed => "id_token_malformed",
            Self::AlgNotAllowed => "alg_not_allowed",
            Self::KidUnknownAfterRefresh => "kid_unknown_after_refresh",
            Self::SignatureInvalid => "signature_invalid",
            Self::IssMismatch => "iss_mismatch",
            Self::AudMismatch => "aud_mismatch",
            Self::AzpMismatch => "azp_mismatch",
            Self::TokenExpired => "token_expired",
            Self::IatInFuture => "iat_in_future",
            Self::NonceMismatch => "nonce_mismatch",
            Self::EmailUnverified => "email_unverified",
            Self::PhoneUnverified => "phone_unverified",
            Self::ClaimMissing(_) => "claim_missing",
            Self::UserinfoFailed { .. } => "userinfo_failed",
            Self::UserinfoSubMismatch => "userinfo_sub_mismatch",
            Self::AccountUnknown => "account_unknown",
            Self::AccountOtherPartner => "account_other_partner",
            Self::AccountNotGranted => "account_not_granted",
            Self::UserInactive => "user_inactive",
            Self::LinkExpired => "link_expired",
            Self::StepUpRequired => "step_up_required",
            Self::Internal => "internal_error",
        };
        code.to_owned()
    }

    /// What the partner's developer should change; shown in the event log and the
    /// browser console, never to the merchant as the main message.
    pub fn fix_hint(&self) -> &'static str {
        match self {
            Self::AppUnknown => "The sign-in link names no Causeway app: check the app id in the CTA URL.",
            Self::AppSuspended => "The app is suspended by the Causeway operator; contact them.",
            Self::TooManySignIns { .. } => "Sign-ins started faster than Causeway allows from one address or browser (or for your app); wait a minute. If real merchants meet this, ask the operator to raise CAUSEWAY_CTA_RATE_PER_MINUTE.",
            Self::IdmNotConfigured => "Configure your IdM in the Partner Center (or PUT /partner/idm) before linking merchants.",
            Self::IdmUnavailable { .. } => "Causeway could not reach your IdM (its discovery document, or the code exchange answered 5xx, late or not in JSON); run the connection test in the Partner Center.",
            Self::IdmError { .. } => "Your IdM refused the sign-in; its error is in the detail. Check the client's redirect URI, scopes and grant settings.",
            Self::IdmCredentialsRejected => "Your IdM refused Causeway's service key (HTTP 401): it is wrong or was rotated. Paste the site's current service key in the Partner Center (or PUT /partner/idm).",
            Self::StateMissing => "The IdM redirected back without the state parameter; it must return state unchanged.",
            Self::StateUnknown => "This sign-in was already completed or never started here; start again from the CTA.",
            Self::StateExpired => "The sign-in took longer than 10 minutes; start again from the CTA.",
            Self::StateReplayed => "This callback was already used (a reload, a back button, or a replay); start again from the CTA.",
            Self::FlowOtherBrowser => "The sign-in finished in another browser than it started in; start again from the CTA in one browser.",
            Self::IssParamMismatch => "The iss parameter of the redirect (RFC 9207) is not your configured issuer.",
            Self::TokenEndpointFailed { .. } => "The token endpoint failed or did not answer in time: check its URL, the client secret and the auth method.",
            Self::CodeRejected => "Your IdM refused the code (invalid_grant, or a 4xx from the exchange): a code is single-use, short-lived and bound to its site, callback URL and PKCE verifier.",
            Self::IdTokenMissing => "The token response has no id_token: request the openid scope.",
            Self::IdTokenMalformed => "The id_token is not a well-formed signed JWT.",
            Self::AlgNotAllowed => "Sign ID tokens with RS256, PS256, ES256 or EdDSA (never none or HS256).",
            Self::KidUnknownAfterRefresh => "The ID token's kid is not in your JWKS, even after refetching it: publish the signing key.",
            Self::SignatureInvalid => "The ID token's signature does not verify with the published key.",
            Self::IssMismatch => "The ID token's iss differs from the configured issuer (compared exactly, trailing slash included).",
            Self::AudMismatch => "The ID token's aud must contain the client id configured in Causeway.",
            Self::AzpMismatch => "The ID token's azp must equal the configured client id (and is required with several audiences).",
            Self::TokenExpired => "The ID token had expired: check the IdM's clock and token lifetime.",
            Self::IatInFuture => "The ID token was issued in the future: check the IdM's clock.",
            Self::NonceMismatch => "The ID token's nonce must be the one Causeway sent in the authorization request.",
            Self::EmailUnverified => "email_verified must be the JSON boolean true: verify the user's e-mail address at the IdM, or set email_verified to trusted_idm if your IdM never sends it.",
            Self::PhoneUnverified => "phone_number is required, so phone_number_verified must be the JSON boolean true: verify the user's phone number at the IdM.",
            Self::ClaimMissing(_) => "Send the missing claim (named in the detail) in the ID token or at userinfo, or remove it from required_claims.",
            Self::UserinfoFailed { .. } => "Causeway could not read your IdM's userinfo endpoint (an error status, no answer in time, or not a JSON object): check the endpoint and that it accepts the access token.",
            Self::UserinfoSubMismatch => "The userinfo response names another sub than the ID token (OIDC Core §5.3.2): both must be about the same user.",
            Self::AccountUnknown => "The account claim names no account: create it with POST /accounts first, and send its id.",
            Self::AccountOtherPartner => "The account claim names an account of another platform.",
            Self::UserInactive => "Your IdM says this user's status is not active: activate the user in your directory.",
            Self::AccountNotGranted => "This person has no access to any of your accounts: send the account claim in the ID token, or grant access with POST /accounts/{id}/users (by e-mail, phone number or IdM subject).",
            Self::LinkExpired => "The deep link was used already or is older than 5 minutes: create one with POST /accounts/{id}/links each time you send a merchant to a task.",
            Self::StepUpRequired => "Causeway asked your IdM to authenticate the person again (prompt=login, max_age) before a payout or KYC change, and its ID token's auth_time is older: honour prompt=login and max_age.",
            Self::Internal => "Causeway failed on its side; quote the correlation id to Causeway's operator.",
        }
    }

    /// A short sentence for the merchant on the error page.
    pub fn human_message(&self) -> &'static str {
        match self {
            Self::StateExpired | Self::StateUnknown | Self::StateReplayed | Self::FlowOtherBrowser | Self::StateMissing => {
                "This sign-in link has expired or was opened in another browser. Please start again."
            }
            Self::AppSuspended => "Sign-in is temporarily unavailable for this platform.",
            Self::TooManySignIns { .. } => "Too many sign-in attempts in a short time. Please wait a minute and try again.",
            Self::AccountUnknown | Self::AccountOtherPartner | Self::AccountNotGranted => "Your user is not linked to a merchant account here yet.",
            Self::EmailUnverified => "Your e-mail address must be verified before you can sign in.",
            Self::UserInactive => "Your user is not active at your platform. Its support team can help.",
            Self::PhoneUnverified => "Your phone number must be verified before you can sign in.",
            Self::LinkExpired => "This link has expired or was already used. Sign in to continue.",
            Self::StepUpRequired => "To change these details you must sign in again, and the sign-in did not ask for your password. Please try again.",
            _ => "We could not sign you in. The platform's support team can help with the code below.",
        }
    }
}

impl SsoError {
    /// One of each failure, for documentation and the test that keeps the README's
    /// catalog complete.
    pub fn catalog() -> Vec<Self> {
        vec![
            Self::AppUnknown,
            Self::AppSuspended,
            Self::TooManySignIns { retry_after: 0 },
            Self::IdmNotConfigured,
            Self::IdmUnavailable { detail: String::new() },
            Self::IdmError { error: String::new() },
            Self::IdmCredentialsRejected,
            Self::StateMissing,
            Self::StateUnknown,
            Self::StateExpired,
            Self::StateReplayed,
            Self::FlowOtherBrowser,
            Self::IssParamMismatch,
            Self::TokenEndpointFailed { detail: String::new() },
            Self::CodeRejected,
            Self::IdTokenMissing,
            Self::IdTokenMalformed,
            Self::AlgNotAllowed,
            Self::KidUnknownAfterRefresh,
            Self::SignatureInvalid,
            Self::IssMismatch,
            Self::AudMismatch,
            Self::AzpMismatch,
            Self::TokenExpired,
            Self::IatInFuture,
            Self::NonceMismatch,
            Self::EmailUnverified,
            Self::PhoneUnverified,
            Self::ClaimMissing("<name>".into()),
            Self::UserinfoFailed { detail: String::new() },
            Self::UserinfoSubMismatch,
            Self::AccountUnknown,
            Self::AccountOtherPartner,
            Self::AccountNotGranted,
            Self::UserInactive,
            Self::LinkExpired,
            Self::StepUpRequired,
            Self::Internal,
        ]
    }
}

impl fmt::Display for SsoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl std::error::Error for SsoError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_every_code_with_its_fix() {
        let readme = include_str!("../../README.md");
        for error in SsoError::catalog() {
            let row = format!("| `{}` | {} |", error.code(), error.fix_hint());
            assert!(readme.contains(&row), "README.md lacks the row:\n{row}");
        }
    }

    #[test]
    fn codes_are_stable_snake_case() {
        assert_eq!(SsoError::ClaimMissing("given_name".into()).code(), "claim_missing");
        assert_eq!(SsoError::ClaimMissing("given_name".into()).missing_claim(), Some("given_name"));
        assert_eq!(SsoError::KidUnknownAfterRefresh.code(), "kid_unknown_after_refresh");
        for e in [SsoError::StateExpired, SsoError::AlgNotAllowed, SsoError::AccountOtherPartner] {
            assert!(e.code().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(!e.fix_hint().is_empty());
        }
    }
}
