//! The UserInfo endpoint (OIDC Core §5.3): claims many IdMs keep out of the ID token.
//! Called with the access token as a Bearer credential through the one outbound client
//! (its timeouts, size cap, no redirects, address guard).

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use url::Url;

use crate::federation::connector::FederationError;
use crate::federation::http::OutboundClient;

/// A userinfo response is one user's claims; anything larger is not one.
const USERINFO_CAP_BYTES: usize = 64 * 1024;

/// The userinfo claims of the user the ID token named as `subject`.
pub async fn fetch(client: &OutboundClient, endpoint: &Url, access_token: &SecretString, subject: &str) -> Result<Map<String, Value>, FederationError> {
    let failed = |detail: String| FederationError::UserinfoFailed { detail };
    let answer = client.get_json_as(endpoint, Some(access_token.expose_secret()), USERINFO_CAP_BYTES).await.map_err(|err| failed(err.to_string()))?;
    let Value::Object(claims) = answer else {
        return Err(failed("the response is not a JSON object".into()));
    };
    // §5.3.2: the sub of the response must be the ID token's, else it is not this user's.
    if claims.get("sub").and_then(Value::as_str) != Some(subject) {
        return Err(FederationError::UserinfoSubMismatch);
    }
    Ok(claims)
}
