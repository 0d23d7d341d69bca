//! A partner's OpenID provider opened for logins: endpoints from discovery or the
//! partner's overrides, the authorization request (code flow, PKCE S256, state, nonce),
//! the code exchange with the configured client authentication, the ID token's checks,
//! and userinfo when the partner's IdM keeps claims there.

use std::time::Instant;

use futures_util::future::BoxFuture;
use openidconnect::{Nonce, PkceCodeChallenge};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::claims::{self, ClaimRules};
use super::endpoints::{discovery_url, Endpoints};
use super::id_token::Verifier;
use super::logout_token::{self, LogoutRules};
use super::userinfo;
use crate::domain::identity::{FederatedIdentity, IdentityPolicy};
use crate::domain::idm_config::{OidcConfig, TokenAuthMethod, UserinfoMode, BASIC_ENCODING_HINT};
use crate::federation::connector::{
    origins, Callback, Completion, Connector, Context, FederationError, Inspection, LoginOptions, LoginStart, LogoutNotice, RuleVerdict,
};
use crate::federation::http::{DOCUMENT_CAP_BYTES, FetchError, OutboundClient};

/// Token responses carry a few short tokens; anything larger is not a token response.
const TOKEN_RESPONSE_CAP_BYTES: usize = 64 * 1024;

pub struct OidcConnector {
    config_version: i64,
    pub issuer: String,
    pub client_id: String,
    client_secret: SecretString,
    auth_method: TokenAuthMethod,
    scopes: Vec<String>,
    /// As the partner wrote it: post_logout_redirect_uri is compared exactly by IdMs.
    logout_url: String,
    clock_leeway_seconds: i64,
    authorization: Url,
    token: Url,
    pub jwks_uri: Url,
    userinfo_endpoint: Option<Url>,
    userinfo: UserinfoMode,
    end_session: Option<Url>,
    pub iss_parameter_supported: bool,
    policy: IdentityPolicy,
}

/// What the callback needs back from the authorization request; sealed in the flow.
#[derive(Serialize, Deserialize)]
struct Private {
    nonce: String,
    verifier: String,
}

/// The token endpoint's answer (OIDC Core §3.1.3.3), what Causeway uses of it.
pub struct Tokens {
    pub id_token: String,
    pub access_token: Option<SecretString>,
}

/// Discovery members are URLs only if they parse as absolute http(s) URLs: a hostile
/// document's `javascript:` or `data:` must never reach a Location header.
fn parse_endpoint(raw: Option<String>) -> Option<Url> {
    raw.and_then(|u| Url::parse(&u).ok()).filter(|u| matches!(u.scheme(), "https" | "http"))
}

impl OidcConnector {
    /// Resolves the IdM's endpoints (discovery unless the partner configured all of them)
    /// and checks that discovery names exactly the configured issuer (OIDC Discovery §4.3).
    pub async fn open(config: &OidcConfig, client_secret: SecretString, config_version: i64, client: &OutboundClient) -> Result<Self, FederationError> {
        let overrides = &config.endpoints;
        let needs_discovery = overrides.authorization_endpoint.is_none() || overrides.token_endpoint.is_none() || overrides.jwks_uri.is_none();
        let discovery = if needs_discovery {
            let doc = client
                .get_json(&discovery_url(config.issuer.url()), DOCUMENT_CAP_BYTES)
                .await
                .map_err(|err: FetchError| FederationError::Unavailable { detail: err.to_string() })?;
            if doc.get("issuer").and_then(Value::as_str) != Some(config.issuer.as_str()) {
                return Err(FederationError::IssMismatch);
            }
            Some(doc)
        } else {
            None
        };
        let endpoints = Endpoints::resolve(overrides, discovery.as_ref(), client.policy());
        if let Some(detail) = endpoints.refused_sentence()
            && !endpoints.missing_required().is_empty()
        {
            return Err(FederationError::Unavailable { detail });
        }
        let (Some(authorization), Some(token), Some(jwks_uri)) =
            (parse_endpoint(endpoints.authorization), parse_endpoint(endpoints.token), parse_endpoint(endpoints.jwks_uri))
        else {
            return Err(FederationError::NotConfigured);
        };
        Ok(Self {
            config_version,
            issuer: config.issuer.as_str().to_owned(),
            client_id: config.client_id.clone(),
            client_secret,
            auth_method: config.token_endpoint_auth_method,
            scopes: config.scopes.clone(),
            logout_url: config.logout_url.as_str().to_owned(),
            clock_leeway_seconds: config.clock_leeway_seconds,
            authorization,
            token,
            jwks_uri,
            userinfo_endpoint: parse_endpoint(endpoints.userinfo),
            userinfo: config.userinfo,
            end_session: parse_endpoint(endpoints.end_session),
            iss_parameter_supported: endpoints.iss_parameter_supported,
            policy: config.policy.clone(),
        })
    }

