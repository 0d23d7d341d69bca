//! Property tests of the parsers an outsider feeds (issue 14): ID tokens (compact JWS) and
//! JWK Sets, ID-token claims and the person made of them, discovery documents, the
//! hosted-login exchange answer, sealed values, cookies, CSRF tokens, the Merchant Center's
//! forms and the partner's IdM configuration. Arbitrary input never panics and gets the
//! documented answer; what has a writer round-trips; a changed character of a signed or
//! sealed value is refused.
//!
//! Every property runs a bounded number of cases (the whole file takes seconds) and writes
//! no `proptest-regressions` file: a failure prints its smallest input, which then belongs
//! in a fixed test next to the parser.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use causeway::crypto::keyring::{KeySource, Keyring, MasterKey};
use causeway::crypto::sealed::{self, SealError};
use causeway::crypto::session_ids::new_session_id;
use causeway::domain::field_error::FieldError;
use causeway::domain::identity::{ClaimNames, EmailTrust, FederatedIdentity, IdentityPolicy, StandardClaim};
use causeway::domain::idm_config::{ClaimDomain, ClaimNamesInput, ConnectorConfig, EndpointOverrides, HostedLoginConfig, IdmConfigInput, OidcConfig};
use causeway::domain::ids::AppId;
use causeway::domain::kyc::{KycDetails, KycInput};
use causeway::domain::payout::{BankAccount, PayoutInput};
use causeway::domain::sso_error::SsoError;
use causeway::domain::urls::{PartnerUrl, UrlPolicy, is_public};
use causeway::domain::values::{AcceptanceTime, BoundedText, CountryCode, EmailAddress, IpAddress, PhoneNumber};
use causeway::federation::connector::{Callback, Connector, Context, FederationError};
use causeway::federation::hosted_login::HostedLoginConnector;
use causeway::federation::http::{FetchError, OutboundClient};
use causeway::federation::jwks::{JwksCache, JwksError, JwksPolicy};
use causeway::federation::oidc::claims::ClaimRules;
use causeway::federation::oidc::connector::OidcConnector;
use causeway::federation::oidc::endpoints::{Endpoints, discovery_url};
use causeway::federation::oidc::id_token::Verifier;
use causeway::federation::oidc::jws::{Jws, JwsError, VerifyingKey};
use causeway::federation::oidc::signer::Signer;
use causeway::web::csrf;
use causeway::web::session::{SameSite, clear_cookie, read_cookie, set_cookie};
use poem::http::{HeaderValue, Method, StatusCode};
use poem::web::Form;
use poem::{FromRequest, Request, Response, Route, get, post};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use url::Url;

use crate::support::server::TestServer;

// ---------------------------------------------------------------------------------------
// Bounded runs and the generators every property shares.
// ---------------------------------------------------------------------------------------

/// `cases` inputs, no regression file in the tree, shrinking bounded in time.
fn bounded(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, max_shrink_iters: 4096, max_shrink_time: 20_000, ..ProptestConfig::default() }
}

/// Runs `test` over `cases` inputs of `strategy` (for properties that need a runtime or a
/// server set up once); panics with the smallest failing input.
fn check<S>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    if let Err(failure) = TestRunner::new(bounded(cases)).run(&strategy, test) {
        panic!("{failure}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn client() -> OutboundClient {
    OutboundClient::new(UrlPolicy::AllowInsecure, Duration::from_secs(5)).unwrap()
}

/// Characters parsers split on, and the ones that must never reach a page or the database
/// (controls, NUL, bidi overrides): drawn far more often than chance would draw them.
const SPECIAL: &[char] = &[
    '.', '=', ';', ',', ' ', '\t', '\n', '\r', '\0', '\u{7f}', '\u{85}', '\u{202e}', '\u{2066}', '\u{200f}', '\u{feff}', '%', '+', '&', '"',
    '\\', '/', ':', '@', '#', '?', '<', '>', 'a', 'Z', '0', '9', '-', '_', 'é', '名', '😀',
];

/// Any text: arbitrary characters (controls included), or a mix of the special ones.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
        3 => prop::collection::vec(select(SPECIAL), 0..16).prop_map(String::from_iter),
        2 => "[ -~]{0,32}",
    ]
    .boxed()
}

/// Member names: mostly ones some parser here looks for, sometimes anything.
const KEYS: &[&str] = &[
    "iss", "sub", "aud", "azp", "exp", "iat", "nonce", "email", "email_verified", "given_name", "family_name", "name", "phone_number",
    "phone_number_verified", "alg", "kid", "kty", "crv", "use", "n", "e", "x", "y", "crit", "keys", "issuer", "authorization_endpoint",
    "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint", "authorization_response_iss_parameter_supported", "data",
    "status", "wesb_user_id", "first_name", "last_name", "full_name", ACCOUNT_CLAIM,
];

fn key() -> BoxedStrategy<String> {
    prop_oneof![3 => select(KEYS).prop_map(str::to_owned), 1 => text()].boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| serde_json::Number::from_f64(f).map(Value::Number)),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool), number(), text().prop_map(Value::String)];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
    .boxed()
}

fn json_object() -> BoxedStrategy<Map<String, Value>> {
    prop::collection::vec((key(), json_value()), 0..8).prop_map(|members| members.into_iter().collect()).boxed()
}

fn bytes(max: usize) -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max).boxed()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A character other than `old`, as a tamperer would put in its place.
fn replacement() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".as_slice()).prop_map(char::from),
        1 => select(vec!['.', '=', '+', '/', ' ', '\0', 'é']),
    ]
}

fn replace_char(text: &str, at: usize, with: char) -> String {
    text.char_indices().map(|(i, c)| if i == at { with } else { c }).collect()
}

/// Controls and the bidirectional overrides and isolates: what must not reach a person's
/// stored names and addresses (issue 14: NUL breaks PostgreSQL, bidi makes text lie).
fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

// ---------------------------------------------------------------------------------------
// Compact JWS and JWKs.
// ---------------------------------------------------------------------------------------

const ALLOWED_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];
const ALG_NAMES: &[&str] = &["RS256", "PS256", "ES256", "EdDSA", "none", "None", "HS256", "HS512", "ES512", "RS512", "es256", "", "ES256 "];

/// A JOSE header: mostly an object with `alg`, `kid` and perhaps `crit`; sometimes any JSON.
fn jose_header() -> BoxedStrategy<Value> {
    let alg = prop_oneof![1 => Just(None), 6 => select(ALG_NAMES).prop_map(|a| Some(json!(a))), 1 => json_value().prop_map(Some)];
    let kid = prop_oneof![Just(None), text().prop_map(|k| Some(json!(k))), json_value().prop_map(Some)];
    let crit = prop_oneof![4 => Just(None), 1 => json_value().prop_map(Some)];
    let object = (alg, kid, crit, json_object()).prop_map(|(alg, kid, crit, mut header)| {
        for (name, value) in [("alg", alg), ("kid", kid), ("crit", crit)] {
            header.shift_remove(name);
            if let Some(value) = value {
                header.insert(name.into(), value);
            }
        }
        Value::Object(header)
    });
    prop_oneof![5 => object, 1 => json_value()].boxed()
}

/// What RFC 7515 and Causeway's rules say of a header: the algorithm and kid, or the error.
fn header_verdict(header: &Value) -> Result<(&str, Option<&str>), JwsError> {
    let alg = header.get("alg").and_then(Value::as_str).ok_or(JwsError::Malformed)?;
    if !ALLOWED_ALGS.contains(&alg) {
        return Err(JwsError::AlgNotAllowed(alg.to_owned()));
    }
    if header.get("crit").is_some() {
        return Err(JwsError::Malformed);
    }
    Ok((alg, header.get("kid").and_then(Value::as_str)))
}

proptest! {
    #![proptest_config(bounded(512))]

    /// Any text as an ID token: parsed or refused as malformed or with its algorithm named,
    /// never a panic; only three dot-separated parts can parse.
    #[test]
    fn jws_parse_takes_any_text(token in prop_oneof![
        text(),
        prop::collection::vec(prop_oneof![text(), bytes(40).prop_map(b64)], 0..5).prop_map(|parts| parts.join(".")),
    ]) {
        match Jws::parse(&token) {
            Ok(jws) => {
                prop_assert_eq!(token.matches('.').count(), 2);
                prop_assert!(ALLOWED_ALGS.contains(&jws.alg.name()));
            }
            Err(JwsError::Malformed | JwsError::AlgNotAllowed(_)) => {}
            Err(other) => prop_assert!(false, "parse answered {other:?}"),
        }
    }

    /// Three base64url parts around any header: the verdict RFC 7515 and the allowed set
    /// give (`none`, HS*, other algorithms named; `crit` refused; the kid kept).
    #[test]
    fn jws_headers_get_their_documented_verdict(header in jose_header(), payload in bytes(64), signature in bytes(80)) {
        let token = format!("{}.{}.{}", b64(header.to_string()), b64(&payload), b64(&signature));
        match (Jws::parse(&token), header_verdict(&header)) {
            (Ok(jws), Ok((alg, kid))) => {
                prop_assert_eq!(jws.alg.name(), alg);
                prop_assert_eq!(jws.kid.as_deref(), kid);
            }
            (Err(got), Err(expected)) => prop_assert_eq!(got, expected),
            (got, expected) => prop_assert!(false, "parse gave {got:?}, the rules say {expected:?}"),
        }
    }

    /// Any JSON as a JWK: a key exactly when it can verify ID tokens here (RSA, P-256 with
    /// 32-byte coordinates, Ed25519; signing use; an allowed alg when it pins one). A key
    /// made of arbitrary material never verifies an arbitrary signature, and never panics.
    #[test]
    fn any_jwk_is_a_key_only_when_usable(jwk in prop_oneof![json_value(), jwk_shaped()], alg in select(ALLOWED_ALGS.to_vec()), signature in bytes(300)) {
        let key = VerifyingKey::from_jwk(&jwk);
        prop_assert_eq!(key.is_some(), usable(&jwk), "{}", jwk);
        if let Some(key) = key {
            prop_assert_eq!(key.kid.as_deref(), jwk.get("kid").and_then(Value::as_str));
            let token = format!("{}.{}.{}", b64(json!({"alg": alg}).to_string()), b64(b"{}"), b64(&signature));
            prop_assert_eq!(Jws::parse(&token).unwrap().verify(&key).unwrap_err(), JwsError::BadSignature);
        }
    }
}

