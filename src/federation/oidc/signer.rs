//! Signing compact JWS with keys generated at start: what an IdM does. Causeway needs it
//! for the built-in demo IdM and for the hostile fake IdMs of its tests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

enum Pair {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

pub struct Signer {
    /// The public half, as published in a JWKS.
    pub jwk: Value,
    pair: Pair,
}

#[derive(Debug, thiserror::Error)]
#[error("key generation failed")]
pub struct KeyGenerationFailed;

impl Signer {
    pub fn es256(kid: &str) -> Result<Self, KeyGenerationFailed> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| KeyGenerationFailed)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).map_err(|_| KeyGenerationFailed)?;
        // Uncompressed point: 0x04 ‖ x ‖ y.
        let public = pair.public_key().as_ref();
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]), "y": URL_SAFE_NO_PAD.encode(&public[33..65])});
        Ok(Self { jwk, pair: Pair::Es256(pair) })
    }

    pub fn ed25519(kid: &str) -> Result<Self, KeyGenerationFailed> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyGenerationFailed)?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| KeyGenerationFailed)?;
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "alg": "EdDSA", "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())});
        Ok(Self { jwk, pair: Pair::EdDsa(pair) })
    }

    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Es256(_) => "ES256",
            Pair::EdDsa(_) => "EdDSA",
        }
    }

    /// A compact JWS over `payload`. `alg` overrides the header's algorithm (a hostile
    /// IdM claiming `none` or `HS256` while signing with this key).
    pub fn sign(&self, payload: &Value, alg: Option<&str>) -> String {
        let header = json!({"alg": alg.unwrap_or(self.alg()), "kid": self.jwk["kid"], "typ": "JWT"});
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
        let signature = match &self.pair {
            Pair::Es256(pair) => pair.sign(&SystemRandom::new(), input.as_bytes()).map(|s| s.as_ref().to_vec()).unwrap_or_default(),
            Pair::EdDsa(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}
