//! The live check of an OpenID provider: discovery, issuer, endpoints, capabilities,
//! userinfo and JWKS, as a login would use them.

use std::time::Instant;

use serde_json::Value;
use url::Url;

use super::endpoints::{discovery_url, Endpoints};
use super::jws::VerifyingKey;
use crate::domain::idm_config::{basic_encoding_changes, OidcConfig, TokenAuthMethod, UserinfoMode, BASIC_ENCODING_HINT};
use crate::federation::http::{DOCUMENT_CAP_BYTES, OutboundClient};
use crate::federation::idm_check::{fetch_problem, CheckReport, StepStatus, Steps};

/// Signing algorithms Causeway accepts in ID tokens (never `none`, never HS*).
pub const ALLOWED_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

fn strings(doc: &Value, field: &str) -> Option<Vec<String>> {
    doc.get(field)?.as_array().map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
}

/// Whether a JWK can verify ID tokens under Causeway's rules: exactly the parsing logins use.
fn usable_signing_key(jwk: &Value) -> bool {
    VerifyingKey::from_jwk(jwk).is_some()
}

pub async fn check(client: &OutboundClient, config: &OidcConfig, secret: &str) -> CheckReport {
    let mut steps = Steps(Vec::new());
    let overrides = &config.endpoints;

    let started = Instant::now();
    let url = discovery_url(config.issuer.url());
    let discovery = match client.get_json(&url, DOCUMENT_CAP_BYTES).await {
        Ok(doc) if doc.is_object() => {
            steps.push("discovery", StepStatus::Passed, format!("Fetched the discovery document at {url}."), started);
            Some(doc)
        }
        Ok(_) => {
            steps.push("discovery", StepStatus::Failed, format!("The discovery document at {url} is not a JSON object."), started);
            None
        }
        Err(err) => {
            let complete = overrides.authorization_endpoint.is_some() && overrides.token_endpoint.is_some() && overrides.jwks_uri.is_some();
            let status = if complete { StepStatus::Warning } else { StepStatus::Failed };
            let mut detail = fetch_problem("discovery document", &url, &err);
            if complete {
                detail.push_str(" The configured endpoints are used instead.");
            } else {
                detail.push_str(" Without discovery, configure authorization_endpoint, token_endpoint and jwks_uri.");
            }
            steps.push("discovery", status, detail, started);
            None
        }
    };
    let doc = discovery.unwrap_or(Value::Null);

    let started = Instant::now();
    match doc.get("issuer").and_then(Value::as_str) {
        _ if doc.is_null() => steps.push("issuer", StepStatus::Skipped, "No discovery document to compare with.", started),
        Some(advertised) if advertised == config.issuer.as_str() => {
            steps.push("issuer", StepStatus::Passed, "The discovery document names exactly the configured issuer.", started)
        }
        Some(advertised) => steps.push(
            "issuer",
            StepStatus::Failed,
            format!("The discovery document names the issuer {advertised:?}, but the configured issuer is {:?}. They must match exactly (a trailing slash counts): ID tokens carry the IdM's issuer.", config.issuer.as_str()),
            started,
        ),
        None => steps.push("issuer", StepStatus::Failed, "The discovery document has no issuer.", started),
    }

    let started = Instant::now();
    let endpoints = Endpoints::resolve(overrides, Some(&doc).filter(|d| !d.is_null()), client.policy());
    let jwks_uri = endpoints.jwks_uri.clone();
    let missing = endpoints.missing_required();
    match (missing.is_empty(), endpoints.refused_sentence()) {
        (true, None) => steps.push("endpoints", StepStatus::Passed, "Authorization, token and JWKS endpoints are known.", started),
        (true, Some(refused)) => steps.push("endpoints", StepStatus::Warning, refused, started),
        (false, refused) => steps.push(
            "endpoints",
            StepStatus::Failed,
            format!("Missing {}: publish them in discovery or configure them.{}", missing.join(", "), refused.map(|r| format!(" {r}")).unwrap_or_default()),
            started,
        ),
    }

    let started = Instant::now();
    if doc.is_null() {
        steps.push("capabilities", StepStatus::Skipped, "No discovery document to read capabilities from.", started);
    } else {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        if !strings(&doc, "response_types_supported").is_some_and(|t| t.iter().any(|t| t == "code")) {
            problems.push("response_types_supported does not include \"code\" (Causeway uses the authorization code flow)".to_owned());
        }
        match strings(&doc, "code_challenge_methods_supported") {
            Some(methods) if methods.iter().any(|m| m == "S256") => {}
            Some(_) => problems.push("code_challenge_methods_supported does not include S256 (Causeway always sends PKCE S256)".to_owned()),
            None => warnings.push("code_challenge_methods_supported is not published; Causeway will send PKCE S256 anyway".to_owned()),
        }
        // OIDC Discovery §3: when absent, the default is client_secret_basic.
        let methods = strings(&doc, "token_endpoint_auth_methods_supported").unwrap_or_else(|| vec!["client_secret_basic".into()]);
        let method = config.token_endpoint_auth_method.as_str();
        if !methods.iter().any(|m| m == method) {
            problems.push(format!("token_endpoint_auth_methods_supported ({}) does not include the configured {method}", methods.join(", ")));
        }
        if config.token_endpoint_auth_method == TokenAuthMethod::ClientSecretBasic && basic_encoding_changes(secret) {
            warnings.push(BASIC_ENCODING_HINT.trim_end_matches('.').to_owned());
        }
        let (status, detail) = match (problems.is_empty(), warnings.is_empty()) {
            (true, true) => (StepStatus::Passed, format!("Supports the code flow, PKCE S256 and {method}.")),
            (true, false) => (StepStatus::Warning, format!("{}.", warnings.join("; "))),
            (false, _) => (StepStatus::Failed, format!("{}.", problems.join("; "))),
        };
        steps.push("capabilities", status, detail, started);
    }

    // OpenID Connect Back-Channel Logout 1.0 §2.1: optional, so never a failure.
    let started = Instant::now();
    let advertised = |field: &str| doc.get(field).and_then(Value::as_bool) == Some(true);
    let (status, detail) = match (advertised("backchannel_logout_supported"), advertised("backchannel_logout_session_supported")) {
        (true, true) => (StepStatus::Passed, "The IdM sends back-channel logout tokens with its session id: register the back-channel logout URI and the sessions of a user signed out at the IdM end here too."),
        (true, false) => (StepStatus::Passed, "The IdM sends back-channel logout tokens, without its session id: register the back-channel logout URI; a logout then ends all of that user's sessions here."),
        _ => (StepStatus::Skipped, "The IdM does not advertise back-channel logout: Merchant Center sessions end when the merchant signs out or they time out."),
    };
    steps.push("backchannel_logout", status, detail, started);

    let started = Instant::now();
    match (config.userinfo, endpoints.userinfo.as_deref()) {
        (UserinfoMode::Never, _) => steps.push("userinfo", StepStatus::Skipped, "Userinfo is never called: every claim must be in the ID token.", started),
        (_, Some(url)) => steps.push("userinfo", StepStatus::Passed, format!("Userinfo is at {url} and is called {}.", match config.userinfo {
            UserinfoMode::Always => "at every sign-in",
            _ => "when the ID token lacks a claim Causeway needs",
        }), started),
        (UserinfoMode::Always, None) => steps.push("userinfo", StepStatus::Failed, "Userinfo is set to always, but the IdM publishes no userinfo_endpoint: configure it or choose never.", started),
        (_, None) => steps.push("userinfo", StepStatus::Warning, "The IdM publishes no userinfo_endpoint: every claim Causeway needs must be in the ID token.", started),
    }

    let started = Instant::now();
    match jwks_uri.as_deref().map(Url::parse) {
        None => steps.push("jwks", StepStatus::Skipped, "No JWKS URI to fetch.", started),
        Some(Err(_)) => steps.push("jwks", StepStatus::Failed, "The JWKS URI is not a valid URL.", started),
        Some(Ok(url)) => match client.get_json(&url, DOCUMENT_CAP_BYTES).await {
            Err(err) => steps.push("jwks", StepStatus::Failed, fetch_problem("JWKS", &url, &err), started),
            Ok(jwks) => {
                let keys = jwks.get("keys").and_then(Value::as_array);
                match keys {
                    None => steps.push("jwks", StepStatus::Failed, format!("The document at {url} is not a JWK Set (no \"keys\" array)."), started),
                    Some(keys) => {
                        let usable = keys.iter().filter(|k| usable_signing_key(k)).count();
                        if usable == 0 {
                            steps.push(
                                "jwks",
                                StepStatus::Failed,
                                format!("The JWKS has {} keys but none Causeway can verify ID tokens with (RSA, P-256 or Ed25519 signing keys; algorithms {}).", keys.len(), ALLOWED_ALGS.join(", ")),
                                started,
                            );
                        } else {
                            steps.push("jwks", StepStatus::Passed, format!("The JWKS has {usable} usable signing key(s)."), started);
                        }
                    }
                }
            }
        },
    }
    CheckReport { steps: steps.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn discovery_url_keeps_the_issuer_path() {
        let at = |issuer: &str| discovery_url(&Url::parse(issuer).unwrap()).to_string();
        assert_eq!(at("https://idm.example/"), "https://idm.example/.well-known/openid-configuration");
        assert_eq!(at("https://idm.example/realms/acme"), "https://idm.example/realms/acme/.well-known/openid-configuration");
        assert_eq!(at("https://idm.example/tenant/"), "https://idm.example/tenant/.well-known/openid-configuration");
    }

    #[test]
    fn signing_keys() {
        let b64 = |n: usize| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, vec![7u8; n]);
        assert!(usable_signing_key(&json!({"kty": "RSA", "n": "abc", "e": "AQAB", "use": "sig", "alg": "RS256"})));
        assert!(usable_signing_key(&json!({"kty": "EC", "crv": "P-256", "x": b64(32), "y": b64(32)})));
        assert!(usable_signing_key(&json!({"kty": "OKP", "crv": "Ed25519", "x": b64(32)})));
        // The same parsing as logins: a P-256 point of the wrong size is no key.
        assert!(!usable_signing_key(&json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"})));
        assert!(!usable_signing_key(&json!({"kty": "RSA", "n": "abc", "e": "AQAB", "use": "enc"})));
        assert!(!usable_signing_key(&json!({"kty": "oct", "k": "secret"})));
        assert!(!usable_signing_key(&json!({"kty": "RSA", "n": "abc", "e": "AQAB", "alg": "HS256"})));
        assert!(!usable_signing_key(&json!({"kty": "EC", "crv": "P-521", "x": "a", "y": "b"})));
    }
}
