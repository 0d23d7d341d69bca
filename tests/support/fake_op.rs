//! The one hand-written OpenID provider, for what real ones will not do: every answer a
//! test can break (ID-token claims, signing key and algorithm, token-endpoint failures,
//! userinfo answers, the authorization response's `iss` and `error`), counters of what
//! Causeway asked, and otherwise a strict provider: it checks the client's credentials,
//! the redirect URI and the PKCE verifier (RFC 7636 §4.6), and redeems each code once.
//! It approves every authorization request at once, for the user its own session cookie
//! names (or the configured subject). Used by the integration tests and the benchmarks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use causeway::federation::oidc::signer::Signer;
use poem::http::{StatusCode, header};
use poem::web::Json;
use poem::{IntoResponse, Request, Response, Route, get, post};
use serde_json::{Value, json};

use super::server::TestServer;

pub const CLIENT_ID: &str = "causeway";
pub const CLIENT_SECRET: &str = "s3cret";
/// The provider's own session cookie: which of its users the browser is signed in as.
pub const USER_COOKIE: &str = "fake_op_user";

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

/// What the token endpoint answers instead of a token.
#[derive(Clone, Debug)]
pub enum TokenFailure {
    /// This status and body.
    Status(u16, &'static str),
    /// No answer within Causeway's timeout.
    Hang,
}

/// The `iss` parameter of the authorization response (RFC 9207).
#[derive(Clone, Debug)]
pub enum IssParam {
    Absent,
    /// The provider's issuer, as a provider that implements RFC 9207 sends it.
    Issuer,
    Value(String),
}

/// How the provider behaves; tests change it between logins.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// The `sub` of users without the provider's session cookie.
    pub subject: String,
    /// Claims of the ID token beside the protocol ones (iss, aud, exp, iat, nonce, sub).
    pub id_token_claims: Value,
    /// A last change to the whole claim set, protocol claims included.
    pub edit_claims: Option<fn(&mut Value)>,
    /// Sign with this `alg` header instead of ES256 (`none`, `HS256`: forgeries).
    pub alg: Option<&'static str>,
    /// Sign with another key under the published key's `kid`.
    pub forged_key: bool,
    pub token_failure: Option<TokenFailure>,
    /// An `error` instead of a code in the authorization response.
    pub authorize_error: Option<&'static str>,
    pub iss_param: IssParam,
    pub userinfo: Userinfo,
    /// Whether discovery advertises a userinfo endpoint.
    pub publishes_userinfo: bool,
    /// Discovery answers 503 (an IdM that is down).
    pub discovery_down: bool,
    /// Signing algorithms discovery advertises (`id_token_signing_alg_values_supported`).
    pub algorithms: Vec<&'static str>,
    /// More signing keys in the JWKS beside the provider's own: copies of it under these kids.
    pub extra_kids: Vec<&'static str>,
    /// Seconds added to the provider's clock (to meet a test's pinned clock).
    pub time_shift: i64,
    /// When its user last authenticated (`auth_time`; none: not sent). A request with
    /// `prompt=login` authenticates them again, now, unless `ignores_prompt_login`.
    pub authenticated_at: Option<i64>,
    pub ignores_prompt_login: bool,
    /// A provider that breaks RFC 6749 §4.1.2 and honours a code more than once, and
    /// answers no token request until this many have arrived (5 s at most): callbacks
    /// racing with one state all get an identity, none before the others asked.
    pub reuses_codes_for: Option<u32>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            subject: "u-1".into(),
            id_token_claims: json!({"email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant"}),
            edit_claims: None,
            alg: None,
            forged_key: false,
            token_failure: None,
            authorize_error: None,
            iss_param: IssParam::Absent,
            userinfo: Userinfo::Subject,
            publishes_userinfo: true,
            discovery_down: false,
            algorithms: vec!["ES256"],
            extra_kids: vec![],
            time_shift: 0,
            authenticated_at: None,
            ignores_prompt_login: false,
            reuses_codes_for: None,
        }
    }
}

/// What Causeway asked for, by endpoint.
#[derive(Default)]
pub struct Hits {
    pub discovery: AtomicU32,
    pub authorize: AtomicU32,
    pub token: AtomicU32,
    pub userinfo: AtomicU32,
    /// Each authorization request's `prompt` and `max_age` (empty when absent).
    pub prompts: Mutex<Vec<(String, String)>>,
}

#[derive(Clone)]
struct Grant {
    auth_time: Option<i64>,
    nonce: String,
    subject: String,
    redirect_uri: String,
    code_challenge: String,
}

struct Provider {
    issuer: String,
    behaviour: Mutex<Behaviour>,
    hits: Hits,
    codes: Mutex<HashMap<String, Grant>>,
    signer: Signer,
    forger: Signer,
}

pub struct FakeOp {
    pub issuer: String,
    provider: Arc<Provider>,
    _server: TestServer,
}

