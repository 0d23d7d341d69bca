//! ID-token verification: signature under the IdM's current keys, then every protocol rule.

use url::Url;

use super::claims::{self, ClaimRules, VerifiedClaims};
use super::jws::{Jws, JwsError};
use crate::domain::ids::AppId;
use crate::federation::connector::FederationError;
use crate::federation::http::OutboundClient;
use crate::federation::jwks::{JwksCache, JwksError};

pub struct Verifier<'a> {
    pub cache: &'a JwksCache,
    pub client: &'a OutboundClient,
    pub app: AppId,
    pub jwks_uri: &'a Url,
}

impl Verifier<'_> {
    /// Verifies `token` and returns its claims, or the first rule it breaks.
    pub async fn verify(&self, token: &str, rules: &ClaimRules<'_>) -> Result<VerifiedClaims, FederationError> {
        let jws = Jws::parse(token).map_err(|err| match err {
            JwsError::AlgNotAllowed(_) => FederationError::AlgNotAllowed,
            _ => FederationError::IdTokenMalformed,
        })?;
        let kid = jws.kid.as_deref();
        let key = self.cache.key(self.app, self.jwks_uri, kid, self.client).await.map_err(|err| match err {
            JwksError::KidUnknownAfterRefresh => FederationError::KidUnknownAfterRefresh,
            // Keys cannot be had: the token cannot be checked, which the partner fixes at its JWKS.
            JwksError::Fetch(_) | JwksError::NotAKeySet => FederationError::KidUnknownAfterRefresh,
        })?;
        let payload = match jws.verify(&key) {
            Ok(payload) => payload,
            Err(_) => {
                // Some IdMs publish new material under an old kid: look once more.
                let fresh = self.cache.key_after_bad_signature(self.app, self.jwks_uri, kid, &key, self.client).await;
                match fresh {
                    Some(fresh) => jws.verify(&fresh).map_err(|_| FederationError::SignatureInvalid)?,
                    None => return Err(FederationError::SignatureInvalid),
                }
            }
        };
        let payload: serde_json::Value = serde_json::from_slice(payload).map_err(|_| FederationError::IdTokenMalformed)?;
        claims::check(payload, rules)
    }
}