    /// Checks JWS (ID tokens, logout tokens) under this IdM's keys, through the shared cache.
    fn verifier<'a>(&'a self, ctx: &Context<'a>) -> Verifier<'a> {
        Verifier { cache: ctx.jwks, client: ctx.client, app: ctx.app, jwks_uri: &self.jwks_uri }
    }

    /// Exchanges the code for tokens (OIDC Core §3.1.3), authenticating as the partner
    /// configured (client_secret_basic or client_secret_post).
    pub async fn exchange(&self, code: &str, verifier: &str, redirect_uri: &str, client: &OutboundClient) -> Result<Tokens, FederationError> {
        let secret = self.client_secret.expose_secret();
        let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri), ("code_verifier", verifier)];
        // RFC 6749 §2.3.1: id and secret are form-encoded before they go into Basic auth.
        let encode = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let (basic_id, basic_secret) = (encode(&self.client_id), encode(secret));
        let basic = match self.auth_method {
            TokenAuthMethod::ClientSecretBasic => Some((basic_id.as_str(), basic_secret.as_str())),
            TokenAuthMethod::ClientSecretPost => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", secret));
                None
            }
        };
        let (status, body) = client
            .post_form(&self.token, &form, basic, TOKEN_RESPONSE_CAP_BYTES)
            .await
            .map_err(|err| FederationError::TokenEndpoint { detail: err.to_string() })?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if status != 200 {
            let error = json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str).unwrap_or_default();
            return Err(match error {
                "invalid_grant" => FederationError::CodeRejected,
                "invalid_client" if self.auth_method == TokenAuthMethod::ClientSecretBasic && basic_secret != secret => {
                    FederationError::TokenEndpoint { detail: format!("HTTP {status} invalid_client. {}", BASIC_ENCODING_HINT) }
                }
                _ => FederationError::TokenEndpoint { detail: format!("HTTP {status} {}", error.chars().take(64).collect::<String>()).trim().to_owned() },
            });
        }
        let json = json.ok_or_else(|| FederationError::TokenEndpoint { detail: "the response is not JSON".into() })?;
        let id_token = json.get("id_token").and_then(Value::as_str).map(str::to_owned).ok_or(FederationError::IdTokenMissing)?;
        let access_token = json.get("access_token").and_then(Value::as_str).map(SecretString::from);
        Ok(Tokens { id_token, access_token })
    }

    async fn complete(&self, ctx: Context<'_>, callback: Callback<'_>, private: &SecretString) -> Result<Completion, FederationError> {
        // RFC 9207 §2.4: a present iss must match; an IdM that promises it must send it.
        match callback.iss {
            Some(iss) if iss != self.issuer => return Err(FederationError::IssParamMismatch),
            None if self.iss_parameter_supported => return Err(FederationError::IssParamMismatch),
            _ => {}
        }
        let code = callback.code.filter(|c| !c.is_empty()).ok_or(FederationError::CodeMissing)?;
        let private: Private = serde_json::from_str(private.expose_secret()).map_err(|_| FederationError::PrivateState)?;
        let started = Instant::now();
        let exchanged = self.exchange(code, &private.verifier, ctx.redirect_uri, ctx.client).await;
        let exchange_took = started.elapsed();
        let tokens = exchanged?;
        let rules = ClaimRules { issuer: &self.issuer, client_id: &self.client_id, nonce: &private.nonce, now: ctx.now, leeway_seconds: self.clock_leeway_seconds };
        let verifier = self.verifier(&ctx);
        let verified = verifier.verify(&tokens.id_token, &rules).await?;
        let userinfo = match (self.userinfo, &self.userinfo_endpoint, &tokens.access_token) {
            (UserinfoMode::Never, _, _) => None,
            (UserinfoMode::Always, None, _) => return Err(FederationError::UserinfoFailed { detail: "the IdM publishes no userinfo_endpoint".into() }),
            (UserinfoMode::Always, Some(_), None) => return Err(FederationError::UserinfoFailed { detail: "the token response has no access_token".into() }),
            (UserinfoMode::Always, Some(endpoint), Some(token)) => Some(userinfo::fetch(ctx.client, endpoint, token, &verified.subject).await?),
            // Needed, and possible: without an endpoint or an access token, the policy judges
            // the ID token alone (and names what is missing from it).
            (UserinfoMode::WhenNeeded, Some(endpoint), Some(token)) if self.policy.needs_more_than(&verified.claims) => {
                Some(userinfo::fetch(ctx.client, endpoint, token, &verified.subject).await?)
            }
            (UserinfoMode::WhenNeeded, _, _) => None,
        };
        let identity = FederatedIdentity { issuer: verified.issuer, subject: verified.subject, primary: verified.claims, userinfo };
        Ok(Completion { identity, logout_hint: Some(SecretString::from(tokens.id_token)), exchange_took })
    }
}

