//! ID-token signature verification on one core: parse the compact JWS, verify with the
//! IdM's key (ring), decode the payload, check every protocol claim rule and apply the
//! partner's identity policy. The bar: at least 10,000 verifications per second for ES256
//! and for RS256.

use std::time::Instant;

use causeway::domain::identity::{FederatedIdentity, IdentityPolicy};
use causeway::federation::oidc::claims::{self, ClaimRules};
use causeway::federation::oidc::jws::{Jws, VerifyingKey};
use causeway::federation::oidc::signer::Signer;
use serde_json::{Value, json};

const CLAIM: &str = "https://partner.example/wepay_account_id";

fn measure(label: &str, token: &str, key: &VerifyingKey, with_claims: bool) {
    let iterations: u32 = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let rules = ClaimRules { issuer: "https://idm.partner.example", client_id: "causeway", nonce: "n", now: 1_800_000_000, leeway_seconds: 60 };
    let policy = IdentityPolicy::standard(CLAIM.into());
    let started = Instant::now();
    for _ in 0..iterations {
        let jws = Jws::parse(std::hint::black_box(token)).expect("parses");
        let payload = jws.verify(key).expect("verifies");
        if with_claims {
            let value: Value = serde_json::from_slice(payload).expect("json");
            let verified = claims::check(value, &rules).expect("claims hold");
            let identity = FederatedIdentity { issuer: verified.issuer, subject: verified.subject, primary: verified.claims, userinfo: None };
            policy.person(&identity).expect("the policy holds");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("{label:<32} {:>8.0} verifications/s  ({:.1} µs each, one core)", f64::from(iterations) / elapsed, elapsed * 1e6 / f64::from(iterations));
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let payload = json!({"iss": "https://idm.partner.example", "aud": "causeway", "sub": "u-1", "exp": 1_800_000_300, "iat": 1_800_000_000,
        "nonce": "n", "email": "a@shop.example", "email_verified": true, "given_name": "A", "family_name": "B",
        CLAIM: "0b8a2f5e-1c7d-4e0a-9c61-2d5b7e8f9a10"});
    let es = Signer::es256("k").expect("key");
    let es_key = VerifyingKey::from_jwk(&es.jwk).expect("jwk");
    measure("ES256 (ring) + all claim rules", &es.sign(&payload, None), &es_key, true);
    let ed = Signer::ed25519("k").expect("key");
    measure("EdDSA (ring) + all claim rules", &ed.sign(&payload, None), &VerifyingKey::from_jwk(&ed.jwk).expect("jwk"), true);
    // RSA tokens signed by openssl (ring cannot generate RSA keys); 2048-bit key.
    let fixture: Value = serde_json::from_str(include_str!("../src/federation/oidc/rsa_fixture.json")).expect("fixture");
    let rsa = VerifyingKey::from_jwk(&fixture["jwk"]).expect("jwk");
    measure("RS256 (ring), signature only", fixture["RS256"].as_str().expect("token"), &rsa, false);
    measure("PS256 (ring), signature only", fixture["PS256"].as_str().expect("token"), &rsa, false);
}
