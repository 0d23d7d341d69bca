//! The relying-party core against a real OpenID provider (oidc-provider from npm):
//! discovery, authorization request with PKCE, the provider's own login and consent
//! forms, the code exchange with either client authentication, ID-token verification.

use std::time::Duration;

use causeway::domain::identity::Person;
use causeway::domain::idm_config::{IdmConfigInput, OidcConfig};
use causeway::domain::ids::AppId;
use causeway::domain::urls::UrlPolicy;
use causeway::federation::connector::{Callback, Connector, Context, LoginStart};
use causeway::federation::http::OutboundClient;
use causeway::federation::jwks::{JwksCache, JwksPolicy};
use causeway::federation::oidc::connector::OidcConnector;
use causeway::services::login::catalog;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::form_browser::FormBrowser;
use crate::helpers::now;
use crate::idp::OidcProvider;

const REDIRECT: &str = "http://127.0.0.1:9/sso/callback";
const CLAIM: &str = "https://partner.example/wepay_account_id";
const ACCOUNT: &str = "0b8a2f5e-1c7d-4e0a-9c61-2d5b7e8f9a10";

async fn provider(pairwise: bool) -> OidcProvider {
    OidcProvider::start(json!({
        "clients": [
            {"client_id": "basic-rs", "client_secret": "s3cret:with/odd&chars", "redirect_uris": [REDIRECT],
             "token_endpoint_auth_method": "client_secret_basic", "id_token_signed_response_alg": "RS256"},
            {"client_id": "post-es", "client_secret": "another-secret", "redirect_uris": [REDIRECT],
             "token_endpoint_auth_method": "client_secret_post", "id_token_signed_response_alg": "ES256"}
        ],
        "accounts": [{"sub": "alice", "email": "alice@shop.example", "email_verified": true, "given_name": "Alice",
                      "family_name": "Merchant", "claims": {CLAIM: ACCOUNT}}],
        "pairwise": pairwise
    }))
    .await
}

async fn connector(idp: &OidcProvider, client_id: &str, secret: &str, method: &str) -> OidcConnector {
    let input = IdmConfigInput {
        issuer: Some(idp.issuer.clone()),
        client_id: Some(client_id.into()),
        token_endpoint_auth_method: Some(method.into()),
        domain: Some("partner.example".into()),
        logout_url: Some("https://partner.example/bye".into()),
        ..Default::default()
    };
    let config = OidcConfig::parse(&input, UrlPolicy::AllowInsecure).unwrap();
    OidcConnector::open(&config, SecretString::from(secret), 1, &client()).await.unwrap()
}

fn client() -> OutboundClient {
    OutboundClient::new(UrlPolicy::AllowInsecure, Duration::from_secs(5)).unwrap()
}

/// The PKCE verifier a login start sealed in its private state.
fn verifier_of(start: &LoginStart) -> String {
    let private: Value = serde_json::from_str(start.private.expose_secret()).unwrap();
    private["verifier"].as_str().unwrap().to_owned()
}

/// One whole login as a browser and Causeway would do it; returns the person the partner's
/// identity policy sees. `app` keys the JWKS cache, as the partner app does in production.
async fn login(app: AppId, connector: &OidcConnector, cache: &JwksCache, browser: &mut FormBrowser) -> Result<Person, String> {
    let state = format!("state-{}", uuid::Uuid::new_v4());
    let start = connector.begin_login(REDIRECT, Default::default());
    let back = browser.run_until(start.url_with_state(&state).as_str(), REDIRECT, &[("login", "alice"), ("password", "any")]).await;
    let query: std::collections::HashMap<String, String> = back.query_pairs().into_owned().collect();
    assert_eq!(query.get("state"), Some(&state), "state comes back unchanged");
    assert_eq!(query.get("iss"), Some(&connector.issuer), "RFC 9207 iss parameter");
    let client = client();
    let ctx = Context { client: &client, jwks: cache, app, now: now(), redirect_uri: REDIRECT };
    let callback = Callback { code: query.get("code").map(String::as_str), iss: query.get("iss").map(String::as_str) };
    let completion = connector.complete_login(ctx, callback, &start.private).await.map_err(|e| catalog(e).code())?;
    connector.identity_policy().person(&completion.identity).map_err(|e| e.code())
}

