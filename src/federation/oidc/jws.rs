//! Compact JWS (RFC 7515) parsing and signature verification with `ring`, for the
//! asymmetric algorithms Causeway accepts in ID tokens: RS256, PS256, ES256, EdDSA.
//! `none` and every HS* algorithm are refused before any key is looked at, so a token
//! cannot pick a weaker check than the IdM's published key allows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Ps256,
    Es256,
    EdDsa,
}

impl Alg {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "PS256" => Some(Self::Ps256),
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("algorithm {0:?} is not allowed")]
    AlgNotAllowed(String),
    #[error("signature does not verify")]
    BadSignature,
}

/// A signed token split into its parts; nothing in it is trusted until `verify` passes.
#[derive(Debug)]
pub struct Jws<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    signing_input: &'a str,
    signature: Vec<u8>,
    payload: Vec<u8>,
}

fn decode_part(part: &str) -> Result<Vec<u8>, JwsError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| JwsError::Malformed)
}

impl<'a> Jws<'a> {
    pub fn parse(token: &'a str) -> Result<Self, JwsError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(JwsError::Malformed);
        };
        let header: Value = serde_json::from_slice(&decode_part(header)?).map_err(|_| JwsError::Malformed)?;
        let alg_name = header.get("alg").and_then(Value::as_str).ok_or(JwsError::Malformed)?;
        let alg = Alg::parse(alg_name).ok_or_else(|| JwsError::AlgNotAllowed(alg_name.to_owned()))?;
        // A critical extension Causeway does not implement must be refused (RFC 7515 §4.1.11).
        if header.get("crit").is_some() {
            return Err(JwsError::Malformed);
        }
        Ok(Self {
            alg,
            kid: header.get("kid").and_then(Value::as_str).map(str::to_owned),
            signing_input: &token[..token.len() - signature.len() - 1],
            signature: decode_part(signature)?,
            payload: decode_part(payload)?,
        })
    }

    /// The payload, once `key` has verified the signature.
    pub fn verify(&self, key: &VerifyingKey) -> Result<&[u8], JwsError> {
        if key.verify(self.alg, self.signing_input.as_bytes(), &self.signature) {
            Ok(&self.payload)
        } else {
            Err(JwsError::BadSignature)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Material {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    P256 { point: Vec<u8> },
    Ed25519 { x: Vec<u8> },
}

/// A public key from an IdM's JWKS, usable for one family of algorithms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    /// The `alg` the JWK pins, if any: a token must then use exactly that one.
    pinned: Option<Alg>,
    material: Material,
}

impl VerifyingKey {
    /// Reads a JWK; `None` for keys that cannot verify ID tokens here (encryption keys,
    /// symmetric keys, other curves, algorithms outside the allowed set).
    pub fn from_jwk(jwk: &Value) -> Option<Self> {
        let text = |field: &str| jwk.get(field).and_then(Value::as_str);
        let bytes = |field: &str| text(field).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        if text("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let pinned = match text("alg") {
            None => None,
            Some(name) => Some(Alg::parse(name)?),
        };
        let material = match (text("kty")?, text("crv")) {
            ("RSA", _) => Material::Rsa { n: bytes("n")?, e: bytes("e")? },
            ("EC", Some("P-256")) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                Material::P256 { point: [&[0x04][..], &x, &y].concat() }
            }
            ("OKP", Some("Ed25519")) => Material::Ed25519 { x: bytes("x")? },
            _ => return None,
        };
        Some(Self { kid: text("kid").map(str::to_owned), pinned, material })
    }

    fn verify(&self, alg: Alg, message: &[u8], sig: &[u8]) -> bool {
        if self.pinned.is_some_and(|pinned| pinned != alg) {
            return false;
        }
        match (&self.material, alg) {
            (Material::Rsa { n, e }, Alg::Rs256) => {
                RsaPublicKeyComponents { n, e }.verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig).is_ok()
            }
            (Material::Rsa { n, e }, Alg::Ps256) => {
                RsaPublicKeyComponents { n, e }.verify(&signature::RSA_PSS_2048_8192_SHA256, message, sig).is_ok()
            }
            (Material::P256 { point }, Alg::Es256) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(message, sig).is_ok()
            }
            (Material::Ed25519 { x }, Alg::EdDsa) => UnparsedPublicKey::new(&signature::ED25519, x).verify(message, sig).is_ok(),
            _ => false,
        }
    }
}

#[cfg(all(test, feature = "demo"))]
mod tests {
    use super::super::signer::Signer as TestSigner;
    use super::*;
    use serde_json::json;

    #[test]
    fn es256_and_eddsa_signatures_verify_with_their_keys_only() {
        for signer in [TestSigner::es256("k1").unwrap(), TestSigner::ed25519("k2").unwrap()] {
            let token = signer.sign(&json!({"sub": "alice"}), None);
            let jws = Jws::parse(&token).unwrap();
            let key = VerifyingKey::from_jwk(&signer.jwk).unwrap();
            assert_eq!(serde_json::from_slice::<Value>(jws.verify(&key).unwrap()).unwrap()["sub"], "alice");
            let other = VerifyingKey::from_jwk(&TestSigner::es256("k3").unwrap().jwk).unwrap();
            assert_eq!(jws.verify(&other).unwrap_err(), JwsError::BadSignature);
        }
    }