/// A base64url field of a JWK: absent, encoded bytes (often of the sizes that matter), or junk.
fn jwk_field() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        1 => Just(None),
        3 => prop_oneof![bytes(80), prop::collection::vec(any::<u8>(), 32..=32)].prop_map(|b| Some(json!(b64(b)))),
        1 => text().prop_map(|t| Some(json!(t))),
        1 => json_value().prop_map(Some),
    ]
    .boxed()
}

fn jwk_shaped() -> BoxedStrategy<Value> {
    let kty = select(vec![Some("RSA"), Some("EC"), Some("OKP"), Some("oct"), Some("rsa"), None]);
    let crv = select(vec![Some("P-256"), Some("Ed25519"), Some("P-384"), Some("X25519"), None]);
    let usage = select(vec![None, Some(json!("sig")), Some(json!("enc")), Some(json!("")), Some(json!(1))]);
    let alg = prop_oneof![Just(None), select(ALG_NAMES).prop_map(|a| Some(json!(a)))];
    let kid = prop_oneof![Just(None), select(vec!["k1", "k2"]).prop_map(|k| Some(json!(k))), text().prop_map(|k| Some(json!(k)))];
    let material = (jwk_field(), jwk_field(), jwk_field(), jwk_field());
    (kty, crv, usage, alg, kid, material)
        .prop_map(|(kty, crv, usage, alg, kid, (n, e, x, y))| {
            let mut jwk = Map::new();
            let fields = [("kty", kty.map(Value::from)), ("crv", crv.map(Value::from)), ("use", usage), ("alg", alg), ("kid", kid), ("n", n), ("e", e), ("x", x), ("y", y)];
            for (name, value) in fields {
                if let Some(value) = value {
                    jwk.insert(name.into(), value);
                }
            }
            Value::Object(jwk)
        })
        .boxed()
}

/// RFC 7517/7518 and Causeway's rules for a JWK that can verify ID tokens.
fn usable(jwk: &Value) -> bool {
    let text = |field: &str| jwk.get(field).and_then(Value::as_str);
    let decoded = |field: &str| text(field).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
    if text("use").is_some_and(|u| u != "sig") || text("alg").is_some_and(|a| !ALLOWED_ALGS.contains(&a)) {
        return false;
    }
    match (text("kty"), text("crv")) {
        (Some("RSA"), _) => decoded("n").is_some() && decoded("e").is_some(),
        (Some("EC"), Some("P-256")) => decoded("x").is_some_and(|x| x.len() == 32) && decoded("y").is_some_and(|y| y.len() == 32),
        (Some("OKP"), Some("Ed25519")) => decoded("x").is_some(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// ID tokens through the Verifier, against a JWKS on loopback.
// ---------------------------------------------------------------------------------------

const ISSUER: &str = "https://idm.partner.example";
const CLIENT_ID: &str = "causeway";
const NONCE: &str = "n-0";
const NOW: i64 = 1_800_000_000;
const ACCOUNT_CLAIM: &str = "https://partner.example/wepay_account_id";

/// A JWKS endpoint on loopback publishing `keys`.
async fn jwks_server(keys: Vec<Value>) -> (TestServer, Url) {
    let server = TestServer::start(move |_| {
        Route::new().at("/jwks", get(poem::endpoint::make_sync(move |_| poem::web::Json(json!({"keys": keys.clone()})))))
    })
    .await;
    let uri = Url::parse(&format!("{}/jwks", server.base)).unwrap();
    (server, uri)
}

/// A NumericDate as an IdM might send it: absent, text, near now, anywhere in i64 or u64,
/// a double (fractions, 1e300), or right at the ends of i64.
fn numeric_date() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        1 => Just(None),
        1 => text().prop_map(|t| Some(json!(t))),
        1 => json_value().prop_filter("not a number", |v| !v.is_number()).prop_map(Some),
        4 => (-400i64..400).prop_map(|d| Some(json!(NOW + d))),
        1 => (-400.0f64..400.0).prop_map(|d| Some(json!(NOW as f64 + d))),
        3 => number().prop_map(Some),
        2 => select(vec![i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1, 0, -1]).prop_map(|t| Some(json!(t))),
        1 => select(vec![1e300, -1e300, 9.3e18, -9.3e18, f64::MAX, f64::MIN, 0.5, -0.5]).prop_map(|t| Some(json!(t))),
    ]
    .boxed()
}

/// A claim that is mostly right: the expected value, absent, other text or other JSON.
fn mostly(right: &'static str) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        6 => Just(Some(json!(right))),
        1 => Just(None),
        1 => text().prop_map(|t| Some(json!(t))),
        1 => json_value().prop_map(Some),
    ]
    .boxed()
}

fn audience() -> BoxedStrategy<Option<Value>> {
    let member = prop_oneof![3 => Just(json!(CLIENT_ID)), 2 => text().prop_map(Value::from), 1 => json_value()];
    prop_oneof![
        5 => Just(Some(json!(CLIENT_ID))),
        1 => Just(None),
        1 => text().prop_map(|t| Some(json!(t))),
        2 => prop::collection::vec(member, 0..4).prop_map(|many| Some(Value::Array(many))),
        1 => json_value().prop_map(Some),
    ]
    .boxed()
}

fn subject() -> BoxedStrategy<Option<Value>> {
    prop_oneof![4 => Just(Some(json!("pairwise-1"))), 3 => text().prop_map(|t| Some(json!(t))), 1 => Just(None), 1 => json_value().prop_map(Some)]
        .boxed()
}

/// Claims of an ID token: each protocol claim mostly right, any other claims beside.
fn id_token_claims() -> BoxedStrategy<Map<String, Value>> {
    let azp = prop_oneof![4 => Just(None), 2 => Just(Some(json!(CLIENT_ID))), 1 => text().prop_map(|t| Some(json!(t))), 1 => json_value().prop_map(Some)];
    (mostly(ISSUER), audience(), azp, numeric_date(), numeric_date(), mostly(NONCE), subject(), json_object())
        .prop_map(|(iss, aud, azp, exp, iat, nonce, sub, mut claims)| {
            for (name, value) in [("iss", iss), ("aud", aud), ("azp", azp), ("exp", exp), ("iat", iat), ("nonce", nonce), ("sub", sub)] {
                claims.shift_remove(name);
                if let Some(value) = value {
                    claims.insert(name.into(), value);
                }
            }
            claims
        })
        .boxed()
}

/// Seconds as exact arithmetic sees them: an integer as it is, a double toward zero.
enum Seconds {
    Int(i128),
    Float(f64),
}

fn seconds(value: &Value) -> Option<Seconds> {
    match value {
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Seconds::Int(i.into()),
            (None, Some(u)) => Seconds::Int(u.into()),
            _ => Seconds::Float(n.as_f64()?.trunc()),
        }),
        _ => None,
    }
}

/// Every rule of OIDC Core §3.1.3.7 the claims break, with the error each has: the
/// verifier must answer with one of them, and accept exactly when there is none.
fn broken_rules(claims: &Map<String, Value>, leeway: i64) -> Vec<FederationError> {
    use FederationError as E;
    let mut broken = Vec::new();
    let text = |name: &str| claims.get(name).and_then(Value::as_str).filter(|t| !t.trim().is_empty());
    match text("iss") {
        None => broken.push(E::ClaimMissing("iss".into())),
        Some(iss) if iss != ISSUER => broken.push(E::IssMismatch),
        Some(_) => {}
    }
    let audiences: Option<Vec<&str>> = match claims.get("aud") {
        Some(Value::String(one)) => Some(vec![one.as_str()]),
        Some(Value::Array(many)) => Some(many.iter().filter_map(Value::as_str).collect()),
        _ => None,
    };
    match &audiences {
        None => broken.push(E::ClaimMissing("aud".into())),
        Some(audiences) if !audiences.contains(&CLIENT_ID) => broken.push(E::AudMismatch),
        Some(audiences) => match claims.get("azp").and_then(Value::as_str) {
            Some(azp) if azp != CLIENT_ID => broken.push(E::AzpMismatch),
            None if audiences.len() > 1 => broken.push(E::AzpMismatch),
            _ => {}
        },
    }
    let (now, leeway_i) = (i128::from(NOW), i128::from(leeway));
    match claims.get("exp").and_then(seconds) {
        None => broken.push(E::ClaimMissing("exp".into())),
        Some(Seconds::Int(exp)) if exp + leeway_i <= now => broken.push(E::TokenExpired),
        Some(Seconds::Float(exp)) if exp + leeway as f64 <= NOW as f64 => broken.push(E::TokenExpired),
        Some(_) => {}
    }
    match claims.get("iat").and_then(seconds) {
        None => broken.push(E::ClaimMissing("iat".into())),
        Some(Seconds::Int(iat)) if iat > now + leeway_i => broken.push(E::IatInFuture),
        Some(Seconds::Float(iat)) if iat > (NOW + leeway) as f64 => broken.push(E::IatInFuture),
        Some(_) => {}
    }
    if claims.get("nonce").and_then(Value::as_str) != Some(NONCE) {
        broken.push(E::NonceMismatch);
    }
    if text("sub").is_none() {
        broken.push(E::ClaimMissing("sub".into()));
    }
    broken
}