#[tokio::test]
async fn rs256_with_client_secret_basic_and_es256_with_client_secret_post() {
    let idp = provider(false).await;
    let cache = JwksCache::new(JwksPolicy::default());
    let mut browser = FormBrowser::new();
    for (client_id, secret, method) in [("basic-rs", "s3cret:with/odd&chars", "client_secret_basic"), ("post-es", "another-secret", "client_secret_post")] {
        let connector = connector(&idp, client_id, secret, method).await;
        assert!(connector.iss_parameter_supported);
        let identity = login(AppId::new(), &connector, &cache, &mut browser).await.unwrap_or_else(|e| panic!("{client_id}: {e}"));
        assert_eq!(identity.subject, "alice");
        assert_eq!((identity.email.as_deref(), identity.email_verified), (Some("alice@shop.example"), true));
        assert_eq!((identity.given_name.as_str(), identity.family_name.as_str()), ("Alice", "Merchant"));
        assert_eq!(identity.account_claim.as_deref(), Some(ACCOUNT));
        assert_eq!(identity.issuer, idp.issuer);
    }
}

#[tokio::test]
async fn pairwise_subjects_differ_per_client() {
    let idp = provider(true).await;
    let cache = JwksCache::new(JwksPolicy::default());
    let mut browser = FormBrowser::new();
    let a = login(AppId::new(), &connector(&idp, "basic-rs", "s3cret:with/odd&chars", "client_secret_basic").await, &cache, &mut browser).await.unwrap();
    let b = login(AppId::new(), &connector(&idp, "post-es", "another-secret", "client_secret_post").await, &cache, &mut browser).await.unwrap();
    assert_ne!(a.subject, "alice", "pairwise, not the account id");
    // Both clients share the first redirect URI's host, so they are one sector: same sub.
    assert_eq!(a.subject, b.subject);
}

#[tokio::test]
async fn the_provider_enforces_pkce_and_single_use_codes() {
    let idp = provider(false).await;
    let connector = connector(&idp, "basic-rs", "s3cret:with/odd&chars", "client_secret_basic").await;
    let mut browser = FormBrowser::new();
    let start = connector.begin_login(REDIRECT, Default::default());
    let back = browser.run_until(start.url_with_state("s-1").as_str(), REDIRECT, &[("login", "alice"), ("password", "any")]).await;
    let code = back.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let code_of = |r: Result<_, _>| r.map(|_| ()).map_err(|e| catalog(e).code());
    let wrong = "a-verifier-that-does-not-match-the-challenge-0123456789";
    assert_eq!(code_of(connector.exchange(&code, wrong, REDIRECT, &client()).await), Err("code_rejected".into()));
    assert!(connector.exchange(&code, &verifier_of(&start), REDIRECT, &client()).await.is_ok());
    // The same code a second time.
    assert_eq!(code_of(connector.exchange(&code, &verifier_of(&start), REDIRECT, &client()).await), Err("code_rejected".into()));
    // A wrong client secret is a token-endpoint failure, not a rejected code.
    let bad_secret = connector_with_secret(&idp, "nope").await;
    let start = bad_secret.begin_login(REDIRECT, Default::default());
    let back = browser.run_until(start.url_with_state("s-2").as_str(), REDIRECT, &[("login", "alice"), ("password", "any")]).await;
    let code = back.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    assert_eq!(code_of(bad_secret.exchange(&code, &verifier_of(&start), REDIRECT, &client()).await), Err("token_endpoint_failed".into()));
}

async fn connector_with_secret(idp: &OidcProvider, secret: &str) -> OidcConnector {
    connector(idp, "basic-rs", secret, "client_secret_basic").await
}

#[tokio::test]
async fn signing_key_rotation_between_two_logins_is_followed() {
    let idp = provider(false).await;
    let cache = JwksCache::new(JwksPolicy::default());
    let mut browser = FormBrowser::new();
    let connector = connector(&idp, "post-es", "another-secret", "client_secret_post").await;
    let app = AppId::new();
    login(app, &connector, &cache, &mut browser).await.unwrap();
    login(app, &connector, &cache, &mut browser).await.unwrap();
    assert_eq!(cache.fetch_count(), 1, "a warm cache fetches nothing");
    let rotated = reqwest::Client::new().post(format!("{}/__admin/rotate", idp.issuer)).send().await.unwrap();
    assert_eq!(rotated.status(), 200);
    let identity = login(app, &connector, &cache, &mut browser).await.unwrap();
    assert_eq!(identity.account_claim.as_deref(), Some(ACCOUNT));
    assert_eq!(cache.fetch_count(), 2, "the new kid caused exactly one refetch");
}
