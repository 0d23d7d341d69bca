//! The token endpoint (OIDC Core §3.1.3): authenticates the client, redeems the code and
//! answers with an ES256-signed ID token.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Form};
use poem::{Request, Response, handler};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::codes::{Grant, Redemption};
use super::{Client, Provider};
use crate::crypto::random::url_safe_token;

/// Lifetime of ID and access tokens: enough to finish a login, not a session.
const TOKEN_SECONDS: i64 = 300;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

/// RFC 6749 §2.3.1: the client id and secret are form-urlencoded, then joined by a colon
/// and base64-encoded into HTTP Basic.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let form_decode = |part: &str| {
        percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Whether the request authenticates as `client` (client_secret_basic, the one method
/// the discovery document offers). Both halves are compared in constant time.
pub fn authenticates(headers: &HeaderMap, client: &Client) -> bool {
    let Some((id, secret)) = basic_credentials(headers) else {
        return false;
    };
    let id_ok = id.as_bytes().ct_eq(client.client_id.as_bytes());
    let secret_ok = secret
        .as_bytes()
        .ct_eq(client.client_secret.expose_secret().as_bytes());
    (id_ok & secret_ok).into()
}

/// RFC 6749 §5.2.
fn token_error(status: StatusCode, error: &str) -> Response {
    let mut response = Response::builder()
        .status(status)
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::PRAGMA, "no-cache");
    if status == StatusCode::UNAUTHORIZED {
        response = response.header(header::WWW_AUTHENTICATE, "Basic realm=\"Demo IdM\"");
    }
    response.body(json!({ "error": error }).to_string())
}

impl Provider {
    /// OIDC Core §2 and the contract's account claim.
    fn id_token(&self, grant: &Grant, now: i64) -> String {
        let person = grant.person;
        let mut claims = json!({
            "iss": self.config.issuer,
            "sub": person.subject,
            "aud": grant.client_id,
            "exp": now + TOKEN_SECONDS,
            "iat": now,
            "auth_time": now,
            "nonce": grant.nonce,
            "email": person.email,
            "email_verified": true,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "name": person.name(),
        });
        claims[self.config.account_claim.as_str()] = Value::from(self.config.account_id.as_str());
        self.signer.sign(&claims, None)
    }
}