/// A token signed by the test's key with arbitrary claims verifies exactly when the claims
/// keep every rule, whatever `exp` and `iat` hold (huge, negative, fractional, not numbers:
/// saturating arithmetic, no panic), and then its claims come back as signed.
#[test]
fn a_signed_token_verifies_iff_its_claims_keep_the_rules() {
    let rt = runtime();
    let signers = [Signer::es256("k-es").unwrap(), Signer::ed25519("k-ed").unwrap()];
    let (_server, uri) = rt.block_on(jwks_server(signers.iter().map(|s| s.jwk.clone()).collect()));
    let (cache, client, app) = (JwksCache::new(JwksPolicy::default()), client(), AppId::new());
    let strategy = (id_token_claims(), 0usize..2, 0i64..=300);
    check(256, strategy, |(claims, which, leeway)| {
        let token = signers[which].sign(&Value::Object(claims.clone()), None);
        let rules = ClaimRules { issuer: ISSUER, client_id: CLIENT_ID, nonce: NONCE, now: NOW, leeway_seconds: leeway };
        let verifier = Verifier { cache: &cache, client: &client, app, jwks_uri: &uri };
        let verdict = rt.block_on(verifier.verify(&token, &rules));
        let broken = broken_rules(&claims, leeway);
        match verdict {
            Ok(verified) => {
                prop_assert!(broken.is_empty(), "accepted although it breaks {broken:?}");
                prop_assert_eq!(verified.issuer, ISSUER);
                prop_assert_eq!(Some(verified.subject.as_str()), claims.get("sub").and_then(Value::as_str));
                // As any JSON reader gets them back (serde_json's default float parsing may
                // differ from the writer's in the last place of extreme doubles).
                let as_read: Map<String, Value> = serde_json::from_str(&Value::Object(claims).to_string()).unwrap();
                prop_assert_eq!(verified.claims, as_read);
            }
            Err(error) => prop_assert!(broken.contains(&error), "refused with {error:?}, but the broken rules are {broken:?}"),
        }
        Ok(())
    });
    assert_eq!(cache.fetch_count(), 1, "one JWKS fetch, then the cache");
}

/// Changing any one character of a signed token makes verification fail: as malformed, as
/// a disallowed algorithm, an unknown kid, or a bad signature; never a pass, never a panic.
#[test]
fn tampering_with_any_character_of_a_signed_token_fails() {
    let rt = runtime();
    let signers = [Signer::es256("k-es").unwrap(), Signer::ed25519("k-ed").unwrap()];
    let (_server, uri) = rt.block_on(jwks_server(signers.iter().map(|s| s.jwk.clone()).collect()));
    let (cache, client, app) = (JwksCache::new(JwksPolicy::default()), client(), AppId::new());
    let rules = ClaimRules { issuer: ISSUER, client_id: CLIENT_ID, nonce: NONCE, now: NOW, leeway_seconds: 60 };
    let verify = |token: &str| rt.block_on(Verifier { cache: &cache, client: &client, app, jwks_uri: &uri }.verify(token, &rules));
    let strategy = (0usize..2, text(), any::<Index>(), replacement());
    check(256, strategy, |(which, note, at, with)| {
        let claims = json!({"iss": ISSUER, "aud": CLIENT_ID, "sub": "u-1", "exp": NOW + 300, "iat": NOW, "nonce": NONCE, "note": note});
        let token = signers[which].sign(&claims, None);
        prop_assert!(verify(&token).is_ok(), "the untouched token verifies");
        let at = at.index(token.len());
        prop_assume!(token.as_bytes()[at] != with as u8 || !with.is_ascii());
        let tampered = replace_char(&token, at, with);
        match verify(&tampered) {
            Err(
                FederationError::IdTokenMalformed
                | FederationError::AlgNotAllowed
                | FederationError::SignatureInvalid
                | FederationError::KidUnknownAfterRefresh,
            ) => {}
            other => prop_assert!(false, "{tampered} answered {other:?}"),
        }
        // The JWS layer alone agrees: nothing verifies under the signer's own key.
        let key = VerifyingKey::from_jwk(&signers[which].jwk).unwrap();
        prop_assert!(Jws::parse(&tampered).and_then(|jws| jws.verify(&key).map(<[u8]>::to_vec)).is_err());
        Ok(())
    });
}

/// A JWKS document as an IdM might serve it: bytes, any JSON, or a key set of JWK-shaped
/// members (usable or not) among junk.
#[derive(Clone, Debug)]
enum JwksBody {
    Bytes(Vec<u8>),
    Json(Value),
}

fn jwks_body() -> BoxedStrategy<JwksBody> {
    let member = prop_oneof![4 => jwk_shaped(), 1 => json_value()];
    prop_oneof![
        1 => bytes(64).prop_map(JwksBody::Bytes),
        1 => json_value().prop_map(JwksBody::Json),
        4 => prop::collection::vec(member, 0..5).prop_map(|keys| JwksBody::Json(json!({"keys": keys}))),
    ]
    .boxed()
}