impl OidcConnector {
    /// `complete`, with every rule judged and reported (a test sign-in): the exchange must
    /// succeed to have anything to judge; after it, nothing stops the report.
    async fn inspect(&self, ctx: Context<'_>, callback: Callback<'_>, private: &SecretString) -> Inspection {
        let mut report = Inspection::default();
        let mut rule = |rule: &'static str, observed: String, verdict: Result<(), FederationError>| report.rules.push(RuleVerdict { rule, observed, verdict });
        let iss_param = match callback.iss {
            Some(iss) if iss != self.issuer => Err(FederationError::IssParamMismatch),
            None if self.iss_parameter_supported => Err(FederationError::IssParamMismatch),
            _ => Ok(()),
        };
        rule("iss parameter (RFC 9207)", format!("{:?}", callback.iss.unwrap_or("absent")), iss_param);
        let (Some(code), Ok(private)) = (callback.code.filter(|c| !c.is_empty()), serde_json::from_str::<Private>(private.expose_secret())) else {
            rule("authorization code", "absent from the redirect".into(), Err(FederationError::CodeMissing));
            return report;
        };
        let tokens = match self.exchange(code, &private.verifier, ctx.redirect_uri, ctx.client).await {
            Ok(tokens) => {
                rule("code exchange", format!("{} answered with an ID token", self.token), Ok(()));
                tokens
            }
            Err(err) => {
                rule("code exchange", err.to_string(), Err(err));
                return report;
            }
        };
        let verifier = self.verifier(&ctx);
        let token = verifier.inspect(&tokens.id_token).await;
        let header = format!("alg {}, kid {}", token.alg.as_deref().unwrap_or("absent"), token.kid.as_deref().unwrap_or("absent"));
        rule("ID token signature", header, token.signature);
        report.alg = token.alg;
        report.kid = token.kid;
        let Some(claims) = token.claims else {
            rule("ID token payload", "not a JSON object".into(), Err(FederationError::IdTokenMalformed));
            return report;
        };
        let rules = ClaimRules { issuer: &self.issuer, client_id: &self.client_id, nonce: &private.nonce, now: ctx.now, leeway_seconds: self.clock_leeway_seconds };
        for (name, verdict) in claims::RULES.into_iter().zip(claims::check_each(&claims, &rules)) {
            // The nonce is a one-time value of this flow: whether it matched is what matters.
            let observed = match (name, claims.get(name)) {
                ("nonce", Some(_)) => "present".to_owned(),
                (_, Some(value)) => value.to_string(),
                (_, None) => "absent".to_owned(),
            };
            rule(name, observed, verdict);
        }
        report.issued_at = claims.get("iat").and_then(Value::as_f64).map(|t| t as i64);
        let subject = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
        // Userinfo is read whenever it can be, so the report shows both sources side by side.
        let userinfo = match (&self.userinfo_endpoint, &tokens.access_token) {
            (Some(endpoint), Some(access)) => match userinfo::fetch(ctx.client, endpoint, access, &subject).await {
                Ok(found) => {
                    rule("userinfo", format!("{} claim(s) from {endpoint}", found.len()), Ok(()));
                    Some(found)
                }
                Err(err) => {
                    rule("userinfo", err.to_string(), Err(err));
                    None
                }
            },
            _ => None,
        };
        let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or_default().to_owned();
        report.identity = Some(FederatedIdentity { issuer, subject, primary: claims, userinfo });
        report
    }
}

