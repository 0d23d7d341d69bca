//! The authorization endpoint (OIDC Core §3.1.2): checks the request, shows the sign-in
//! page, and on a person's button sends the browser back with a one-time code.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Query};
use poem::{Response, handler};
use serde::Deserialize;
use url::Url;

use super::codes::{Grant, challenge_is_well_formed};
use super::pages::{self, LoginPage};
use super::{AUTHORIZE_PATH, Client, Provider};
use crate::demo::people::{self, PEOPLE};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuthorizationRequest {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
}

/// The sign-in form posted back: the request plus the chosen person.
#[derive(Deserialize)]
pub struct Approval {
    #[serde(flatten)]
    request: AuthorizationRequest,
    #[serde(default)]
    person: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// RFC 6749 §4.1.2.1: with an unknown client or redirect URI the user sees the error
    /// and the browser is never sent to that URI (it could be anyone's).
    Shown(&'static str),
    /// Every other error goes back to the client as `error=` on its redirect URI.
    Returned {
        error: &'static str,
        description: &'static str,
    },
}

fn returned(error: &'static str, description: &'static str) -> Refusal {
    Refusal::Returned { error, description }
}

impl AuthorizationRequest {
    pub fn check(&self, client: &Client) -> Result<(), Refusal> {
        if self.client_id != client.client_id {
            return Err(Refusal::Shown(
                "This sign-in request names an application the demo IdM does not know.",
            ));
        }
        // Exact string comparison (RFC 9700 §4.1.3): no prefix or pattern matching.
        if self.redirect_uri != client.redirect_uri {
            return Err(Refusal::Shown(
                "This sign-in request asks to return to an address the application did not register.",
            ));
        }
        if self.response_type != "code" {
            return Err(returned(
                "unsupported_response_type",
                "only the authorization code flow (response_type=code) is supported",
            ));
        }
        if !self.scope.split_ascii_whitespace().any(|s| s == "openid") {
            return Err(returned("invalid_scope", "scope must include openid"));
        }
        if self.state.is_empty() {
            return Err(returned("invalid_request", "state is required"));
        }
        if self.nonce.is_empty() {
            return Err(returned("invalid_request", "nonce is required"));
        }
        // PKCE is mandatory here, as RFC 9700 §2.1.1 recommends for every client.
        if self.code_challenge.is_empty() {
            return Err(returned(
                "invalid_request",
                "code_challenge is required (PKCE)",
            ));
        }
        if self.code_challenge_method != "S256" {
            return Err(returned(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        if !challenge_is_well_formed(&self.code_challenge) {
            return Err(returned(
                "invalid_request",
                "code_challenge is not an S256 challenge",
            ));
        }
        Ok(())
    }

    fn form_fields(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("response_type", &self.response_type),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &self.scope),
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
        ]
    }
}

/// Sends the browser back to the client with `params` and the RFC 9207 `iss`, which
/// tells the client which IdM answered (mix-up defence), on success and on error.
fn back_to_client(provider: &Provider, status: StatusCode, params: &[(&str, &str)]) -> Response {
    let Ok(mut target) = Url::parse(&provider.config.client.redirect_uri) else {
        return pages::error(
            provider,
            StatusCode::INTERNAL_SERVER_ERROR,
            "The application's redirect URI is not a URL.",
        );
    };
    target
        .query_pairs_mut()
        .extend_pairs(params.iter().filter(|(_, v)| !v.is_empty()))
        .append_pair("iss", &provider.config.issuer);
    Response::builder()
        .status(status)
        .header(header::LOCATION, target.as_str())
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

fn refuse(provider: &Provider, request: &AuthorizationRequest, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Shown(message) => pages::error(provider, StatusCode::BAD_REQUEST, message),
        Refusal::Returned { error, description } => back_to_client(
            provider,
            StatusCode::FOUND,
            &[
                ("error", error),
                ("error_description", description),
                ("state", &request.state),
            ],
        ),
    }
}

const UNREADABLE: &str = "This sign-in request could not be read.";

/// The sign-in page. Caller: a browser sent by Causeway's CTA.
#[handler]
pub fn show(
    query: poem::Result<Query<AuthorizationRequest>>,
    provider: Data<&Arc<Provider>>,
) -> Response {
    let Ok(Query(request)) = query else {
        return pages::error(&provider, StatusCode::BAD_REQUEST, UNREADABLE);
    };
    if let Err(refusal) = request.check(&provider.config.client) {
        return refuse(&provider, &request, refusal);
    }
    let page = LoginPage {
        stylesheet: pages::STYLESHEET_PATH,
        partner_name: &provider.config.partner_name,
        action: AUTHORIZE_PATH,
        fields: request.form_fields(),
        people: &PEOPLE,
        fineprint: pages::OIDC_FINEPRINT,
    };
    pages::respond(&provider, StatusCode::OK, &page)
}

/// Issues a code for the chosen person. Caller: the sign-in page's form.
#[handler]
pub fn approve(form: poem::Result<Form<Approval>>, provider: Data<&Arc<Provider>>) -> Response {
    let Ok(Form(Approval { request, person })) = form else {
        return pages::error(&provider, StatusCode::BAD_REQUEST, UNREADABLE);
    };
    // The form came back through the browser: everything in it is checked again.
    if let Err(refusal) = request.check(&provider.config.client) {
        return refuse(&provider, &request, refusal);
    }
    let Some(person) = people::find(&person) else {
        return refuse(
            &provider,
            &request,
            returned("access_denied", "no demo person was chosen"),
        );
    };
    let grant = Grant {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        person,
    };
    let code = provider.codes.issue(grant, provider.clock.now());
    // 303, not 302 or 307: the browser must follow with a GET and must not re-post the
    // form to the client (RFC 9700 §4.12).
    back_to_client(
        &provider,
        StatusCode::SEE_OTHER,
        &[("code", &code), ("state", &request.state)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::idp::test_support::{REDIRECT_URI, provider};

    fn good() -> AuthorizationRequest {
        AuthorizationRequest {
            response_type: "code".into(),
            client_id: "causeway-demo".into(),
            redirect_uri: REDIRECT_URI.into(),
            scope: "openid email profile".into(),
            state: "s-1".into(),
            nonce: "n-1".into(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            code_challenge_method: "S256".into(),
        }
    }

    #[test]
    fn every_requirement_has_its_answer() {
        let provider = provider();
        let client = &provider.config.client;
        assert_eq!(good().check(client), Ok(()));
        let cases: Vec<(&str, AuthorizationRequest, Option<&str>)> = vec![
            (
                "unknown client",
                AuthorizationRequest {
                    client_id: "other".into(),
                    ..good()
                },
                None,
            ),
            (
                "redirect elsewhere",
                AuthorizationRequest {
                    redirect_uri: "https://evil.example/cb".into(),
                    ..good()
                },
                None,
            ),
            (
                "redirect prefix",
                AuthorizationRequest {
                    redirect_uri: format!("{REDIRECT_URI}/x"),
                    ..good()
                },
                None,
            ),
            (
                "implicit flow",
                AuthorizationRequest {
                    response_type: "id_token".into(),
                    ..good()
                },
                Some("unsupported_response_type"),
            ),
            (
                "no openid scope",
                AuthorizationRequest {
                    scope: "email profile".into(),
                    ..good()
                },
                Some("invalid_scope"),
            ),
            (
                "openid only as part of a word",
                AuthorizationRequest {
                    scope: "openidx".into(),
                    ..good()
                },
                Some("invalid_scope"),
            ),
            (
                "no state",
                AuthorizationRequest {
                    state: String::new(),
                    ..good()
                },
                Some("invalid_request"),
            ),
            (
                "no nonce",
                AuthorizationRequest {
                    nonce: String::new(),
                    ..good()
                },
                Some("invalid_request"),
            ),
            (
                "no PKCE",
                AuthorizationRequest {
                    code_challenge: String::new(),
                    code_challenge_method: String::new(),
                    ..good()
                },
                Some("invalid_request"),
            ),
            (
                "plain PKCE",
                AuthorizationRequest {
                    code_challenge_method: "plain".into(),
                    ..good()
                },
                Some("invalid_request"),
            ),
            (
                "malformed challenge",
                AuthorizationRequest {
                    code_challenge: "abc".into(),
                    ..good()
                },
                Some("invalid_request"),
            ),
        ];
        for (name, request, expected) in cases {
            match (request.check(client).unwrap_err(), expected) {
                (Refusal::Shown(_), None) => {}
                (Refusal::Returned { error, .. }, Some(code)) => assert_eq!(error, code, "{name}"),
                (other, _) => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn errors_return_to_the_client_with_state_and_iss() {
        let provider = provider();
        let request = AuthorizationRequest {
            scope: "email".into(),
            ..good()
        };
        let refusal = request.check(&provider.config.client).unwrap_err();
        let response = refuse(&provider, &request, refusal);
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = Url::parse(response.headers()[header::LOCATION].to_str().unwrap()).unwrap();
        assert!(location.as_str().starts_with(REDIRECT_URI));
        let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        for (name, value) in [
            ("error", "invalid_scope"),
            ("state", "s-1"),
            ("iss", "http://127.0.0.1:9090"),
        ] {
            assert!(
                query.contains(&(name.to_owned(), value.to_owned())),
                "{name} in {query:?}"
            );
        }
    }
}