/// Any JWKS document, any kid asked for: the key the document has for it (the only one
/// when no kid is named), else the documented error; never a panic.
#[test]
fn any_jwks_document_gives_its_key_or_a_documented_error() {
    let rt = runtime();
    let body = Arc::new(Mutex::new(Vec::<u8>::new()));
    let served = body.clone();
    let server = rt.block_on(TestServer::start(move |_| {
        Route::new().at(
            "/jwks",
            get(poem::endpoint::make_sync(move |_| Response::builder().content_type("application/json").body(served.lock().unwrap().clone()))),
        )
    }));
    let uri = Url::parse(&format!("{}/jwks", server.base)).unwrap();
    let client = client();
    let kid = prop_oneof![Just(None), select(vec!["k1", "k2"]).prop_map(|k| Some(k.to_owned())), text().prop_map(Some)];
    check(128, (jwks_body(), kid), |(document, kid)| {
        let raw = match &document {
            JwksBody::Bytes(raw) => raw.clone(),
            JwksBody::Json(doc) => doc.to_string().into_bytes(),
        };
        *body.lock().unwrap() = raw.clone();
        let cache = JwksCache::new(JwksPolicy::default());
        let got = rt.block_on(cache.key(AppId::new(), &uri, kid.as_deref(), &client));
        let Ok(doc) = serde_json::from_slice::<Value>(&raw) else {
            prop_assert!(matches!(got, Err(JwksError::Fetch(FetchError::NotJson(_)))), "not JSON: {got:?}");
            return Ok(());
        };
        let Some(keys) = doc.get("keys").and_then(Value::as_array) else {
            prop_assert!(matches!(got, Err(JwksError::NotAKeySet)), "no keys array: {got:?}");
            return Ok(());
        };
        let usable_keys: Vec<&Value> = keys.iter().filter(|k| usable(k)).collect();
        let expected = match kid.as_deref() {
            Some(kid) => usable_keys.iter().find(|k| k.get("kid").and_then(Value::as_str) == Some(kid)).copied(),
            None if usable_keys.len() == 1 => Some(usable_keys[0]),
            None => None,
        };
        match (got, expected) {
            (Ok(key), Some(jwk)) => prop_assert_eq!(&*key, &VerifyingKey::from_jwk(jwk).unwrap()),
            (Err(JwksError::KidUnknownAfterRefresh), None) => {}
            (got, expected) => prop_assert!(false, "got {got:?}, the document has {expected:?}"),
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Discovery documents.
// ---------------------------------------------------------------------------------------

/// An endpoint member of a discovery document, and whether Causeway may use it.
#[derive(Clone, Debug)]
enum Member {
    Absent,
    /// An absolute http(s) URL of a host, without credentials or fragment.
    Usable(String),
    /// Never a URL Causeway sends a browser to or calls.
    Refused(Value),
    /// Any JSON: only "no panic" is known of it.
    Any(Value),
}

fn member() -> BoxedStrategy<Member> {
    let usable = (
        select(vec!["https://idm.partner.example", "http://127.0.0.1:9", "https://idm.partner.example:8443", "https://[2001:db8::1]"]),
        "(/[a-z0-9._~-]{0,8}){0,3}",
        prop_oneof![Just(String::new()), "\\?[a-z]{1,4}=[a-z0-9]{0,4}"],
    )
        .prop_map(|(origin, path, query)| Member::Usable(format!("{origin}{path}{query}")));
    let refused = select(
        &[
            "javascript:alert(document.cookie)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://idm.partner.example/x",
            "/relative/authorize",
            "",
            "https://user:pw@idm.partner.example/authorize",
            "https://idm.partner.example/authorize#frag",
            "https://idm.partner.example/log\r\nout",
            "https://idm.partner.example/\u{0}",
            "vbscript:msgbox",
            "https:",
        ][..],
    )
    .prop_map(|raw| Member::Refused(json!(raw)));
    prop_oneof![
        2 => Just(Member::Absent),
        6 => usable,
        2 => refused,
        1 => prop_oneof![number(), any::<bool>().prop_map(Value::Bool), Just(Value::Null)].prop_map(Member::Refused),
        1 => json_value().prop_map(Member::Any),
    ]
    .boxed()
}

const ENDPOINT_NAMES: [&str; 5] = ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint"];

#[derive(Clone, Debug)]
enum IssuerMember {
    Exact,
    TrailingSlash,
    Other(Value),
    Absent,
}

#[derive(Clone, Debug)]
enum DiscoveryCase {
    Bytes(Vec<u8>),
    Json(Value),
    Document { issuer: IssuerMember, members: Vec<Member>, iss_flag: Option<Value>, extra: Map<String, Value> },
}

fn discovery_case() -> BoxedStrategy<DiscoveryCase> {
    let issuer = prop_oneof![
        6 => Just(IssuerMember::Exact),
        1 => Just(IssuerMember::TrailingSlash),
        1 => Just(IssuerMember::Absent),
        1 => json_value().prop_map(IssuerMember::Other),
    ];
    let flag = prop_oneof![Just(None), any::<bool>().prop_map(|b| Some(json!(b))), json_value().prop_map(Some)];
    let document = (issuer, prop::collection::vec(member(), 5..=5), flag, json_object())
        .prop_map(|(issuer, members, iss_flag, extra)| DiscoveryCase::Document { issuer, members, iss_flag, extra });
    prop_oneof![1 => bytes(48).prop_map(DiscoveryCase::Bytes), 1 => json_value().prop_map(DiscoveryCase::Json), 6 => document].boxed()
}

/// Any discovery document (OIDC Discovery §3): the connector opens exactly when it names
/// the configured issuer and usable authorization, token and JWKS endpoints; then every
/// URL it would send a browser to is an http(s) URL it was given, and `javascript:`,
/// `data:` or a credential-carrying URL never is. Otherwise the documented error.
#[test]
fn any_discovery_document_opens_a_connector_or_is_refused() {
    let rt = runtime();
    let body = Arc::new(Mutex::new(Vec::<u8>::new()));
    let served = body.clone();
    let server = rt.block_on(TestServer::start(move |_| {
        Route::new().at(
            "/.well-known/openid-configuration",
            get(poem::endpoint::make_sync(move |_| Response::builder().content_type("application/json").body(served.lock().unwrap().clone()))),
        )
    }));
    let issuer = server.base.clone();
    let input = IdmConfigInput {
        issuer: Some(issuer.clone()),
        client_id: Some(CLIENT_ID.into()),
        domain: Some("partner.example".into()),
        logout_url: Some("https://partner.example/bye".into()),
        ..IdmConfigInput::default()
    };
    let config = OidcConfig::parse(&input, UrlPolicy::AllowInsecure).unwrap();
    let client = client();
    check(192, discovery_case(), |case| {
        let (raw, verdict) = match &case {
            DiscoveryCase::Bytes(raw) => (raw.clone(), None),
            DiscoveryCase::Json(doc) => (doc.to_string().into_bytes(), None),
            DiscoveryCase::Document { issuer: member, members, iss_flag, extra } => {
                let mut doc = extra.clone();
                doc.shift_remove("issuer");
                match member {
                    IssuerMember::Exact => doc.insert("issuer".into(), json!(issuer)),
                    IssuerMember::TrailingSlash => doc.insert("issuer".into(), json!(format!("{issuer}/"))),
                    IssuerMember::Other(value) => doc.insert("issuer".into(), value.clone()),
                    IssuerMember::Absent => None,
                };
                for (name, member) in ENDPOINT_NAMES.iter().zip(members) {
                    doc.shift_remove(*name);
                    match member {
                        Member::Absent => None,
                        Member::Usable(url) => doc.insert((*name).into(), json!(url)),
                        Member::Refused(value) | Member::Any(value) => doc.insert((*name).into(), value.clone()),
                    };
                }
                doc.shift_remove("authorization_response_iss_parameter_supported");
                if let Some(flag) = iss_flag {
                    doc.insert("authorization_response_iss_parameter_supported".into(), flag.clone());
                }
                let required_usable = members[..3].iter().all(|m| matches!(m, Member::Usable(_)));
                let required_known = members[..3].iter().all(|m| !matches!(m, Member::Any(_)));
                let issuer_exact = doc.get("issuer").and_then(Value::as_str) == Some(issuer.as_str());
                let verdict = match (issuer_exact, required_known) {
                    (true, true) => Some(required_usable),
                    (false, _) => Some(false),
                    (true, false) => None,
                };
                (Value::Object(doc).to_string().into_bytes(), verdict)
            }
        };
        *body.lock().unwrap() = raw.clone();
        let opened = rt.block_on(OidcConnector::open(&config, SecretString::from("secret"), 1, &client));
        let doc: Option<Value> = serde_json::from_slice(&raw).ok();
        let names_issuer = doc.as_ref().and_then(|d| d.get("issuer")).and_then(Value::as_str) == Some(issuer.as_str());
        match &opened {
            Err(FederationError::Unavailable { .. }) => prop_assert!(doc.is_none() || names_issuer, "a JSON document naming another issuer is an issuer mismatch"),
            Err(FederationError::IssMismatch) => prop_assert!(doc.is_some() && !names_issuer),
            Err(FederationError::NotConfigured) => prop_assert!(names_issuer),
            Err(other) => prop_assert!(false, "open answered {other:?}"),
            Ok(_) => prop_assert!(names_issuer),
        }
        if let Some(expected) = verdict {
            prop_assert_eq!(opened.is_ok(), expected, "{}", String::from_utf8_lossy(&raw));
        }
        let Ok(connector) = opened else { return Ok(()) };
        let doc = doc.unwrap();
        let flag = doc.get("authorization_response_iss_parameter_supported");
        prop_assert_eq!(connector.iss_parameter_supported, flag == Some(&Value::Bool(true)));
        let login = connector.begin_login("https://causeway.example/sso/callback", Default::default()).url_with_state("state-1");
        let published = Url::parse(doc["authorization_endpoint"].as_str().unwrap()).unwrap();
        prop_assert!(matches!(login.scheme(), "http" | "https"));
        prop_assert_eq!((login.origin(), login.path()), (published.origin(), published.path()));
        prop_assert!(login.query_pairs().any(|(k, v)| k == "state" && v == "state-1"));
        prop_assert_eq!(&connector.jwks_uri, &Url::parse(doc["jwks_uri"].as_str().unwrap()).unwrap());
        let sign_out = Url::parse(&connector.sign_out_url(None)).unwrap();
        prop_assert!(matches!(sign_out.scheme(), "http" | "https") && sign_out.username().is_empty() && sign_out.fragment().is_none());
        if let DiscoveryCase::Document { members, .. } = &case {
            match &members[4] {
                Member::Usable(end_session) => prop_assert_eq!(sign_out.path(), Url::parse(end_session).unwrap().path().to_owned()),
                Member::Absent | Member::Refused(_) => prop_assert_eq!(sign_out.as_str(), "https://partner.example/bye"),
                Member::Any(_) => {}
            }
        }
        Ok(())
    });
}

proptest! {
    #![proptest_config(bounded(512))]

    /// Endpoint resolution over any document: the partner's overrides win; a discovered
    /// member is taken only when it passes the partner-URL rules under the client's policy,
    /// and every string member that does not is named as refused.
    #[test]
    fn discovered_endpoints_follow_the_partner_url_rules(
        doc in prop_oneof![json_value(), prop::collection::vec(member(), 5..=5).prop_map(|members| {
            Value::Object(ENDPOINT_NAMES.iter().zip(members).filter_map(|(name, m)| match m {
                Member::Absent => None,
                Member::Usable(url) => Some(((*name).to_owned(), json!(url))),
                Member::Refused(v) | Member::Any(v) => Some(((*name).to_owned(), v)),
            }).collect())
        })],
        strict in any::<bool>(),
        override_token in any::<bool>(),
    ) {
        let policy = if strict { UrlPolicy::Strict } else { UrlPolicy::AllowInsecure };
        let configured = PartnerUrl::parse("https://idm.partner.example/configured-token", UrlPolicy::Strict).unwrap();
        let overrides = EndpointOverrides { token_endpoint: override_token.then(|| configured.clone()), ..EndpointOverrides::default() };
        let endpoints = Endpoints::resolve(&overrides, Some(&doc), policy);
        let resolved = [&endpoints.authorization, &endpoints.token, &endpoints.jwks_uri, &endpoints.userinfo, &endpoints.end_session];
        for (name, got) in ENDPOINT_NAMES.iter().zip(resolved) {
            if *name == "token_endpoint" && override_token {
                prop_assert_eq!(got.as_deref(), Some(configured.as_str()));
                prop_assert!(!endpoints.refused.contains(name));
                continue;
            }
            let published = doc.get(*name).and_then(Value::as_str);
            let acceptable = published.and_then(|raw| PartnerUrl::parse(raw, policy).ok());
            prop_assert_eq!(got.as_deref(), acceptable.as_ref().map(PartnerUrl::as_str), "{}", name);
            prop_assert_eq!(endpoints.refused.contains(name), published.is_some() && acceptable.is_none(), "{}", name);
        }
    }

    /// The discovery URL of any issuer is its path plus `/.well-known/openid-configuration`
    /// (OIDC Discovery §4), on the issuer's own origin.
    #[test]
    fn the_discovery_url_sits_under_the_issuer(segments in prop::collection::vec("[A-Za-z0-9._~-]{1,8}|%[0-9A-F]{2}", 0..4), slash in any::<bool>()) {
        let raw = format!("https://idm.partner.example/{}{}", segments.join("/"), if slash { "/" } else { "" });
        let issuer = PartnerUrl::parse_issuer(&raw, UrlPolicy::Strict).unwrap();
        let url = discovery_url(issuer.url());
        prop_assert_eq!(url.origin(), issuer.url().origin());
        prop_assert_eq!(url.path(), format!("{}/.well-known/openid-configuration", issuer.url().path().trim_end_matches('/')));
        prop_assert!(url.query().is_none() && url.fragment().is_none());
    }
}

// ---------------------------------------------------------------------------------------
// The hosted-login exchange answer.
// ---------------------------------------------------------------------------------------

const USER_ID_FIELD: &str = "wesb_user_id";
const DIRECTORY_FIELDS: [(&str, &str); 4] = [("email", "email"), ("first_name", "given_name"), ("last_name", "family_name"), ("full_name", "name")];

/// A directory record as the exchange's `data`: the user id and status mostly in shape.
fn directory_record() -> BoxedStrategy<Map<String, Value>> {
    let user_id = prop_oneof![
        3 => "[0-9a-z-]{1,12}".prop_map(|id| Some(json!(id))),
        2 => number().prop_map(Some),
        2 => text().prop_map(|t| Some(json!(t))),
        1 => Just(None),
        1 => json_value().prop_map(Some),
    ];
    let status = prop_oneof![4 => Just(Some(json!("active"))), 1 => select(vec!["inactive", "ACTIVE", "active ", ""]).prop_map(|s| Some(json!(s))), 1 => Just(None), 1 => json_value().prop_map(Some)];
    let field = || prop_oneof![Just(None), text().prop_map(|t| Some(json!(t))), json_value().prop_map(Some)];
    (user_id, status, (field(), field(), field(), field()), json_object())
        .prop_map(|(user_id, status, (email, first, last, full), mut record)| {
            let members = [(USER_ID_FIELD, user_id), ("status", status), ("email", email), ("first_name", first), ("last_name", last), ("full_name", full)];
            for (name, value) in members {
                record.shift_remove(name);
                if let Some(value) = value {
                    record.insert(name.into(), value);
                }
            }
            record
        })
        .boxed()
}

fn exchange_answer() -> BoxedStrategy<(u16, Vec<u8>)> {
    let status = select(vec![200u16, 200, 200, 200, 201, 202, 301, 302, 303, 307, 308, 400, 401, 403, 404, 409, 410, 418, 422, 429, 500, 502, 503, 504]);
    let body = prop_oneof![
        1 => bytes(96),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => json_object().prop_map(|mut answer| {
            answer.shift_remove("data");
            Value::Object(answer).to_string().into_bytes()
        }),
        6 => (directory_record(), json_object()).prop_map(|(data, mut answer)| {
            answer.insert("data".into(), Value::Object(data));
            Value::Object(answer).to_string().into_bytes()
        }),
        1 => (65_537usize..70_000).prop_map(|len| {
            let mut big = format!("{{\"data\":{{\"{USER_ID_FIELD}\":\"u-1\",\"status\":\"active\",\"pad\":\"");
            big.push_str(&"x".repeat(len));
            big.push_str("\"}}");
            big.into_bytes()
        }),
    ];
    (status, body).boxed()
}

/// What the exchange's answer must give (seed 000 §9): the identity of an active record
/// with a user id, or the error its status and shape call for.
fn exchange_verdict(status: u16, body: &[u8]) -> Result<Map<String, Value>, FederationError> {
    let unavailable = || FederationError::Unavailable { detail: String::new() };
    if body.len() > 64 * 1024 || (300..400).contains(&status) {
        return Err(unavailable());
    }
    match status {
        200 => {}
        401 => return Err(FederationError::CredentialsRejected),
        400..=499 => return Err(FederationError::CodeRejected),
        _ => return Err(unavailable()),
    }
    let answer: Value = serde_json::from_slice(body).map_err(|_| unavailable())?;
    let Some(Value::Object(data)) = answer.get("data") else { return Err(unavailable()) };
    let subject = match data.get(USER_ID_FIELD) {
        Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_owned(),
        Some(Value::Number(id)) => id.to_string(),
        _ => return Err(FederationError::ClaimMissing(USER_ID_FIELD.into())),
    };
    if data.get("status").and_then(Value::as_str) != Some("active") {
        return Err(FederationError::UserInactive);
    }
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(subject));
    for (field, claim) in DIRECTORY_FIELDS {
        if let Some(Value::String(text)) = data.get(field) {
            claims.insert(claim.into(), json!(text));
        }
    }
    if claims.contains_key("email") {
        claims.insert("email_verified".into(), json!(true));
    }
    Ok(claims)
}

/// Any answer of the exchange endpoint, for any code: an identity keyed by the user id
/// with the record's fields under the standard names, or the documented error (no code,
/// key refused, code refused, inactive user, no user id, IdM unavailable); never a panic.
#[test]
fn any_exchange_answer_gives_an_identity_or_a_documented_error() {
    let rt = runtime();
    let answer = Arc::new(Mutex::new((200u16, Vec::<u8>::new())));
    let served = answer.clone();
    let server = rt.block_on(TestServer::start(move |_| {
        Route::new().at(
            "/exchange",
            post(poem::endpoint::make_sync(move |_| {
                let (status, body) = served.lock().unwrap().clone();
                Response::builder().status(StatusCode::from_u16(status).unwrap()).content_type("application/json").body(body)
            })),
        )
    }));
    let input = IdmConfigInput {
        kind: Some("hosted_login".into()),
        base_url: Some(server.base.clone()),
        exchange_url: Some(format!("{}/exchange", server.base)),
        site_key: Some("site-1".into()),
        user_id_field: Some(USER_ID_FIELD.into()),
        logout_url: Some("https://partner.example/bye".into()),
        ..IdmConfigInput::default()
    };
    let config = HostedLoginConfig::parse(&input, UrlPolicy::AllowInsecure).unwrap();
    let connector = HostedLoginConnector::new(config, SecretString::from("service-key"), 1);
    let (client, cache, private) = (client(), JwksCache::new(JwksPolicy::default()), SecretString::from("{}"));
    let code = prop_oneof![1 => Just(None), 1 => Just(Some(String::new())), 6 => text().prop_filter("a code", |c| !c.is_empty()).prop_map(Some)];
    check(192, (exchange_answer(), code), |((status, body), code)| {
        *answer.lock().unwrap() = (status, body.clone());
        let ctx = Context { client: &client, jwks: &cache, app: AppId::new(), now: NOW, redirect_uri: "https://causeway.example/sso/callback" };
        let completed = rt.block_on(connector.complete_login(ctx, Callback { code: code.as_deref(), iss: None }, &private));
        let expected = if code.as_deref().is_none_or(str::is_empty) { Err(FederationError::CodeMissing) } else { exchange_verdict(status, &body) };
        match (completed, expected) {
            (Ok(done), Ok(claims)) => {
                prop_assert_eq!(Some(&json!(done.identity.subject)), claims.get("sub"));
                prop_assert_eq!(done.identity.issuer, server.base.clone());
                prop_assert_eq!(done.identity.primary, claims);
                prop_assert!(done.identity.userinfo.is_none() && done.logout_hint.is_none());
            }
            (Err(FederationError::Unavailable { .. }), Err(FederationError::Unavailable { .. })) => {}
            (Err(got), Err(expected)) => prop_assert_eq!(got, expected),
            (got, expected) => prop_assert!(false, "HTTP {status}: got {:?}, expected {expected:?}", got.map(|c| c.identity)),
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Claims to a person (domain::identity).
// ---------------------------------------------------------------------------------------

fn policies() -> Vec<IdentityPolicy> {
    let standard = IdentityPolicy::standard(ACCOUNT_CLAIM.into());
    vec![
        standard.clone(),
        IdentityPolicy { required: vec![], ..standard.clone() },
        IdentityPolicy { email_trust: EmailTrust::TrustedIdm, ..standard.clone() },
        IdentityPolicy { required: vec![StandardClaim::PhoneNumber], ..standard.clone() },
        IdentityPolicy { required: StandardClaim::ALL.to_vec(), ..standard.clone() },
        IdentityPolicy {
            names: ClaimNames { email: "mail".into(), given_name: "first".into(), family_name: "last".into(), phone_number: "tel".into(), account: "acct".into() },
            ..standard
        },
    ]
}

/// Claims as an IdM sends them: the names policies read, with values that are mostly of
/// the right shape (verified or not, hidden characters included), among any others.
fn claim_set() -> BoxedStrategy<Map<String, Value>> {
    const NAMES: &[&str] = &[
        "email", "email_verified", "given_name", "family_name", "name", "phone_number", "phone_number_verified", ACCOUNT_CLAIM, "mail", "first",
        "last", "tel", "acct",
    ];
    let value = prop_oneof![
        2 => select(vec!["Ada@Shop.example", " ada@shop.example ", "+47 999 99 999", "+4799999999", "+0123", "Ada", "Lovelace", "acc-1", "ada\u{0}@shop.example", "A\u{202e}da", ""]).prop_map(Value::from),
        2 => any::<bool>().prop_map(Value::Bool),
        2 => text().prop_map(Value::String),
        1 => json_value(),
    ];
    (prop::collection::vec((select(NAMES).prop_map(str::to_owned), value), 0..10), json_object())
        .prop_map(|(members, mut claims)| {
            claims.extend(members);
            claims
        })
        .boxed()
}

fn federated_identity() -> BoxedStrategy<FederatedIdentity> {
    let subject = prop_oneof![3 => Just("u-1".to_owned()), 2 => text()];
    (subject, claim_set(), prop::option::of(claim_set()))
        .prop_map(|(subject, primary, userinfo)| FederatedIdentity { issuer: ISSUER.into(), subject, primary, userinfo })
        .boxed()
}

proptest! {
    #![proptest_config(bounded(512))]

    /// Any claims under any policy: a person, or a missing claim the policy names, or an
    /// unverified e-mail or phone number. A person keeps what the policy promised: required
    /// claims present, an e-mail counted as verified only by its own source's flag (unless
    /// the IdM is trusted), a verified phone in E.164, no hidden characters in what is
    /// stored and shown, no NUL in the account claim.
    #[test]
    fn any_claims_make_a_person_the_policy_allows(identity in federated_identity(), which in 0usize..6) {
        let policies = policies();
        let policy = &policies[which];
        let _ = policy.needs_more_than(&identity.primary);
        let names = &policy.names;
        match policy.person(&identity) {
            Ok(person) => {
                prop_assert_eq!((&person.issuer, &person.subject), (&identity.issuer, &identity.subject));
                prop_assert!(!person.email_verified || person.email.is_some());
                if person.email_verified && policy.email_trust == EmailTrust::Required {
                    let source = if identity.primary.contains_key(&names.email) { Some(&identity.primary) } else { identity.userinfo.as_ref() };
                    prop_assert_eq!(source.and_then(|s| s.get("email_verified")), Some(&Value::Bool(true)));
                }
                if let Some(email) = &person.email {
                    prop_assert_eq!(person.verified_email_key(), person.email_verified.then(|| email.trim().to_ascii_lowercase()));
                }
                if person.phone_verified {
                    let phone = person.phone.as_deref().unwrap_or_default();
                    prop_assert_eq!(PhoneNumber::parse(phone).map(|p| p.as_str().to_owned()).ok(), Some(phone.to_owned()));
                }
                for claim in &policy.required {
                    let kept = match claim {
                        StandardClaim::Email => person.email_verified,
                        StandardClaim::PhoneNumber => person.phone_verified,
                        StandardClaim::GivenName => !person.given_name.is_empty(),
                        StandardClaim::FamilyName => !person.family_name.is_empty(),
                    };
                    prop_assert!(kept, "{claim:?} required but not kept: {person:?}");
                }
                for shown in [Some(&person.given_name), Some(&person.family_name), person.email.as_ref(), person.phone.as_ref()].into_iter().flatten() {
                    prop_assert!(!shown.chars().any(is_hidden), "hidden characters kept: {shown:?}");
                }
                prop_assert!(!person.account_claim.as_deref().unwrap_or_default().contains('\0'));
            }
            Err(SsoError::ClaimMissing(name)) => {
                let known = [&names.email, &names.given_name, &names.family_name, &names.phone_number];
                prop_assert!(name == "sub" || known.contains(&&name), "missing {name:?}, which the policy does not read");
            }
            Err(SsoError::EmailUnverified | SsoError::PhoneUnverified) => {}
            Err(other) => prop_assert!(false, "person answered {other:?}"),
        }
    }
}

/// Found by the property above: a required phone number that is flagged verified but is
/// not E.164 (here `"¡"`) was let through, and the person then had no verified phone.
#[test]
fn a_required_phone_number_must_be_a_verified_e164_number() {
    let policy = IdentityPolicy { required: vec![StandardClaim::PhoneNumber], ..IdentityPolicy::standard(ACCOUNT_CLAIM.into()) };
    let identity = |phone: &str| FederatedIdentity {
        issuer: ISSUER.into(),
        subject: "u-1".into(),
        primary: json!({"phone_number": phone, "phone_number_verified": true}).as_object().unwrap().clone(),
        userinfo: None,
    };
    for not_e164 in ["\u{a1}", "12345", "+0123456789", "+47 abc"] {
        assert_eq!(policy.person(&identity(not_e164)).unwrap_err(), SsoError::PhoneUnverified, "{not_e164:?}");
    }
    assert_eq!(policy.person(&identity("+47 999 99 999")).unwrap().verified_phone(), Some("+4799999999"));
}

// ---------------------------------------------------------------------------------------
// Sealed values (crypto::sealed).
// ---------------------------------------------------------------------------------------

fn keyring() -> Keyring {
    Keyring::new(MasterKey::generate().0, vec![], KeySource::Environment)
}

proptest! {
    #![proptest_config(bounded(256))]

    /// seal → open gives back any secret, in its own context only; another ring does not
    /// know the key.
    #[test]
    fn sealed_values_open_to_what_was_sealed(secret in text(), context in text(), other_context in text()) {
        let ring = keyring();
        let sealed = sealed::seal(&ring, &context, &SecretString::from(secret.clone()));
        prop_assert_eq!(sealed::key_id(&sealed), Some(ring.current().id.as_str()));
        prop_assert_eq!(sealed::open(&ring, &context, &sealed).unwrap().expose_secret().to_owned(), secret);
        if other_context != context {
            prop_assert!(matches!(sealed::open(&ring, &other_context, &sealed), Err(SealError::Tampered)));
        }
        prop_assert!(matches!(sealed::open(&keyring(), &context, &sealed), Err(SealError::UnknownKey(_))));
    }

    /// Any text where a sealed value is expected is refused as malformed, of an unknown
    /// key, or tampered; it never opens and never panics.
    #[test]
    fn any_text_is_refused_as_a_sealed_value(raw in prop_oneof![
        text(),
        (text(), text()).prop_map(|(id, body)| format!("v1.{id}.{body}")),
        bytes(64).prop_map(|b| format!("v1.ID.{}", base64::engine::general_purpose::STANDARD.encode(b))),
    ]) {
        let ring = keyring();
        let raw = raw.replace("ID", &ring.current().id);
        prop_assert!(matches!(sealed::open(&ring, "ctx", &raw), Err(SealError::Malformed | SealError::UnknownKey(_) | SealError::Tampered)));
    }

    /// Changing any one character of a sealed value makes it fail to open.
    #[test]
    fn tampering_with_any_character_of_a_sealed_value_fails(secret in text(), at in any::<Index>(), with in replacement()) {
        let ring = keyring();
        let sealed = sealed::seal(&ring, "ctx", &SecretString::from(secret));
        let at = at.index(sealed.len());
        prop_assume!(sealed.as_bytes()[at] != with as u8 || !with.is_ascii());
        let tampered = replace_char(&sealed, at, with);
        prop_assert!(sealed::open(&ring, "ctx", &tampered).is_err(), "{tampered} opened");
    }
}

// ---------------------------------------------------------------------------------------
// Cookies and CSRF tokens (web::session, web::csrf).
// ---------------------------------------------------------------------------------------

const SESSION_COOKIE: &str = "__Host-causeway_mc";

fn issued_like(value: &str) -> bool {
    !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn cookie_pairs() -> BoxedStrategy<Vec<(String, String)>> {
    let name = prop_oneof![
        2 => Just(SESSION_COOKIE.to_owned()),
        1 => Just(csrf::PRE_SESSION_COOKIE.to_owned()),
        1 => Just(SESSION_COOKIE.to_lowercase()),
        2 => "[A-Za-z0-9_!#$%&'*+^`|~-]{1,20}",
    ];
    let value = prop_oneof![
        3 => "[A-Za-z0-9_-]{1,128}",
        1 => "[A-Za-z0-9_-]{129,160}",
        1 => Just(String::new()),
        2 => "[!#-+\\--:<-\\[\\]-~]{1,24}",
        1 => Just(new_session_id()),
    ];
    prop::collection::vec((name, value), 0..6).boxed()
}

proptest! {
    #![proptest_config(bounded(512))]

    /// Any bytes in any number of Cookie headers: no panic; a value comes back only if it
    /// looks like one Causeway issued (base64url, at most 128 characters).
    #[test]
    fn read_cookie_takes_any_header(headers in prop::collection::vec(bytes(80), 0..3), name in prop_oneof![Just(SESSION_COOKIE.to_owned()), text()]) {
        let mut req = Request::builder().finish();
        for raw in &headers {
            if let Ok(value) = HeaderValue::from_bytes(raw) {
                req.headers_mut().append("cookie", value);
            }
        }
        if let Some(value) = read_cookie(&req, &name) {
            prop_assert!(issued_like(value), "{value:?}");
            let needle = format!("{name}={value}");
            prop_assert!(headers.iter().any(|h| String::from_utf8_lossy(h).contains(&needle)));
        }
    }

    /// Among any other cookies, in one header or several: the value of the first cookie of
    /// that name when it looks issued, else nothing (a shadowing cookie is not looked past).
    #[test]
    fn read_cookie_finds_the_first_cookie_of_its_name(pairs in cookie_pairs(), separator in select(vec![";", "; ", " ;  "]), split in any::<bool>()) {
        let mut req = Request::builder().finish();
        let texts: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        if split {
            for text in &texts {
                req.headers_mut().append("cookie", HeaderValue::from_str(text).unwrap());
            }
        } else if !texts.is_empty() {
            req.headers_mut().append("cookie", HeaderValue::from_str(&texts.join(separator)).unwrap());
        }
        for name in [SESSION_COOKIE, csrf::PRE_SESSION_COOKIE] {
            let first = pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            prop_assert_eq!(read_cookie(&req, name), first.filter(|v| issued_like(v)));
        }
    }

    /// A Set-Cookie written for a fresh session id or CSRF token comes back, as the browser
    /// returns it, among other cookies; a cleared cookie reads as none.
    #[test]
    fn issued_cookies_round_trip(before in cookie_pairs(), after in cookie_pairs(), strict in any::<bool>()) {
        let same_site = if strict { SameSite::Strict } else { SameSite::Lax };
        for (name, value) in [(SESSION_COOKIE, new_session_id()), (csrf::PRE_SESSION_COOKIE, csrf::new_token())] {
            let others = |pairs: &[(String, String)]| pairs.iter().filter(|(n, _)| n != name).map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>();
            let set = set_cookie(name, &value, same_site);
            prop_assert!(set.contains("Secure") && set.contains("HttpOnly") && set.contains("Path=/"));
            let sent = set.split(';').next().unwrap().to_owned();
            let header = [others(&before), vec![sent], others(&after)].concat().join("; ");
            let req = Request::builder().header("cookie", header.as_str()).finish();
            prop_assert_eq!(read_cookie(&req, name), Some(value.as_str()));
            let cleared = clear_cookie(name, same_site).split(';').next().unwrap().to_owned();
            let req = Request::builder().header("cookie", cleared.as_str()).finish();
            prop_assert_eq!(read_cookie(&req, name), None);
        }
    }

    /// A CSRF token matches exactly itself: not a prefix, not one changed character, and an
    /// empty expected token matches nothing.
    #[test]
    fn csrf_tokens_match_exactly(expected in prop_oneof![Just(csrf::new_token()), text()], presented in text(), at in any::<Index>(), with in replacement()) {
        prop_assert_eq!(csrf::matches(&expected, &presented), !expected.is_empty() && expected == presented);
        prop_assert_eq!(csrf::matches(&expected, &expected), !expected.is_empty());
        if !expected.is_empty() {
            let (i, c) = expected.char_indices().nth(at.index(expected.chars().count())).unwrap();
            prop_assume!(c != with);
            prop_assert!(!csrf::matches(&expected, &replace_char(&expected, i, with)));
            prop_assert!(!csrf::matches(&expected, &expected[..i]));
        }
    }
}

// ---------------------------------------------------------------------------------------
// The Merchant Center's forms (poem's Form extractor, then domain::kyc and domain::payout).
// ---------------------------------------------------------------------------------------

async fn read_form<T: serde::de::DeserializeOwned>(body: Vec<u8>) -> poem::Result<T> {
    let (req, mut body) = Request::builder().method(Method::POST).content_type("application/x-www-form-urlencoded").body(body).split();
    Form::<T>::from_request(&req, &mut body).await.map(|Form(value)| value)
}

fn encode(pairs: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
}

const KYC_FIELDS: [&str; 9] = ["legal_name", "address_line1", "address_line2", "city", "region", "postal_code", "business_type", "tax_id", "representative_dob"];
const PAYOUT_FIELDS: [&str; 4] = ["account_holder", "routing_number", "account_number", "account_number_confirmation"];

fn kyc_pairs(input: &KycInput) -> [(&'static str, &str); 9] {
    [
        ("legal_name", &input.legal_name),
        ("address_line1", &input.address_line1),
        ("address_line2", &input.address_line2),
        ("city", &input.city),
        ("region", &input.region),
        ("postal_code", &input.postal_code),
        ("business_type", &input.business_type),
        ("tax_id", &input.tax_id),
        ("representative_dob", &input.representative_dob),
    ]
}

/// Each KYC field either right for `US` (`Ok`) or anything (`Err`), so that the fields the
/// answer may name are known.
fn kyc_fields() -> BoxedStrategy<Vec<Result<String, String>>> {
    const GOOD: [&[&str]; 9] = [
        &["Corner Shop LLC", "  Ålesund Fisk AS  "],
        &["1 Market St", "Rue de l'Église 5"],
        &["", "Suite 5"],
        &["San Francisco", "Zürich"],
        &["CA", "NY"],
        &["94105", "94105-1234"],
        &["llc", " corporation ", "nonprofit"],
        &["12-3456789", "123456789", "12 345 6789"],
        &["1980-02-29", "1990-12-31", "2008-11-23"],
    ];
    GOOD.iter()
        .map(|good| prop_oneof![2 => select(*good).prop_map(|g| Ok(g.to_owned())), 1 => text().prop_map(Err)].boxed())
        .collect::<Vec<_>>()
        .boxed()
}

fn kyc_input(fields: &[Result<String, String>]) -> KycInput {
    let v = |i: usize| fields[i].clone().unwrap_or_else(|bad| bad);
    KycInput {
        legal_name: v(0),
        address_line1: v(1),
        address_line2: v(2),
        city: v(3),
        region: v(4),
        postal_code: v(5),
        business_type: v(6),
        tax_id: v(7),
        representative_dob: v(8),
    }
}

fn named_fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.target.join(".")).map(|t| KYC_FIELDS.iter().chain(&PAYOUT_FIELDS).find(|f| **f == t).copied().unwrap_or("?")).collect()
}

/// ABA routing numbers (nine digits, weights 3, 7, 1, sum a multiple of ten).
fn routing_ok(raw: &str) -> bool {
    let digits: Vec<u32> = raw.chars().filter(|c| !matches!(c, ' ' | '-')).map(|c| c.to_digit(10).filter(|_| c.is_ascii_digit()).unwrap_or(99)).collect();
    digits.len() == 9 && digits.iter().all(|d| *d < 10) && digits.iter().zip([3, 7, 1].iter().cycle()).map(|(d, w)| d * w).sum::<u32>() % 10 == 0
}

proptest! {
    #![proptest_config(bounded(256))]

    /// Any bytes posted as the KYC or payout form: read or refused by the extractor, then
    /// validated or refused field by field with only the form's own field names.
    #[test]
    fn any_form_body_is_read_and_validated_calmly(body in prop_oneof![
        bytes(160),
        prop::collection::vec((prop_oneof![select(KYC_FIELDS.to_vec()), select(PAYOUT_FIELDS.to_vec())].prop_map(str::to_owned), text()), 0..12)
            .prop_map(|pairs| url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()),
    ], country in select(vec!["US", "DE", "GB", "", "us"]), on_file in any::<bool>()) {
        let rt = runtime();
        if let Ok(input) = rt.block_on(read_form::<KycInput>(body.clone())) {
            let today = time::macros::date!(2026 - 11 - 23);
            if let Err(errors) = KycDetails::parse(&input, country, today, on_file) {
                prop_assert!(!errors.is_empty());
                prop_assert!(named_fields(&errors).iter().all(|f| KYC_FIELDS.contains(f)), "{errors:?}");
            }
        }
        if let Ok(input) = rt.block_on(read_form::<PayoutInput>(body))
            && let Err(errors) = BankAccount::parse(&input)
        {
            prop_assert!(!errors.is_empty());
            prop_assert!(named_fields(&errors).iter().all(|f| PAYOUT_FIELDS.contains(f)), "{errors:?}");
        }
    }

    /// Form fields of any text survive the browser's encoding and the extractor unchanged;
    /// then a field given right is never the one refused, and a form all right is accepted,
    /// trimmed, with the tax id and postal code normalised.
    #[test]
    fn kyc_forms_round_trip_and_refuse_only_wrong_fields(fields in kyc_fields(), on_file in any::<bool>()) {
        let sent = kyc_input(&fields);
        let read: KycInput = runtime().block_on(read_form(encode(&kyc_pairs(&sent)))).unwrap();
        prop_assert_eq!(kyc_pairs(&read), kyc_pairs(&sent));
        let today = time::macros::date!(2026 - 11 - 23);
        match KycDetails::parse(&read, "US", today, on_file) {
            Ok(details) => {
                prop_assert_eq!(details.legal_name.as_str(), read.legal_name.trim());
                prop_assert_eq!(details.postal_code.clone(), read.postal_code.trim().to_ascii_uppercase());
                if let Some(tax_id) = &details.tax_id {
                    prop_assert!(tax_id.expose().len() == 9 && tax_id.expose().bytes().all(|b| b.is_ascii_digit()));
                }
                prop_assert!(details.representative_dob <= today);
            }
            Err(errors) => {
                let named = named_fields(&errors);
                prop_assert!(!named.is_empty());
                for (field, value) in KYC_FIELDS.iter().zip(&fields) {
                    prop_assert!(value.is_err() || !named.contains(field), "{field} was right but refused: {errors:?}");
                }
            }
        }
    }

    /// Payout form fields round-trip the same way; the routing number is refused exactly
    /// when it fails the ABA check, and the confirmation exactly when its digits differ.
    #[test]
    fn payout_forms_round_trip_and_check_the_routing_number(
        holder in prop_oneof![select(vec!["Corner Shop LLC", "Ada Lovelace"]).prop_map(str::to_owned), text()],
        routing in prop_oneof!["[0-9]{9}", "[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{3}", Just("011000015".to_owned()), text()],
        account in prop_oneof!["[0-9]{4,17}", "[0-9]{4}-[0-9]{4} [0-9]{2}", text()],
        confirmation in prop_oneof![Just(None), text().prop_map(Some)],
    ) {
        let confirmation = confirmation.unwrap_or_else(|| account.clone());
        let pairs = [
            ("account_holder", holder.as_str()),
            ("routing_number", routing.as_str()),
            ("account_number", account.as_str()),
            ("account_number_confirmation", confirmation.as_str()),
        ];
        let read: PayoutInput = runtime().block_on(read_form(encode(&pairs))).unwrap();
        prop_assert_eq!(
            [read.account_holder.as_str(), read.routing_number.as_str(), read.account_number.as_str(), read.account_number_confirmation.as_str()],
            [holder.as_str(), routing.as_str(), account.as_str(), confirmation.as_str()]
        );
        let named: Vec<String> = match BankAccount::parse(&read) {
            Ok(bank) => {
                prop_assert_eq!(bank.routing_last4().len(), 4);
                prop_assert_eq!(bank.account_last4().len(), 4);
                vec![]
            }
            Err(errors) => errors.iter().map(|e| e.target.join(".")).collect(),
        };
        prop_assert_eq!(named.contains(&"routing_number".to_owned()), !routing_ok(&routing), "{}", routing);
        let digits = |raw: &str| raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect::<String>();
        let account_ok = digits(&account).bytes().all(|b| b.is_ascii_digit()) && (4..=17).contains(&digits(&account).len());
        prop_assert_eq!(named.contains(&"account_number".to_owned()), !account_ok);
        if account_ok {
            prop_assert_eq!(named.contains(&"account_number_confirmation".to_owned()), digits(&confirmation) != digits(&account));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Values partners and forms send (domain::values, domain::urls), and IdM configurations.
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(bounded(512))]

    /// Each value parser takes any text: what it accepts has the promised shape and parses
    /// again to itself.
    #[test]
    fn value_parsers_accept_only_their_shape(raw in prop_oneof![
        text(),
        "\\+[ 0-9().-]{0,20}",
        "[a-z0-9.+]{1,12}@[a-z0-9-]{1,10}(\\.[a-z]{2,4}){0,2}",
        "https?://[a-z0-9.:\\[\\]@-]{1,24}(/[ -~]{0,12})?",
        "[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-f:]{2,20}",
    ]) {
        if let Ok(phone) = PhoneNumber::parse(&raw) {
            let digits = phone.as_str().strip_prefix('+').unwrap_or_default();
            prop_assert!((7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'), "{}", phone.as_str());
            prop_assert_eq!(PhoneNumber::parse(phone.as_str()).unwrap(), phone);
        }
        if let Ok(email) = EmailAddress::parse(&raw) {
            prop_assert!(email.as_str().len() <= 254 && email.as_str() == email.as_str().trim());
            prop_assert!(email.as_str().rsplit_once('@').is_some_and(|(_, domain)| domain.contains('.')));
        }
        if let Ok(country) = CountryCode::parse(&raw) {
            prop_assert!(country.as_str().len() == 2 && country.as_str().bytes().all(|b| b.is_ascii_uppercase()));
        }
        if let Ok(ip) = IpAddress::parse(&raw) {
            prop_assert_eq!(IpAddress::parse(&ip.to_text()).unwrap(), ip);
        }
        if let Ok(domain) = ClaimDomain::parse(&raw) {
            prop_assert!(domain.as_str().len() <= 253 && domain.as_str().contains('.') && domain.as_str() == domain.as_str().to_ascii_lowercase());
            prop_assert_eq!(ClaimDomain::parse(domain.as_str()).unwrap(), domain);
        }
        for multiline in [false, true] {
            let parsed = if multiline { BoundedText::parse_multiline(&raw, 1, 12) } else { BoundedText::parse(&raw, 1, 12) };
            if let Ok(text) = parsed {
                let t = text.as_str();
                prop_assert!((1..=12).contains(&t.chars().count()) && t == t.trim());
                prop_assert!(t.chars().all(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'))), "{t:?}");
            }
        }
        for policy in [UrlPolicy::Strict, UrlPolicy::AllowInsecure] {
            if let Ok(url) = PartnerUrl::parse(&raw, policy) {
                let parsed = url.url();
                prop_assert!(parsed.scheme() == "https" || (policy == UrlPolicy::AllowInsecure && parsed.scheme() == "http"));
                prop_assert!(parsed.host().is_some() && parsed.username().is_empty() && parsed.password().is_none() && parsed.fragment().is_none());
                prop_assert!(!url.as_str().chars().any(char::is_control) && url.as_str().chars().count() <= 2048);
                if policy == UrlPolicy::Strict {
                    let literal = match parsed.host() {
                        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                        _ => None,
                    };
                    prop_assert!(literal.is_none_or(is_public), "{}", url.as_str());
                }
                prop_assert_eq!(PartnerUrl::parse(url.as_str(), policy).unwrap(), url);
            }
        }
    }

    /// Acceptance times: any i64 from outside, against any plausible clock, is a time in
    /// the past (within the skew leeway) or refused; never an overflow.
    #[test]
    fn acceptance_times_take_any_number(raw in prop_oneof![any::<i64>(), (NOW - 120)..(NOW + 120)], now in (0i64..4_102_444_800)) {
        match AcceptanceTime::parse(raw, now) {
            Ok(time) => prop_assert!(time.seconds() > 0 && time.seconds() <= now + 60),
            Err(invalid) => prop_assert!(raw <= 0 || raw > now + 60, "{invalid:?}"),
        }
    }
}

fn some_of(good: &'static [&'static str]) -> BoxedStrategy<Option<String>> {
    prop_oneof![2 => Just(None), 5 => select(good).prop_map(|g| Some(g.to_owned())), 1 => text().prop_map(Some)].boxed()
}

/// An IdM configuration as a partner sends it: each field absent, right, or anything.
fn idm_config_input() -> BoxedStrategy<IdmConfigInput> {
    let oidc = (
        some_of(&["https://idm.partner.example", "https://idm.partner.example/realms/acme/", " https://idm.partner.example/t "]),
        some_of(&["causeway", " c-1 "]),
        some_of(&["client_secret_basic", "client_secret_post"]),
        some_of(&["https://idm.partner.example/authorize", ""]),
        some_of(&["https://idm.partner.example/token", "http://127.0.0.1:9/token"]),
        some_of(&["https://idm.partner.example/jwks"]),
        some_of(&["https://idm.partner.example/userinfo"]),
        some_of(&["https://idm.partner.example/logout"]),
        some_of(&["partner.example", "Shop.Example"]),
    );
    let scopes = prop_oneof![
        Just(None),
        prop::collection::vec(select(vec!["openid", "email", "profile", "openid", "phone"]).prop_map(str::to_owned), 0..5).prop_map(Some),
        prop::collection::vec(text(), 0..3).prop_map(Some),
    ];
    let claims = prop_oneof![
        2 => Just(None),
        1 => (some_of(&["mail"]), some_of(&["first"]), some_of(&["last"]), some_of(&["tel"]), some_of(&["acct", "https://x.example/acc"]))
            .prop_map(|(email, given_name, family_name, phone_number, account)| Some(ClaimNamesInput { email, given_name, family_name, phone_number, account })),
    ];
    let required = prop_oneof![
        Just(None),
        prop::collection::vec(prop_oneof![select(vec!["email", "given_name", "family_name", "phone_number"]).prop_map(str::to_owned), text()], 0..4).prop_map(Some),
    ];
    let leeway = prop_oneof![Just(None), (0i64..=300).prop_map(Some), any::<i64>().prop_map(Some)];
    let rest = (
        scopes,
        leeway,
        some_of(&["when_needed", "always", "never"]),
        claims,
        required,
        some_of(&["required", "trusted_idm"]),
    );
    let hosted = (
        some_of(&["https://id.partner.example/", "https://id.partner.example", "http://127.0.0.1:8/"]),
        some_of(&["https://id.partner.example/connect/login", "  "]),
        some_of(&["https://id.partner.example/api/service/exchange"]),
        some_of(&["site-1", "atp"]),
        some_of(&["wesb_user_id", " id "]),
        some_of(&["https://partner.example/bye"]),
    );
    let kind = prop_oneof![Just(None), select(vec!["oidc", "hosted_login"]).prop_map(|k| Some(k.to_owned())), text().prop_map(Some)];
    (kind, any::<bool>(), oidc, rest, hosted)
        .prop_map(|(kind, hosted_only, o, r, h)| {
            let mut input = IdmConfigInput { kind, logout_url: h.5, ..IdmConfigInput::default() };
            let hosted_kind = input.kind.as_deref() == Some("hosted_login");
            // Mostly the fields of one kind, so that valid configurations come up often.
            if !hosted_kind || !hosted_only {
                (input.issuer, input.client_id, input.token_endpoint_auth_method) = (o.0, o.1, o.2);
                (input.authorization_endpoint, input.token_endpoint, input.jwks_uri, input.userinfo_endpoint, input.end_session_endpoint) = (o.3, o.4, o.5, o.6, o.7);
                input.domain = o.8;
                (input.scopes, input.clock_leeway_seconds, input.userinfo, input.claims, input.required_claims, input.email_verified) = r;
            }
            if hosted_kind || !hosted_only {
                (input.base_url, input.login_url, input.exchange_url, input.site_key, input.user_id_field) = (h.0, h.1, h.2, h.3, h.4);
            }
            input
        })
        .boxed()
}

const CONFIG_FIELDS: &[&str] = &[
    "kind", "issuer", "client_id", "token_endpoint_auth_method", "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
    "end_session_endpoint", "domain", "scopes", "clock_leeway_seconds", "userinfo", "claims", "required_claims", "email_verified", "base_url",
    "login_url", "exchange_url", "site_key", "user_id_field", "logout_url",
];

proptest! {
    #![proptest_config(bounded(512))]

    /// Any IdM configuration: refused with errors that name its own fields, or accepted;
    /// then what is stored (`to_input`) parses back to the same configuration, and every
    /// URL Causeway calls itself passes the partner-URL rules of the policy.
    #[test]
    fn idm_configurations_round_trip_or_name_their_fields(input in idm_config_input(), strict in any::<bool>()) {
        let policy = if strict { UrlPolicy::Strict } else { UrlPolicy::AllowInsecure };
        match ConnectorConfig::parse(&input, policy) {
            Ok(config) => {
                let stored = config.to_input();
                prop_assert_eq!(ConnectorConfig::parse(&stored, policy), Ok(config.clone()), "stored as {:?}", stored);
                prop_assert_eq!(config.kind().as_str(), input.kind.as_deref().unwrap_or("oidc"));
                for (_, url) in config.server_side_urls() {
                    prop_assert!(PartnerUrl::parse(url.as_str(), policy).is_ok());
                }
                let json = serde_json::to_value(&stored).unwrap();
                prop_assert_eq!(serde_json::from_value::<IdmConfigInput>(json).unwrap(), stored);
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for error in &errors {
                    prop_assert!(error.target.first().is_some_and(|f| CONFIG_FIELDS.contains(&f.as_str())), "{error:?}");
                }
            }
        }
    }

    /// A stored or posted configuration document of any JSON shape deserializes or is
    /// refused; never a panic.
    #[test]
    fn any_json_is_read_as_an_idm_configuration_calmly(doc in prop_oneof![json_value(), json_object().prop_map(Value::Object)]) {
        if let Ok(input) = serde_json::from_value::<IdmConfigInput>(doc) {
            let _ = ConnectorConfig::parse(&input, UrlPolicy::Strict);
        }
    }
}