impl FakeOp {
    pub async fn start() -> Self {
        Self::start_at("").await
    }

    /// A provider whose issuer has this path (`/realms/acme`, as Keycloak's have).
    pub async fn start_at(path: &str) -> Self {
        let signer = Signer::es256("op-key").expect("a signing key");
        let forger = Signer::es256("op-key").expect("a signing key");
        let cell: Arc<Mutex<Option<Arc<Provider>>>> = Arc::default();
        let slot = cell.clone();
        let path = path.to_owned();
        let server = TestServer::start(move |base| {
            let provider = Arc::new(Provider {
                issuer: format!("{base}{path}"),
                behaviour: Mutex::new(Behaviour::default()),
                hits: Hits::default(),
                codes: Mutex::default(),
                signer,
                forger,
            });
            *slot.lock().unwrap() = Some(provider.clone());
            routes(&path, provider)
        })
        .await;
        let provider = cell.lock().unwrap().take().expect("the routes were built");
        Self { issuer: provider.issuer.clone(), provider, _server: server }
    }

    pub fn set(&self, edit: impl FnOnce(&mut Behaviour)) {
        edit(&mut self.provider.behaviour.lock().unwrap());
    }

    /// A JWS over `claims` under the provider's published key: what its logout tokens are.
    pub fn sign(&self, claims: &Value) -> String {
        self.provider.signer.sign(claims, None)
    }

    pub fn hits(&self) -> &Hits {
        &self.provider.hits
    }

    pub fn userinfo_hits(&self) -> u32 {
        self.provider.hits.userinfo.load(Ordering::SeqCst)
    }

