//! The seam between Causeway and a partner IdM, after Dex's connectors: one required core
//! (send the browser to the IdM, then turn its answer into a `FederatedIdentity`) and the
//! few capabilities logins around it need (the identity policy, sign-out). Every kind
//! (OpenID Connect, hosted login) implements it; nothing outside `federation/` knows which
//! kind it talks to.

use std::time::Duration;

use futures_util::future::BoxFuture;
use secrecy::SecretString;
use url::Url;

use super::http::OutboundClient;
use super::jwks::JwksCache;
use crate::domain::identity::{FederatedIdentity, IdentityPolicy};
use crate::domain::ids::AppId;

/// Where to send the browser, and what the callback will need back. The caller seals
/// `private` into the login's `state` (only Causeway can open it) and adds that `state` to
/// the URL: the connector's secrets are part of what the state carries, so the URL is
/// complete only after they exist.
pub struct LoginStart {
    /// The IdM's authorization URL without `state`.
    pub url: Url,
    pub private: SecretString,
}

impl LoginStart {
    /// The URL the browser goes to, carrying `state`.
    pub fn url_with_state(&self, state: &str) -> Url {
        let mut url = self.url.clone();
        url.query_pairs_mut().append_pair("state", state);
        url
    }
}

/// What the IdM put on the redirect back to Causeway, besides `state` and `error`, which
/// the login service reads itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Callback<'a> {
    pub code: Option<&'a str>,
    /// RFC 9207's `iss` authorization-response parameter.
    pub iss: Option<&'a str>,
}

/// What a connector may use to complete a login.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub client: &'a OutboundClient,
    pub jwks: &'a JwksCache,
    pub app: AppId,
    pub now: i64,
    pub redirect_uri: &'a str,
}

pub struct Completion {
    pub identity: FederatedIdentity,
    /// What sign-out hands back to the IdM (the ID token, as `id_token_hint`).
    pub logout_hint: Option<SecretString>,
    /// How long the IdM's code exchange took (token endpoint, or the hosted-login exchange).
    pub exchange_took: Duration,
}

/// A logout token from the IdM (OpenID Connect Back-Channel Logout 1.0) that passed every
/// rule but its `jti`'s single use, which the caller enforces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutNotice {
    pub issuer: String,
    pub sid: Option<String>,
    pub sub: Option<String>,
    pub jti: String,
    /// Until when the token could still be accepted: its `jti` is kept that long.
    pub valid_until: i64,
}

/// How a login is to be asked of the IdM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginOptions {
    /// Step-up: the person must authenticate again, at most this many seconds before
    /// (OIDC Core §3.1.2.1 `prompt=login` and `max_age`).
    pub reauthenticate_within: Option<i64>,
}

/// One protocol rule's verdict in a test sign-in.
pub struct RuleVerdict {
    pub rule: &'static str,
    pub observed: String,
    pub verdict: Result<(), FederationError>,
}

/// A test sign-in's view of the IdM's answer: every protocol rule, and what the IdM said
/// (the identity the partner's policy is then judged on, whatever the rules found).
#[derive(Default)]
pub struct Inspection {
    pub rules: Vec<RuleVerdict>,
    pub identity: Option<FederatedIdentity>,
    /// The ID token's `alg` and `kid` (OIDC).
    pub alg: Option<String>,
    pub kid: Option<String>,
    /// The ID token's `iat`, for the clock offset.
    pub issued_at: Option<i64>,
}