/// Exchanges a code for tokens. Caller: the registered client (Causeway), server to server.
#[handler]
pub fn exchange(
    req: &Request,
    form: poem::Result<Form<TokenRequest>>,
    provider: Data<&Arc<Provider>>,
) -> Response {
    let client = &provider.config.client;
    if !authenticates(req.headers(), client) {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let Ok(Form(form)) = form else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    if form.grant_type != "authorization_code" {
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    if form.code.is_empty() {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let now = provider.clock.now();
    let redemption = Redemption {
        client_id: &client.client_id,
        redirect_uri: &form.redirect_uri,
        code_verifier: &form.code_verifier,
    };
    let grant = match provider.codes.redeem(&form.code, &redemption, now) {
        Ok(grant) => grant,
        Err(why) => {
            tracing::info!(reason = %why, "demo IdM refused an authorization code");
            return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
        }
    };
    let body = json!({
        "access_token": url_safe_token(32),
        "token_type": "Bearer",
        "expires_in": TOKEN_SECONDS,
        "id_token": provider.id_token(&grant, now),
    });
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    Response::builder()
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::PRAGMA, "no-cache")
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    use poem::{Endpoint, Request};
    use url::Url;

    use super::*;
    use crate::demo::idp::test_support::{REDIRECT_URI, provider};
    use crate::demo::idp::{AUTHORIZE_PATH, TOKEN_PATH, routes};
    use crate::federation::oidc::jws::{Jws, VerifyingKey};

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    fn form(pairs: &[(&str, &str)]) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    /// Runs the sign-in form as `person` and returns the code sent to the client.
    async fn code_for(app: &impl Endpoint<Output = Response>, person: &str) -> String {
        let body = form(&[
            ("response_type", "code"),
            ("client_id", "causeway-demo"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid email profile"),
            ("state", "s-1"),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("person", person),
        ]);
        let req = Request::builder()
            .method(poem::http::Method::POST)
            .uri_str(AUTHORIZE_PATH)
            .content_type("application/x-www-form-urlencoded")
            .body(body);
        let resp = app.call(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let location = Url::parse(resp.headers()[header::LOCATION].to_str().unwrap()).unwrap();
        location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    }

    async fn redeem(
        app: &impl Endpoint<Output = Response>,
        authorization: &str,
        pairs: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(poem::http::Method::POST)
            .uri_str(TOKEN_PATH)
            .header(header::AUTHORIZATION, authorization)
            .content_type("application/x-www-form-urlencoded")
            .body(form(pairs));
        let mut resp = app.call(req).await.unwrap();
        let status = resp.status();
        let body = resp.take_body().into_json().await.unwrap();
        (status, body)
    }

    fn exchange_form<'a>(
        code: &'a str,
        redirect_uri: &'a str,
        verifier: &'a str,
    ) -> Vec<(&'static str, &'a str)> {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ]
    }

    #[tokio::test]
    async fn a_code_buys_one_signed_id_token() {
        let provider = provider();
        let app = routes(provider.clone());
        let code = code_for(&app, "moderator").await;
        let (status, body) = redeem(
            &app,
            &basic("causeway-demo", "s3cret"),
            &exchange_form(&code, REDIRECT_URI, VERIFIER),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        let id_token = body["id_token"].as_str().unwrap();
        let jws = Jws::parse(id_token).unwrap();
        let payload: Value = serde_json::from_slice(
            jws.verify(&VerifyingKey::from_jwk(&provider.signer.jwk).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(payload["sub"], "demo-person-morgan");
        assert_eq!(payload["aud"], "causeway-demo");
        assert_eq!(payload["nonce"], "n-1");
        assert_eq!(payload["email_verified"], true);
        assert_eq!(
            payload["https://demo.causeway.test/wepay_account_id"],
            "0b8a2f5e-1c7d-4e0a-9c61-2d5b7e8f9a10"
        );

        let (status, body) = redeem(
            &app,
            &basic("causeway-demo", "s3cret"),
            &exchange_form(&code, REDIRECT_URI, VERIFIER),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "a code works once"
        );
    }

    #[tokio::test]
    async fn the_client_must_authenticate() {
        let app = routes(provider());
        let code = code_for(&app, "controller").await;
        for authorization in [
            basic("causeway-demo", "wrong"),
            basic("someone", "s3cret"),
            "Bearer s3cret".to_owned(),
            String::new(),
        ] {
            let (status, body) = redeem(
                &app,
                &authorization,
                &exchange_form(&code, REDIRECT_URI, VERIFIER),
            )
            .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("invalid_client")),
                "{authorization}"
            );
        }
        // A refused client does not use the code up.
        let (status, _) = redeem(
            &app,
            &basic("causeway-demo", "s3cret"),
            &exchange_form(&code, REDIRECT_URI, VERIFIER),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn the_redeeming_request_must_match_the_authorization_request() {
        let app = routes(provider());
        let auth = basic("causeway-demo", "s3cret");
        let code = code_for(&app, "controller").await;
        let (status, body) = redeem(
            &app,
            &auth,
            &exchange_form(&code, "http://127.0.0.1:8080/other", VERIFIER),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "redirect_uri mismatch"
        );

        let code = code_for(&app, "controller").await;
        let (_, body) = redeem(
            &app,
            &auth,
            &exchange_form(&code, REDIRECT_URI, &"a".repeat(43)),
        )
        .await;
        assert_eq!(body["error"], "invalid_grant", "wrong PKCE verifier");

        let code = code_for(&app, "controller").await;
        let mut implicit = exchange_form(&code, REDIRECT_URI, VERIFIER);
        implicit[0].1 = "client_credentials";
        assert_eq!(
            redeem(&app, &auth, &implicit).await.1["error"],
            "unsupported_grant_type"
        );
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            basic("causeway%2Ddemo", "s3%63ret").parse().unwrap(),
        );
        let provider = provider();
        assert!(authenticates(&headers, &provider.config.client));
    }
}
