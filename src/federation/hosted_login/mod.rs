//! The hosted-login connector (seed 000's model): the browser goes to the IdM's own login
//! page with the site key, comes back with a short-lived single-use code, and Causeway
//! exchanges the code server to server with the site's service key (`X-Service-Key`).
//! The directory record the exchange returns is the identity, keyed by the user id.

pub mod live_check;

use std::time::Instant;

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};
use url::Url;

use super::connector::{origins, Callback, Completion, Connector, Context, FederationError, LoginStart};
use super::http::{FetchError, OutboundClient};
use crate::domain::identity::{ClaimNames, EmailTrust, FederatedIdentity, IdentityPolicy};
use crate::domain::idm_config::HostedLoginConfig;

/// An exchange answer is one user's record; anything larger is not one.
const EXCHANGE_CAP_BYTES: usize = 64 * 1024;

pub struct HostedLoginConnector {
    config_version: i64,
    config: HostedLoginConfig,
    service_key: SecretString,
    policy: IdentityPolicy,
}

/// The directory's fields, under the standard claim names the identity policy reads.
const FIELDS: [(&str, &str); 4] = [("email", "email"), ("first_name", "given_name"), ("last_name", "family_name"), ("full_name", "name")];

impl HostedLoginConnector {
    pub fn new(config: HostedLoginConfig, service_key: SecretString, config_version: i64) -> Self {
        // The directory's e-mail counts as verified (the contract): the IdM is the partner's
        // own staff directory. Nothing is required: grants by user id work without e-mail.
        let policy = IdentityPolicy { names: ClaimNames::standard(String::new()), required: vec![], email_trust: EmailTrust::TrustedIdm };
        Self { config_version, config, service_key, policy }
    }

    /// `POST {exchange_url}` with the code; the record's `data`, or why not.
    pub async fn exchange(&self, code: &str, client: &OutboundClient) -> Result<Map<String, Value>, FederationError> {
        let key = self.service_key.expose_secret();
        let headers = [("X-Service-Key", key)];
        let unavailable = |detail: String| FederationError::Unavailable { detail };
        let (status, body) = client.post_json(self.config.exchange_url.url(), &headers, &json!({"code": code}), EXCHANGE_CAP_BYTES).await.map_err(|err| match err {
            FetchError::TooLarge(_) => unavailable("the exchange answer is larger than a user record".into()),
            other => unavailable(format!("the exchange endpoint: {other}")),
        })?;
        match status {
            200 => {}
            // The seed's §9.1/9.2: a missing or wrong key is 401 — the key here is wrong or rotated.
            401 => return Err(FederationError::CredentialsRejected),
            400..=499 => return Err(FederationError::CodeRejected),
            _ => return Err(unavailable(format!("the exchange endpoint answered HTTP {status}"))),
        }
        let answer: Value = serde_json::from_slice(&body).map_err(|_| unavailable("the exchange answer is not JSON".into()))?;
        match answer.get("data") {
            Some(Value::Object(data)) => Ok(data.clone()),
            _ => Err(unavailable("the exchange answer has no data object".into())),
        }
    }

    /// The directory record as an identity: subject = the user id, standard claim names.
    fn identity(&self, data: &Map<String, Value>) -> Result<FederatedIdentity, FederationError> {
        let user_id = match data.get(&self.config.user_id_field) {
            Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_owned(),
            // The seed's ids are numbers (`"wesb_user_id": 123`).
            Some(Value::Number(id)) => id.to_string(),
            _ => return Err(FederationError::ClaimMissing(self.config.user_id_field.clone())),
        };
        match data.get("status").and_then(Value::as_str) {
            Some("active") => {}
            _ => return Err(FederationError::UserInactive),
        }
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String(user_id.clone()));
        for (field, claim) in FIELDS {
            if let Some(Value::String(text)) = data.get(field) {
                claims.insert(claim.into(), Value::String(text.clone()));
            }
        }
        if claims.contains_key("email") {
            claims.insert("email_verified".into(), Value::Bool(true));
        }
        Ok(FederatedIdentity { issuer: self.config.base_url.as_str().to_owned(), subject: user_id, primary: claims, userinfo: None })
    }

    async fn complete(&self, ctx: Context<'_>, callback: Callback<'_>) -> Result<Completion, FederationError> {
        let code = callback.code.filter(|c| !c.is_empty()).ok_or(FederationError::CodeMissing)?;
        let started = Instant::now();
        let exchanged = self.exchange(code, ctx.client).await;
        let exchange_took = started.elapsed();
        let identity = self.identity(&exchanged?)?;
        Ok(Completion { identity, logout_hint: None, exchange_took })
    }
}

impl Connector for HostedLoginConnector {
    fn config_version(&self) -> i64 {
        self.config_version
    }

    /// The seed's step 7: `{login_url}?site_key=…&redirect_uri=…&state=…`.
    fn begin_login(&self, state: &str, redirect_uri: &str) -> LoginStart {
        let mut url: Url = self.config.login_url.url().clone();
        url.query_pairs_mut().append_pair("site_key", &self.config.site_key).append_pair("redirect_uri", redirect_uri).append_pair("state", state);
        // Nothing but the state travels: the code is bound to the site and callback by the IdM.
        LoginStart { url, private: SecretString::from("{}") }
    }

    fn complete_login<'a>(&'a self, ctx: Context<'a>, callback: Callback<'a>, _private: &'a SecretString) -> BoxFuture<'a, Result<Completion, FederationError>> {
        Box::pin(self.complete(ctx, callback))
    }

    fn identity_policy(&self) -> &IdentityPolicy {
        &self.policy
    }

    fn sign_out_url(&self, _hint: Option<&SecretString>) -> String {
        self.config.logout_url.as_str().to_owned()
    }

    fn sign_out_origins(&self) -> String {
        origins([self.config.logout_url.url()])
    }
}