/// Why an IdM's answer was refused, in protocol terms; `services::login` maps each to the
/// SSO error catalog.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FederationError {
    #[error("the IdM could not be reached: {detail}")]
    Unavailable { detail: String },
    #[error("the IdM configuration lacks an endpoint a login needs")]
    NotConfigured,
    #[error("the iss parameter of the redirect is not the configured issuer")]
    IssParamMismatch,
    #[error("the redirect carries no code")]
    CodeMissing,
    #[error("the token endpoint failed: {detail}")]
    TokenEndpoint { detail: String },
    #[error("the IdM refused the code")]
    CodeRejected,
    #[error("the token response has no id_token")]
    IdTokenMissing,
    #[error("the id_token is not a well-formed JWS")]
    IdTokenMalformed,
    #[error("the id_token's algorithm is not allowed")]
    AlgNotAllowed,
    #[error("no key for the id_token's kid, even after refetching the JWKS")]
    KidUnknownAfterRefresh,
    #[error("the id_token's signature does not verify")]
    SignatureInvalid,
    #[error("iss is not the configured issuer")]
    IssMismatch,
    #[error("aud does not contain the client id")]
    AudMismatch,
    #[error("azp is not the client id")]
    AzpMismatch,
    #[error("the id_token expired")]
    TokenExpired,
    #[error("the id_token was issued in the future")]
    IatInFuture,
    #[error("nonce mismatch")]
    NonceMismatch,
    #[error("claim {0} is missing")]
    ClaimMissing(String),
    #[error("userinfo failed: {detail}")]
    UserinfoFailed { detail: String },
    #[error("userinfo names another sub")]
    UserinfoSubMismatch,
    #[error("the IdM refused Causeway's credentials (service key)")]
    CredentialsRejected,
    #[error("the IdM says the user is not active")]
    UserInactive,
    #[error("the flow's private state cannot be read")]
    PrivateState,
}

/// A partner IdM opened from one version of its configuration.
pub trait Connector: Send + Sync {
    /// The configuration version this connector was opened from.
    fn config_version(&self) -> i64;

    /// The IdM's authorization URL for a new login (without `state`: see `LoginStart`).
    fn begin_login(&self, redirect_uri: &str, options: LoginOptions) -> LoginStart;

    /// The IdM's answer at the callback, checked by every rule of the protocol.
    fn complete_login<'a>(
        &'a self,
        ctx: Context<'a>,
        callback: Callback<'a>,
        private: &'a SecretString,
    ) -> BoxFuture<'a, Result<Completion, FederationError>>;

    /// Which claims the partner's IdM uses, which it must send, which e-mails count.
    fn identity_policy(&self) -> &IdentityPolicy;

    /// A test sign-in: the answer judged by every rule instead of up to the first failure.
    /// A kind without rules of its own to list reports its completion as one rule.
    fn inspect_login<'a>(&'a self, ctx: Context<'a>, callback: Callback<'a>, private: &'a SecretString) -> BoxFuture<'a, Inspection> {
        Box::pin(async move {
            match self.complete_login(ctx, callback, private).await {
                Ok(done) => Inspection {
                    rules: vec![RuleVerdict { rule: "exchange", observed: "the IdM answered with an identity".into(), verdict: Ok(()) }],
                    identity: Some(done.identity),
                    ..Inspection::default()
                },
                Err(err) => Inspection { rules: vec![RuleVerdict { rule: "exchange", observed: err.to_string(), verdict: Err(err) }], ..Inspection::default() },
            }
        })
    }

    /// A logout token the IdM posted to the back-channel logout URI, checked by every rule
    /// but the `jti`'s single use; the sentence says which rule it broke. Kinds without
    /// back-channel logout refuse every token.
    fn backchannel_logout<'a>(&'a self, ctx: Context<'a>, logout_token: &'a str) -> BoxFuture<'a, Result<LogoutNotice, &'static str>> {
        let _ = (ctx, logout_token);
        Box::pin(async { Err("this IdM is not an OpenID provider: it has no back-channel logout") })
    }

    /// Where a signed-out merchant's browser goes (through the IdM's end-session endpoint
    /// when it has one); `hint` is the login's `logout_hint`.
    fn sign_out_url(&self, hint: Option<&SecretString>) -> String;

    /// The origins that sign-out passes through, space-separated (a CSP source list).
    fn sign_out_origins(&self) -> String;
}

/// The distinct origins of `urls`, space-separated, for a CSP source list.
pub fn origins<'a>(urls: impl IntoIterator<Item = &'a Url>) -> String {
    let mut origins: Vec<String> = Vec::new();
    for url in urls {
        let origin = url.origin().ascii_serialization();
        if origin != "null" && !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    origins.join(" ")
}
