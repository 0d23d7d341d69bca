//! A hand-written OpenID provider for what real ones will not do: configurable ID-token
//! claims, token-endpoint answers and userinfo answers (wrong `sub`, errors, garbage,
//! oversized, slow), with counters of what Causeway asked. It approves every authorization
//! request at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use causeway::federation::oidc::signer::Signer;
use poem::http::StatusCode;
use poem::web::{Json, Redirect};
use poem::{get, post, IntoResponse, Response, Route};
use serde_json::{json, Value};

use crate::helpers::now;
use crate::idp::FakeIdm;

pub const CLIENT_ID: &str = "causeway";

/// What the userinfo endpoint answers.
#[derive(Clone, Debug)]
pub enum Userinfo {
    /// Only `sub`: the ID token's.
    Subject,
    /// These claims (the test decides whether `sub` is the ID token's).
    Claims(Value),
    Status(u16),
    /// A 200 whose body is this text.
    Body(&'static str),
    /// A JSON object larger than Causeway reads.
    Oversized,
    /// No answer within Causeway's timeout.
    Hang,
}

/// How the provider behaves; tests change it between logins.
#[derive(Clone, Debug)]
pub struct Behaviour {
    pub subject: String,
    /// Claims of the ID token beside the protocol ones (iss, aud, exp, iat, nonce, sub).
    pub id_token_claims: Value,
    pub userinfo: Userinfo,
    /// Whether discovery advertises a userinfo endpoint.
    pub publishes_userinfo: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            subject: "u-1".into(),
            id_token_claims: json!({"email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant"}),
            userinfo: Userinfo::Subject,
            publishes_userinfo: true,
        }
    }
}

#[derive(Default)]
pub struct Hits {
    pub token: AtomicU32,
    pub userinfo: AtomicU32,
}

pub struct FakeOp {
    pub issuer: String,
    pub behaviour: Arc<Mutex<Behaviour>>,
    pub hits: Arc<Hits>,
    _idm: FakeIdm,
}

struct Grant {
    nonce: String,
}

impl FakeOp {
    pub async fn start() -> Self {
        let behaviour = Arc::new(Mutex::new(Behaviour::default()));
        let hits = Arc::new(Hits::default());
        let codes: Arc<Mutex<HashMap<String, Grant>>> = Arc::default();
        let signer = Arc::new(Signer::es256("op-key").unwrap());
        let (b1, b2, b3) = (behaviour.clone(), behaviour.clone(), behaviour.clone());
        let (h1, h2) = (hits.clone(), hits.clone());
        let (c1, c2) = (codes.clone(), codes.clone());
        let jwk = signer.jwk.clone();
        let idm = FakeIdm::start(move |base| {
            let base = base.to_owned();
            let (discovery_base, token_base) = (base.clone(), base.clone());
            Route::new()
                .at(
                    "/.well-known/openid-configuration",
                    get(poem::endpoint::make_sync(move |_| {
                        let mut doc = json!({
                            "issuer": discovery_base, "authorization_endpoint": format!("{discovery_base}/authorize"),
                            "token_endpoint": format!("{discovery_base}/token"), "jwks_uri": format!("{discovery_base}/jwks"),
                            "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                            "token_endpoint_auth_methods_supported": ["client_secret_basic"]
                        });
                        if b1.lock().unwrap().publishes_userinfo {
                            doc["userinfo_endpoint"] = json!(format!("{discovery_base}/userinfo"));
                        }
                        Json(doc)
                    })),
                )
                .at("/jwks", get(poem::endpoint::make_sync(move |_| Json(json!({"keys": [jwk.clone()]})))))
                .at(
                    "/authorize",
                    get(poem::endpoint::make_sync(move |req| {
                        let q: HashMap<String, String> = req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
                        let code = uuid::Uuid::new_v4().to_string();
                        c1.lock().unwrap().insert(code.clone(), Grant { nonce: q["nonce"].clone() });
                        let mut target = url::Url::parse(&q["redirect_uri"]).unwrap();
                        target.query_pairs_mut().append_pair("code", &code).append_pair("state", &q["state"]);
                        Redirect::temporary(target.as_str())
                    })),
                )
                .at(
                    "/token",
                    post(poem::endpoint::make(move |mut req| {
                        let (behaviour, hits, codes, signer, issuer) = (b2.clone(), h1.clone(), c2.clone(), signer.clone(), token_base.clone());
                        async move {
                            hits.token.fetch_add(1, Ordering::SeqCst);
                            let body = req.take_body().into_string().await.unwrap_or_default();
                            let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                            let Some(grant) = form.get("code").and_then(|c| codes.lock().unwrap().remove(c)) else {
                                return Response::builder().status(StatusCode::BAD_REQUEST).content_type("application/json").body(r#"{"error":"invalid_grant"}"#);
                            };
                            let b = behaviour.lock().unwrap().clone();
                            let mut claims = json!({"iss": issuer, "aud": CLIENT_ID, "sub": b.subject, "exp": now() + 300, "iat": now(), "nonce": grant.nonce});
                            for (k, v) in b.id_token_claims.as_object().unwrap() {
                                claims[k] = v.clone();
                            }
                            Json(json!({"id_token": signer.sign(&claims, None), "access_token": "opaque-access-token", "token_type": "Bearer"})).into_response()
                        }
                    })),
                )
                .at(
                    "/userinfo",
                    get(poem::endpoint::make(move |req| {
                        let (behaviour, hits) = (b3.clone(), h2.clone());
                        async move {
                            hits.userinfo.fetch_add(1, Ordering::SeqCst);
                            if req.headers().get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer opaque-access-token") {
                                return StatusCode::UNAUTHORIZED.into_response();
                            }
                            let b = behaviour.lock().unwrap().clone();
                            match b.userinfo {
                                Userinfo::Subject => Json(json!({"sub": b.subject})).into_response(),
                                Userinfo::Claims(claims) => Json(claims).into_response(),
                                Userinfo::Status(status) => StatusCode::from_u16(status).unwrap().into_response(),
                                Userinfo::Body(text) => Response::builder().content_type("application/json").body(text),
                                Userinfo::Oversized => {
                                    Json(json!({"sub": "u-1", "padding": "x".repeat(200 * 1024)})).into_response()
                                }
                                Userinfo::Hang => {
                                    tokio::time::sleep(Duration::from_secs(10)).await;
                                    Json(json!({"sub": "u-1"})).into_response()
                                }
                            }
                        }
                    })),
                )
        })
        .await;
        Self { issuer: idm.base.clone(), behaviour, hits, _idm: idm }
    }

    pub fn set(&self, edit: impl FnOnce(&mut Behaviour)) {
        edit(&mut self.behaviour.lock().unwrap());
    }

    pub fn userinfo_hits(&self) -> u32 {
        self.hits.userinfo.load(Ordering::SeqCst)
    }

    /// The IdM configuration (partner API body) for this provider, with `extra` fields.
    pub fn config(&self, extra: Value) -> Value {
        let mut config = json!({"issuer": self.issuer, "client_id": CLIENT_ID, "client_secret": "s3cret",
            "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": "https://partner.example/bye"});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        config
    }
}