    /// The IdM configuration (partner API body) for this provider, with `extra` fields.
    pub fn config(&self, extra: Value) -> Value {
        let mut config = json!({"issuer": self.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": "https://partner.example/bye"});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        config
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    Response::builder().status(status).content_type("application/json").body(json!({"error": error}).to_string())
}

fn routes(path: &str, provider: Arc<Provider>) -> Route {
    let (p1, p2, p3, p4, p5) = (provider.clone(), provider.clone(), provider.clone(), provider.clone(), provider);
    Route::new()
        .at(format!("{path}/.well-known/openid-configuration"), get(poem::endpoint::make_sync(move |_| discovery(&p1))))
        .at(format!("{path}/jwks"), get(poem::endpoint::make_sync(move |_| jwks(&p2))))
        .at(format!("{path}/authorize"), get(poem::endpoint::make_sync(move |req| authorize(&p3, &req))))
        .at(
            format!("{path}/token"),
            post(poem::endpoint::make(move |req| {
                let provider = p4.clone();
                async move { token(&provider, req).await }
            })),
        )
        .at(
            format!("{path}/userinfo"),
            get(poem::endpoint::make(move |req| {
                let provider = p5.clone();
                async move { userinfo(&provider, &req).await }
            })),
        )
}

fn discovery(p: &Provider) -> Response {
    p.hits.discovery.fetch_add(1, Ordering::SeqCst);
    if p.behaviour.lock().unwrap().discovery_down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let base = &p.issuer;
    let mut doc = json!({
        "issuer": base, "authorization_endpoint": format!("{base}/authorize"), "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"), "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": p.behaviour.lock().unwrap().algorithms, "subject_types_supported": ["public"],
        // Its tests sign logout tokens with its key (Back-Channel Logout 1.0 §2.1).
        "backchannel_logout_supported": true, "backchannel_logout_session_supported": true
    });
    if p.behaviour.lock().unwrap().publishes_userinfo {
        doc["userinfo_endpoint"] = json!(format!("{base}/userinfo"));
    }
    Json(doc).into_response()
}

fn jwks(p: &Provider) -> Json<Value> {
    let mut keys = vec![p.signer.jwk.clone()];
    for kid in &p.behaviour.lock().unwrap().extra_kids {
        let mut key = p.signer.jwk.clone();
        key["kid"] = json!(kid);
        keys.push(key);
    }
    Json(json!({"keys": keys}))
}

fn authorize(p: &Provider, req: &Request) -> Response {
    p.hits.authorize.fetch_add(1, Ordering::SeqCst);
    let q: HashMap<String, String> = req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let field = |name: &str| q.get(name).cloned().unwrap_or_default();
    p.hits.prompts.lock().unwrap().push((field("prompt"), field("max_age")));
    let scope_has_openid = field("scope").split(' ').any(|s| s == "openid");
    if field("response_type") != "code" || field("client_id") != CLIENT_ID || field("code_challenge_method") != "S256" || !scope_has_openid {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let Ok(mut target) = url::Url::parse(&field("redirect_uri")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let behaviour = p.behaviour.lock().unwrap().clone();
    let cookie_user = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|all| all.split("; ").find_map(|c| c.strip_prefix(USER_COOKIE)?.strip_prefix('=')))
        .map(str::to_owned);
    match behaviour.authorize_error {
        Some(error) => {
            target.query_pairs_mut().append_pair("error", error).append_pair("state", &field("state"));
        }
        None => {
            let code = uuid::Uuid::new_v4().simple().to_string();
            let reauthenticated = field("prompt").split(' ').any(|p| p == "login") && !behaviour.ignores_prompt_login;
            let grant = Grant {
                auth_time: if reauthenticated { Some(now() + behaviour.time_shift) } else { behaviour.authenticated_at },
                nonce: field("nonce"),
                subject: cookie_user.unwrap_or(behaviour.subject),
                redirect_uri: field("redirect_uri"),
                code_challenge: field("code_challenge"),
            };
            p.codes.lock().unwrap().insert(code.clone(), grant);
            target.query_pairs_mut().append_pair("code", &code).append_pair("state", &field("state"));
        }
    }
    match behaviour.iss_param {
        IssParam::Absent => {}
        IssParam::Issuer => {
            target.query_pairs_mut().append_pair("iss", &p.issuer);
        }
        IssParam::Value(iss) => {
            target.query_pairs_mut().append_pair("iss", &iss);
        }
    }
    Response::builder().status(StatusCode::FOUND).header(header::LOCATION, target.as_str()).finish()
}

/// The client's credentials: HTTP Basic (form-encoded, RFC 6749 §2.3.1) or in the form.
fn client_authenticated(req: &Request, form: &HashMap<String, String>) -> bool {
    let basic = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "));
    match basic {
        Some(encoded) => {
            let decoded = STANDARD.decode(encoded).ok().and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
            let (id, secret) = decoded.split_once(':').unwrap_or_default();
            let unescape = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
            unescape(id) == CLIENT_ID && unescape(secret) == CLIENT_SECRET
        }
        None => form.get("client_id").map(String::as_str) == Some(CLIENT_ID) && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET),
    }
}

async fn token(p: &Provider, mut req: Request) -> Response {
    p.hits.token.fetch_add(1, Ordering::SeqCst);
    let body = req.take_body().into_string().await.unwrap_or_default();
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let behaviour = p.behaviour.lock().unwrap().clone();
    match behaviour.token_failure {
        Some(TokenFailure::Status(status, body)) => {
            return Response::builder().status(StatusCode::from_u16(status).unwrap()).content_type("application/json").body(body);
        }
        Some(TokenFailure::Hang) => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            return Response::builder().body("{}");
        }
        None => {}
    }
    if !client_authenticated(&req, &form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let grant = match behaviour.reuses_codes_for {
        Some(racers) => {
            let since = std::time::Instant::now();
            while p.hits.token.load(Ordering::SeqCst) < racers && since.elapsed() < Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            p.codes.lock().unwrap().get(field("code")).cloned()
        }
        None => p.codes.lock().unwrap().remove(field("code")),
    };
    let Some(grant) = grant else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, field("code_verifier").as_bytes()));
    if field("grant_type") != "authorization_code" || grant.redirect_uri != field("redirect_uri") || grant.code_challenge != challenge {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let now = now() + behaviour.time_shift;
    let mut claims = json!({"iss": p.issuer, "aud": CLIENT_ID, "sub": grant.subject, "exp": now + 300, "iat": now, "nonce": grant.nonce});
    if let Some(auth_time) = grant.auth_time {
        claims["auth_time"] = json!(auth_time);
    }
    for (k, v) in behaviour.id_token_claims.as_object().into_iter().flatten() {
        claims[k] = v.clone();
    }
    if let Some(edit) = behaviour.edit_claims {
        edit(&mut claims);
    }
    let key = if behaviour.forged_key { &p.forger } else { &p.signer };
    let id_token = key.sign(&claims, behaviour.alg);
    Response::builder()
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(json!({"id_token": id_token, "access_token": "opaque-access-token", "token_type": "Bearer", "expires_in": 300}).to_string())
}

async fn userinfo(p: &Provider, req: &Request) -> Response {
    p.hits.userinfo.fetch_add(1, Ordering::SeqCst);
    if req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some("Bearer opaque-access-token") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let b = p.behaviour.lock().unwrap().clone();
    match b.userinfo {
        Userinfo::Subject => Json(json!({"sub": b.subject})).into_response(),
        Userinfo::Claims(claims) => Json(claims).into_response(),
        Userinfo::Status(status) => StatusCode::from_u16(status).unwrap().into_response(),
        Userinfo::Body(text) => Response::builder().content_type("application/json").body(text),
        Userinfo::Oversized => Json(json!({"sub": b.subject, "padding": "x".repeat(200 * 1024)})).into_response(),
        Userinfo::Hang => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Json(json!({"sub": b.subject})).into_response()
        }
    }
}
