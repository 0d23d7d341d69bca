//! ID-token verification against a fake IdM's JWKS: key rotation, unknown kids, forged
//! signatures, and how often Causeway fetches.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use causeway::domain::ids::AppId;
use causeway::domain::urls::UrlPolicy;
use causeway::federation::http::OutboundClient;
use causeway::federation::jwks::{JwksCache, JwksPolicy};
use causeway::federation::oidc::claims::ClaimRules;
use causeway::federation::oidc::id_token::Verifier;
use causeway::federation::oidc::signer::Signer;
use causeway::services::login::catalog;
use poem::web::Json;
use poem::{Route, get};
use serde_json::{Value, json};

use crate::helpers::now;
use crate::support::server::TestServer;

const CLAIM: &str = "https://partner.example/wepay_account_id";

/// A JWKS endpoint whose key set the test changes at will, counting hits.
struct Keys {
    set: Arc<Mutex<Vec<Value>>>,
    hits: Arc<Mutex<u32>>,
    idm: TestServer,
}

impl Keys {
    async fn serve(initial: Vec<Value>) -> Self {
        let set = Arc::new(Mutex::new(initial));
        let hits = Arc::new(Mutex::new(0));
        let (s, h) = (set.clone(), hits.clone());
        let idm = TestServer::start(move |_| {
            Route::new().at(
                "/jwks",
                get(poem::endpoint::make_sync(move |_| {
                    *h.lock().unwrap() += 1;
                    Json(json!({"keys": s.lock().unwrap().clone()}))
                })),
            )
        })
        .await;
        Self { set, hits, idm }
    }

    fn uri(&self) -> url::Url {
        url::Url::parse(&format!("{}/jwks", self.idm.base)).unwrap()
    }

    fn hits(&self) -> u32 {
        *self.hits.lock().unwrap()
    }
}

fn payload() -> Value {
    json!({"iss": "https://idm.partner.example", "aud": "causeway", "sub": "u-1", "exp": now() + 300, "iat": now(),
        "nonce": "n", "email": "a@shop.example", "email_verified": true, "given_name": "A", "family_name": "B",
        CLAIM: "0b8a2f5e-1c7d-4e0a-9c61-2d5b7e8f9a10"})
}

fn rules() -> ClaimRules<'static> {
    ClaimRules { issuer: "https://idm.partner.example", client_id: "causeway", nonce: "n", now: now(), leeway_seconds: 60 }
}

fn client() -> OutboundClient {
    OutboundClient::new(UrlPolicy::AllowInsecure, Duration::from_secs(2)).unwrap()
}

async fn verify(cache: &JwksCache, app: AppId, keys: &Keys, token: &str) -> Result<String, String> {
    let client = client();
    let uri = keys.uri();
    let verifier = Verifier { cache, client: &client, app, jwks_uri: &uri };
    verifier.verify(token, &rules()).await.map(|id| id.subject).map_err(|e| catalog(e).code())
}

#[tokio::test]
async fn a_warm_cache_fetches_nothing_and_rotation_is_followed() {
    let old = Signer::es256("old").unwrap();
    let keys = Keys::serve(vec![old.jwk.clone()]).await;
    let cache = JwksCache::new(JwksPolicy { min_refetch_interval: Duration::ZERO, ..JwksPolicy::default() });
    let app = AppId::new();
    for _ in 0..5 {
        assert_eq!(verify(&cache, app, &keys, &old.sign(&payload(), None)).await, Ok("u-1".into()));
    }
    assert_eq!(keys.hits(), 1, "one fetch, then the cache");

    // The IdM rotates: new kid, old key removed.
    let new = Signer::ed25519("new").unwrap();
    *keys.set.lock().unwrap() = vec![new.jwk.clone()];
    assert_eq!(verify(&cache, app, &keys, &new.sign(&payload(), None)).await, Ok("u-1".into()));
    assert_eq!(keys.hits(), 2, "the unknown kid caused one refetch");
    // The removed key is no longer accepted.
    assert_eq!(verify(&cache, app, &keys, &old.sign(&payload(), None)).await, Err("kid_unknown_after_refresh".into()));
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_at_most_once_per_interval() {
    let real = Signer::es256("real").unwrap();
    let keys = Keys::serve(vec![real.jwk.clone()]).await;
    let cache = JwksCache::new(JwksPolicy::default());
    let app = AppId::new();
    assert!(verify(&cache, app, &keys, &real.sign(&payload(), None)).await.is_ok());
    for i in 0..50 {
        let forged = Signer::es256(&format!("forged-{i}")).unwrap();
        assert_eq!(verify(&cache, app, &keys, &forged.sign(&payload(), None)).await, Err("kid_unknown_after_refresh".into()));
    }
    assert_eq!(keys.hits(), 2, "initial fetch plus one forced refetch for 50 unknown kids");
    // Concurrent floods do not fetch in parallel either.
    let other_app = AppId::new();
    let tokens: Vec<String> = (0..20).map(|i| Signer::es256(&format!("x{i}")).unwrap().sign(&payload(), None)).collect();
    let results = futures_util::future::join_all(tokens.iter().map(|t| verify(&cache, other_app, &keys, t))).await;
    assert!(results.iter().all(|r| r == &Err("kid_unknown_after_refresh".to_string())));
    assert_eq!(keys.hits(), 4, "another app: its first fetch and one forced refetch");
}

#[tokio::test]
async fn new_material_under_a_known_kid_is_picked_up_after_one_refetch() {
    let first = Signer::es256("same-kid").unwrap();
    let keys = Keys::serve(vec![first.jwk.clone()]).await;
    let cache = JwksCache::new(JwksPolicy { min_refetch_interval: Duration::ZERO, ..JwksPolicy::default() });
    let app = AppId::new();
    assert!(verify(&cache, app, &keys, &first.sign(&payload(), None)).await.is_ok());
    let second = Signer::es256("same-kid").unwrap();
    *keys.set.lock().unwrap() = vec![second.jwk.clone()];
    assert_eq!(verify(&cache, app, &keys, &second.sign(&payload(), None)).await, Ok("u-1".into()));
    assert_eq!(keys.hits(), 2);
}

#[tokio::test]
async fn forged_and_downgraded_tokens_are_refused() {
    let real = Signer::es256("real").unwrap();
    let keys = Keys::serve(vec![real.jwk.clone()]).await;
    let cache = JwksCache::new(JwksPolicy::default());
    let app = AppId::new();
    let good = real.sign(&payload(), None);
    // Signature of one token on another's payload.
    let mut other = payload();
    other["sub"] = json!("admin");
    let (_, sig) = good.rsplit_once('.').unwrap();
    let (input, _) = real.sign(&other, None).rsplit_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap();
    assert_eq!(verify(&cache, app, &keys, &format!("{input}.{sig}")).await, Err("signature_invalid".into()));
    for alg in ["none", "HS256"] {
        assert_eq!(verify(&cache, app, &keys, &real.sign(&payload(), Some(alg))).await, Err("alg_not_allowed".into()), "{alg}");
    }
    assert_eq!(verify(&cache, app, &keys, "not.a.jwt").await, Err("id_token_malformed".into()));
    // A valid signature does not excuse a bad claim.
    let mut expired = payload();
    expired["exp"] = json!(now() - 3600);
    assert_eq!(verify(&cache, app, &keys, &real.sign(&expired, None)).await, Err("token_expired".into()));
}
