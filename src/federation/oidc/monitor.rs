//! One look at an OpenID provider for the IdM monitor: its discovery document (unless the
//! partner configured every endpoint) and the signing keys of its JWKS.

use serde_json::Value;
use url::Url;

use super::endpoints::{discovery_url, Endpoints};
use super::jws::VerifyingKey;
use crate::domain::idm_config::OidcConfig;
use crate::domain::idm_monitor::Snapshot;
use crate::federation::http::{OutboundClient, DOCUMENT_CAP_BYTES};

pub async fn look(client: &OutboundClient, config: &OidcConfig) -> Snapshot {
    let mut snapshot = Snapshot::default();
    let discovery = match client.get_json(&discovery_url(config.issuer.url()), DOCUMENT_CAP_BYTES).await {
        Ok(doc) => Some(doc),
        Err(err) => {
            snapshot.unreachable = Some(format!("discovery: {err}"));
            return snapshot;
        }
    };
    let doc = discovery.as_ref();
    snapshot.issuer = doc.and_then(|d| d.get("issuer")).and_then(Value::as_str).map(str::to_owned);
    snapshot.algorithms = doc
        .and_then(|d| d.get("id_token_signing_alg_values_supported"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let endpoints = Endpoints::resolve(&config.endpoints, doc, client.policy());
    snapshot.endpoints = [
        ("authorization_endpoint", &endpoints.authorization),
        ("token_endpoint", &endpoints.token),
        ("jwks_uri", &endpoints.jwks_uri),
        ("userinfo_endpoint", &endpoints.userinfo),
        ("end_session_endpoint", &endpoints.end_session),
    ]
    .into_iter()
    .filter_map(|(name, url)| url.clone().map(|u| (name.to_owned(), u)))
    .collect();
    let Some(jwks_uri) = endpoints.jwks_uri.as_deref().and_then(|u| Url::parse(u).ok()) else {
        snapshot.unreachable = Some("no jwks_uri".into());
        return snapshot;
    };
    match client.get_json(&jwks_uri, DOCUMENT_CAP_BYTES).await {
        Ok(jwks) => {
            let keys = jwks.get("keys").and_then(Value::as_array).cloned().unwrap_or_default();
            // Signing keys only: what a login could verify with.
            let mut kids: Vec<String> = keys
                .iter()
                .filter(|k| VerifyingKey::from_jwk(k).is_some())
                .map(|k| k.get("kid").and_then(Value::as_str).unwrap_or_default().to_owned())
                .collect();
            kids.sort();
            snapshot.kids = kids;
        }
        Err(err) => snapshot.unreachable = Some(format!("JWKS: {err}")),
    }
    snapshot
}