impl Connector for OidcConnector {
    fn config_version(&self) -> i64 {
        self.config_version
    }

    /// The authorization request (OIDC Core §3.1.2.1) with PKCE S256 (RFC 7636).
    fn begin_login(&self, redirect_uri: &str, options: LoginOptions) -> LoginStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = Nonce::new_random();
        let mut url = self.authorization.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.scopes.join(" "))
            .append_pair("nonce", nonce.secret())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        if let Some(max_age) = options.reauthenticate_within {
            // OIDC Core §3.1.2.1: the IdM must authenticate the person again, and (max_age)
            // report auth_time, which the callback checks.
            url.query_pairs_mut().append_pair("prompt", "login").append_pair("max_age", &max_age.to_string());
        }
        let private = Private { nonce: nonce.secret().clone(), verifier: verifier.secret().clone() };
        LoginStart { url, private: SecretString::from(serde_json::to_string(&private).unwrap_or_default()) }
    }

    fn complete_login<'a>(&'a self, ctx: Context<'a>, callback: Callback<'a>, private: &'a SecretString) -> BoxFuture<'a, Result<Completion, FederationError>> {
        Box::pin(self.complete(ctx, callback, private))
    }

    fn inspect_login<'a>(&'a self, ctx: Context<'a>, callback: Callback<'a>, private: &'a SecretString) -> BoxFuture<'a, Inspection> {
        Box::pin(self.inspect(ctx, callback, private))
    }

    fn identity_policy(&self) -> &IdentityPolicy {
        &self.policy
    }

    fn backchannel_logout<'a>(&'a self, ctx: Context<'a>, logout_token: &'a str) -> BoxFuture<'a, Result<LogoutNotice, &'static str>> {
        Box::pin(async move {
            let verifier = self.verifier(&ctx);
            let payload = verifier.verified_logout_payload(logout_token).await?;
            let rules = LogoutRules { issuer: &self.issuer, client_id: &self.client_id, now: ctx.now, leeway_seconds: self.clock_leeway_seconds };
            logout_token::check(logout_token::header_typ(logout_token).as_deref(), &payload, &rules)
        })
    }

    /// OIDC RP-Initiated Logout 1.0 §2 when the IdM has an end-session endpoint.
    fn sign_out_url(&self, hint: Option<&SecretString>) -> String {
        match &self.end_session {
            Some(end_session) => {
                let mut url = end_session.clone();
                let mut query = url.query_pairs_mut();
                if let Some(id_token) = hint {
                    query.append_pair("id_token_hint", id_token.expose_secret());
                }
                query.append_pair("post_logout_redirect_uri", &self.logout_url).append_pair("client_id", &self.client_id);
                drop(query);
                url.to_string()
            }
            None => self.logout_url.clone(),
        }
    }

    fn sign_out_origins(&self) -> String {
        let logout = Url::parse(&self.logout_url).ok();
        origins(self.end_session.iter().chain(logout.iter()))
    }
}