    #[test]
    fn rs256_and_ps256_signatures_made_by_openssl_verify() {
        // Signed once with `openssl dgst -sha256 -sign` (PSS: salt length 32): ring cannot
        // generate RSA keys, and a second implementation is the better witness anyway.
        let fixture: Value = serde_json::from_str(include_str!("rsa_fixture.json")).unwrap();
        let key = VerifyingKey::from_jwk(&fixture["jwk"]).unwrap();
        for alg in ["RS256", "PS256"] {
            let jws = Jws::parse(fixture[alg].as_str().unwrap()).unwrap();
            assert_eq!(jws.alg.name(), alg);
            let payload: Value = serde_json::from_slice(jws.verify(&key).unwrap()).unwrap();
            assert_eq!(payload["alg_used"], alg);
        }
        // The RS256 signature is not a valid PS256 one.
        let rs = fixture["RS256"].as_str().unwrap();
        let (_, sig) = rs.rsplit_once('.').unwrap();
        let ps = fixture["PS256"].as_str().unwrap();
        let (ps_input, _) = ps.rsplit_once('.').unwrap();
        let swapped = format!("{ps_input}.{sig}");
        assert_eq!(Jws::parse(&swapped).unwrap().verify(&key).unwrap_err(), JwsError::BadSignature);
    }

    #[test]
    fn tampered_payloads_fail() {
        let signer = TestSigner::es256("k1").unwrap();
        let token = signer.sign(&json!({"sub": "alice"}), None);
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"sub": "mallory"}).to_string());
        parts[1] = &forged;
        let forged = parts.join(".");
        let key = VerifyingKey::from_jwk(&signer.jwk).unwrap();
        assert_eq!(Jws::parse(&forged).unwrap().verify(&key).unwrap_err(), JwsError::BadSignature);
    }

    #[test]
    fn none_and_hmac_are_refused_before_any_key() {
        let signer = TestSigner::es256("k1").unwrap();
        for alg in ["none", "HS256", "HS512", "ES512", "RS512"] {
            let token = signer.sign(&json!({"sub": "a"}), Some(alg));
            assert_eq!(Jws::parse(&token).unwrap_err(), JwsError::AlgNotAllowed(alg.to_owned()), "{alg}");
        }
        assert_eq!(Jws::parse("a.b").unwrap_err(), JwsError::Malformed);
        assert_eq!(Jws::parse("!!.b.c").unwrap_err(), JwsError::Malformed);
    }

    #[test]
    fn a_key_is_used_only_for_its_own_algorithm() {
        let signer = TestSigner::es256("k1").unwrap();
        // An EC key claimed to be EdDSA-signed: the family does not match.
        let token = signer.sign(&json!({"sub": "a"}), Some("EdDSA"));
        let key = VerifyingKey::from_jwk(&signer.jwk).unwrap();
        assert_eq!(Jws::parse(&token).unwrap().verify(&key).unwrap_err(), JwsError::BadSignature);
        // Keys that cannot verify ID tokens are not loaded at all.
        assert!(VerifyingKey::from_jwk(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_none());
        let mut enc = signer.jwk.clone();
        enc["use"] = json!("enc");
        assert!(VerifyingKey::from_jwk(&enc).is_none());
        let mut hs = signer.jwk.clone();
        hs["alg"] = json!("HS256");
        assert!(VerifyingKey::from_jwk(&hs).is_none());
    }
}

/// Property tests (issue 14): the parts of any three-part token, and any text at all.
/// Bounded runs; no regression files are written into the tree.
#[cfg(test)]
mod prop_tests {
    use proptest::prelude::*;
    use proptest::test_runner::Config;
    use serde_json::json;

    use super::*;

    fn bounded() -> Config {
        Config { cases: 512, failure_persistence: None, ..Config::default() }
    }

    proptest! {
        #![proptest_config(bounded())]

        /// What is verified is exactly the text before the last dot, and what comes out is
        /// exactly the decoded payload and signature: no byte more, none less.
        #[test]
        fn the_signing_input_is_the_token_before_its_signature(
            alg in prop::sample::select(vec!["RS256", "PS256", "ES256", "EdDSA"]),
            kid in proptest::option::of(".{0,12}"),
            payload in prop::collection::vec(any::<u8>(), 0..64),
            signature in prop::collection::vec(any::<u8>(), 0..96),
        ) {
            let header = json!({"alg": alg, "kid": kid});
            let token = format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(&signature));
            let jws = Jws::parse(&token).unwrap();
            prop_assert_eq!(Some(jws.signing_input), token.rsplit_once('.').map(|(input, _)| input));
            prop_assert_eq!((&jws.payload, &jws.signature, jws.kid.as_deref(), jws.alg.name()), (&payload, &signature, kid.as_deref(), alg));
        }

        /// Any text: a parse keeps the same split (the signature is the last part), or the
        /// documented error; never a panic or a slice out of bounds.
        #[test]
        fn any_text_splits_calmly(token in "[A-Za-z0-9_=.-]{0,40}|.{0,40}") {
            if let Ok(jws) = Jws::parse(&token) {
                prop_assert!(token.starts_with(jws.signing_input));
                prop_assert_eq!(token.len() - jws.signing_input.len() - 1, URL_SAFE_NO_PAD.encode(&jws.signature).len());
            }
        }
    }
}
