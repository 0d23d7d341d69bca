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

use super::connector::{origins, Callback, Completion, Connector, Context, FederationError, LoginOptions, LoginStart};
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
    /// Seed 000's hosted login has no parameter that demands a new authentication: a step-up
    /// is a new login, and the exchange's answer counts as authenticated at that time.
    fn begin_login(&self, redirect_uri: &str, _options: LoginOptions) -> LoginStart {
        let mut url: Url = self.config.login_url.url().clone();
        url.query_pairs_mut().append_pair("site_key", &self.config.site_key).append_pair("redirect_uri", redirect_uri);
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

/// Property tests (issue 14): any directory record as the exchange's `data`. Bounded runs;
/// no regression files are written into the tree.
#[cfg(test)]
mod prop_tests {
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    use super::*;
    use crate::domain::idm_config::IdmConfigInput;
    use crate::domain::urls::UrlPolicy;

    fn bounded() -> Config {
        Config { cases: 512, failure_persistence: None, ..Config::default() }
    }

    fn connector(user_id_field: &str) -> HostedLoginConnector {
        let input = IdmConfigInput {
            kind: Some("hosted_login".into()),
            base_url: Some("https://id.partner.example/".into()),
            site_key: Some("site-1".into()),
            user_id_field: Some(user_id_field.into()),
            logout_url: Some("https://partner.example/bye".into()),
            ..IdmConfigInput::default()
        };
        HostedLoginConnector::new(HostedLoginConfig::parse(&input, UrlPolicy::Strict).unwrap(), SecretString::from("key"), 1)
    }

    fn member() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
            prop::sample::select(vec!["active", "inactive", "", " ", "u-1", " 42 ", "a@shop.example"]).prop_map(Value::from),
            prop::collection::vec(any::<char>(), 0..12).prop_map(|c| Value::String(c.into_iter().collect())),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| prop::collection::vec(inner, 0..3).prop_map(Value::Array))
    }

    /// Mostly an active record with a user id of any shape, among any other members.
    fn record() -> impl Strategy<Value = Map<String, Value>> {
        let name = prop::sample::select(vec!["wesb_user_id", "id", "status", "email", "first_name", "last_name", "full_name", "sub", "email_verified", "other"]);
        let others = prop::collection::vec((name.prop_map(str::to_owned), member()), 0..8);
        let status = prop_oneof![3 => Just(Some(Value::from("active"))), 1 => proptest::option::of(member())];
        let id = prop_oneof![
            2 => prop::sample::select(vec!["u-1", " u-1 ", "", " ", "\t", "\u{a0}", "0"]).prop_map(|id| Some(Value::from(id))),
            1 => any::<u64>().prop_map(|n| Some(Value::from(n))),
            1 => proptest::option::of(member()),
        ];
        (id, status, others).prop_map(|(id, status, others)| {
            let mut record: Map<String, Value> = others.into_iter().collect();
            for (name, value) in [("wesb_user_id", id.clone()), ("id", id), ("status", status)] {
                if let Some(value) = value {
                    record.insert(name.into(), value);
                }
            }
            record
        })
    }

    proptest! {
        #![proptest_config(bounded())]

        /// Any record: an identity keyed by the trimmed user id (or the number as written),
        /// for active users only, with only the directory's text fields under standard
        /// names and e-mail vouched for; else the missing user id or an inactive user.
        #[test]
        fn any_record_is_an_identity_or_a_documented_refusal(data in record(), field in prop::sample::select(vec!["wesb_user_id", "id"])) {
            let connector = connector(field);
            match connector.identity(&data) {
                Ok(identity) => {
                    let expected_subject = match &data[field] {
                        Value::String(id) => id.trim().to_owned(),
                        other => other.to_string(),
                    };
                    prop_assert!(!identity.subject.is_empty());
                    prop_assert_eq!(&identity.subject, &expected_subject);
                    prop_assert_eq!(data.get("status"), Some(&Value::from("active")));
                    prop_assert_eq!(identity.primary.get("sub"), Some(&Value::String(expected_subject)));
                    for (from, claim) in FIELDS {
                        prop_assert_eq!(identity.primary.get(claim), data.get(from).filter(|v| v.is_string()));
                    }
                    let vouched = identity.primary.contains_key("email").then_some(&Value::Bool(true));
                    prop_assert_eq!(identity.primary.get("email_verified"), vouched);
                    prop_assert!(identity.primary.len() <= FIELDS.len() + 2);
                    prop_assert_eq!(identity.issuer.as_str(), "https://id.partner.example/");
                }
                Err(FederationError::ClaimMissing(name)) => {
                    prop_assert_eq!(name.as_str(), field);
                    prop_assert!(!matches!(&data.get(field), Some(Value::Number(_))));
                }
                Err(FederationError::UserInactive) => prop_assert_ne!(data.get("status"), Some(&Value::from("active"))),
                Err(other) => prop_assert!(false, "identity answered {other:?}"),
            }
        }
    }
}
