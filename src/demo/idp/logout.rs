//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and the page the partner's
//! product shows afterwards.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Query};
use poem::{Response, handler};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::Provider;
use super::pages::{self, SignedOutPage};
use crate::federation::oidc::jws::{Jws, VerifyingKey};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EndSessionRequest {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
}

impl Provider {
    /// Whether `hint` is an ID token this IdM signed for its client. An expired one still
    /// counts (§2: the hint is often used after the token has expired).
    fn issued_to_client(&self, hint: &str) -> bool {
        let (Ok(jws), Some(key)) = (Jws::parse(hint), VerifyingKey::from_jwk(&self.signer.jwk))
        else {
            return false;
        };
        let Some(claims) = jws
            .verify(&key)
            .ok()
            .and_then(|payload| serde_json::from_slice::<Value>(payload).ok())
        else {
            return false;
        };
        claims["iss"] == self.config.issuer.as_str()
            && claims["aud"] == self.config.client.client_id.as_str()
    }
}

/// The end-session endpoint. The demo IdM keeps no sign-in session of its own (each login
/// is a button), so there is nothing to end here: it checks the request as a real IdM
/// would and sends the browser on. Caller: a browser sent by Causeway's logout.
#[handler]
pub fn end_session(
    query: poem::Result<Query<EndSessionRequest>>,
    provider: Data<&Arc<Provider>>,
) -> Response {
    let Ok(Query(request)) = query else {
        return pages::error(
            &provider,
            StatusCode::BAD_REQUEST,
            "This sign-out request could not be read.",
        );
    };
    let client = &provider.config.client;
    if request
        .id_token_hint
        .as_deref()
        .is_some_and(|hint| !provider.issued_to_client(hint))
    {
        return pages::error(
            &provider,
            StatusCode::BAD_REQUEST,
            "This sign-out request carries an ID token the demo IdM did not issue.",
        );
    }
    if request
        .client_id
        .as_deref()
        .is_some_and(|id| id != client.client_id)
    {
        return pages::error(
            &provider,
            StatusCode::BAD_REQUEST,
            "This sign-out request names an application the demo IdM does not know.",
        );
    }
    let Some(target) = request.post_logout_redirect_uri else {
        return signed_out_page(&provider);
    };
    // §3: only the registered URI, compared exactly; anything else is an open redirect.
    let registered = (target == client.post_logout_redirect_uri)
        .then(|| Url::parse(&target).ok())
        .flatten();
    let Some(mut target) = registered else {
        return pages::error(
            &provider,
            StatusCode::BAD_REQUEST,
            "This sign-out request asks to go to an address the application did not register.",
        );
    };
    if let Some(state) = request.state.filter(|s| !s.is_empty()) {
        target.query_pairs_mut().append_pair("state", &state);
    }
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, target.as_str())
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

fn signed_out_page(provider: &Provider) -> Response {
    let page = SignedOutPage {
        stylesheet: pages::STYLESHEET_PATH,
        partner_name: &provider.config.partner_name,
        cta_url: &provider.config.cta_url,
    };
    pages::respond(provider, StatusCode::OK, &page)
}

/// The partner's product after sign-out (the demo's logout URL). Caller: a browser.
#[handler]
pub fn signed_out(provider: Data<&Arc<Provider>>) -> Response {
    signed_out_page(&provider)
}

#[cfg(test)]
mod tests {
    use poem::{Endpoint, Request};
    use serde_json::json;

    use super::*;
    use crate::demo::idp::test_support::{LOGOUT_URI, provider};
    use crate::demo::idp::{END_SESSION_PATH, routes};

    async fn end_session_with(
        provider: &Arc<Provider>,
        query: &[(&str, &str)],
    ) -> (StatusCode, Option<String>) {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let resp = routes(provider.clone())
            .call(
                Request::builder()
                    .uri_str(format!("{END_SESSION_PATH}?{query}"))
                    .finish(),
            )
            .await
            .unwrap();
        (
            resp.status(),
            resp.headers()
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_owned()),
        )
    }

    #[tokio::test]
    async fn only_the_registered_uri_is_a_way_out() {
        let provider = provider();
        let hint = provider.signer.sign(
            &json!({"iss": "http://127.0.0.1:9090", "aud": "causeway-demo", "sub": "x", "exp": 1}),
            None,
        );
        let (status, location) = end_session_with(
            &provider,
            &[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", LOGOUT_URI),
                ("state", "s-1"),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_deref()),
            (
                StatusCode::FOUND,
                Some(format!("{LOGOUT_URI}?state=s-1").as_str())
            ),
            "an expired hint is still a hint"
        );

        for elsewhere in [
            "https://evil.example/",
            "http://127.0.0.1:9090/signed-out/../x",
            "http://127.0.0.1:9090/signed-outx",
        ] {
            let (status, location) =
                end_session_with(&provider, &[("post_logout_redirect_uri", elsewhere)]).await;
            assert_eq!(
                (status, location),
                (StatusCode::BAD_REQUEST, None),
                "{elsewhere}"
            );
        }
        let foreign = provider.signer.sign(
            &json!({"iss": "http://127.0.0.1:9090", "aud": "another-client"}),
            None,
        );
        let (status, _) = end_session_with(
            &provider,
            &[
                ("id_token_hint", &foreign),
                ("post_logout_redirect_uri", LOGOUT_URI),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a hint for another client");
        let (status, _) = end_session_with(
            &provider,
            &[
                ("id_token_hint", "not.a.token"),
                ("post_logout_redirect_uri", LOGOUT_URI),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = end_session_with(
            &provider,
            &[
                ("client_id", "someone"),
                ("post_logout_redirect_uri", LOGOUT_URI),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            end_session_with(&provider, &[]).await.0,
            StatusCode::OK,
            "no redirect asked: the IdM's own page"
        );
    }
}
