//! ID-token verification: signature under the IdM's current keys, then every protocol rule.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use url::Url;

use super::claims::{self, ClaimRules, VerifiedClaims};
use super::jws::{Jws, JwsError};
use crate::domain::ids::AppId;
use crate::federation::connector::FederationError;
use crate::federation::http::OutboundClient;
use crate::federation::jwks::JwksCache;

pub struct Verifier<'a> {
    pub cache: &'a JwksCache,
    pub client: &'a OutboundClient,
    pub app: AppId,
    pub jwks_uri: &'a Url,
}

impl Verifier<'_> {
    /// Verifies `token` and returns its claims, or the first rule it breaks.
    pub async fn verify(&self, token: &str, rules: &ClaimRules<'_>) -> Result<VerifiedClaims, FederationError> {
        let payload = self.verified_payload(token).await?;
        let payload: serde_json::Value = serde_json::from_slice(&payload).map_err(|_| FederationError::IdTokenMalformed)?;
        claims::check(payload, rules)
    }

    /// What a test sign-in reports of `token`: its header's `alg` and `kid`, whether its
    /// signature verifies under the IdM's keys, and its payload — read even when the
    /// signature fails (the report says it is unverified), never trusted for a session.
    pub async fn inspect(&self, token: &str) -> TokenInspection {
        let header = token.split('.').next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok()).and_then(|h| serde_json::from_slice::<Value>(&h).ok());
        let text = |name: &str| header.as_ref().and_then(|h| h.get(name)).and_then(Value::as_str).map(str::to_owned);
        let payload = token.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).and_then(|p| serde_json::from_slice::<Value>(&p).ok());
        let claims = match payload {
            Some(Value::Object(claims)) => Some(claims),
            _ => None,
        };
        let signature = self.verified_payload(token).await.map(|_| ());
        TokenInspection { alg: text("alg"), kid: text("kid"), signature, claims }
    }

    /// A logout token's payload once its signature verified (the ID tokens' algorithms and
    /// keys), or why not, in the words the IdM gets back.
    pub async fn verified_logout_payload(&self, token: &str) -> Result<Vec<u8>, &'static str> {
        self.verified_payload(token).await.map_err(|err| match err {
            FederationError::AlgNotAllowed => "the logout token's alg is not allowed (none and HS* never are)",
            FederationError::KidUnknownAfterRefresh => "no key of the IdM's JWKS matches the logout token's kid",
            FederationError::SignatureInvalid => "the logout token's signature does not verify",
            _ => "the logout token is not a well-formed JWS",
        })
    }

    /// The payload of `token` once its signature verified under the IdM's current keys.
    async fn verified_payload(&self, token: &str) -> Result<Vec<u8>, FederationError> {
        let jws = Jws::parse(token).map_err(|err| match err {
            JwsError::AlgNotAllowed(_) => FederationError::AlgNotAllowed,
            _ => FederationError::IdTokenMalformed,
        })?;
        let kid = jws.kid.as_deref();
        // Keys that cannot be had leave the token unchecked, which the partner fixes at its JWKS.
        let key = self.cache.key(self.app, self.jwks_uri, kid, self.client).await.map_err(|_| FederationError::KidUnknownAfterRefresh)?;
        if let Ok(payload) = jws.verify(&key) {
            return Ok(payload.to_vec());
        }
        // Some IdMs publish new material under an old kid: look once more.
        match self.cache.key_after_bad_signature(self.app, self.jwks_uri, kid, &key, self.client).await {
            Some(fresh) => jws.verify(&fresh).map(<[u8]>::to_vec).map_err(|_| FederationError::SignatureInvalid),
            None => Err(FederationError::SignatureInvalid),
        }
    }
}

/// See [`Verifier::inspect`].
pub struct TokenInspection {
    pub alg: Option<String>,
    pub kid: Option<String>,
    pub signature: Result<(), FederationError>,
    pub claims: Option<serde_json::Map<String, Value>>,
}
