//! The partner's "Test connection": fetch discovery and JWKS the way a login would, and
//! say, step by step, what works and what a partner's developer must fix.

use std::time::Instant;

use serde_json::Value;
use url::Url;

use super::http::{DOCUMENT_CAP_BYTES, FetchError, OutboundClient};
use super::oidc::endpoints::Endpoints;
use super::oidc::jws::VerifyingKey;
use crate::domain::idm_config::{basic_encoding_changes, IdmConfig, TokenAuthMethod, UserinfoMode, BASIC_ENCODING_HINT};

/// Signing algorithms Causeway accepts in ID tokens (never `none`, never HS*).
pub const ALLOWED_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    Passed,
    Warning,
    Failed,
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Warning => "warning",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

#[derive(Clone, Debug)]
pub struct CheckStep {
    pub name: &'static str,
    pub status: StepStatus,
    pub detail: String,
    pub millis: u64,
}

#[derive(Clone, Debug)]
pub struct CheckReport {
    pub steps: Vec<CheckStep>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.status != StepStatus::Failed)
    }
}

struct Steps(Vec<CheckStep>);

impl Steps {
    fn push(&mut self, name: &'static str, status: StepStatus, detail: impl Into<String>, started: Instant) {
        self.0.push(CheckStep { name, status, detail: detail.into(), millis: started.elapsed().as_millis() as u64 });
    }
}

/// OIDC Discovery §4: the configuration document lives under the issuer's path.
pub fn discovery_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    let path = format!("{}/.well-known/openid-configuration", issuer.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

fn fetch_problem(what: &str, url: &Url, err: &FetchError) -> String {
    let hint = match err {
        FetchError::Timeout(_) => "Check that the host is reachable from the internet and answers quickly.",
        FetchError::Connect(_) | FetchError::Unresolvable(_) => "Check the host name and that it accepts HTTPS connections from the internet.",
        FetchError::ForbiddenAddress { .. } => "Use a public host: Causeway does not call internal addresses.",
        FetchError::Status(_) => "Check the URL; the server must answer 200 with the document.",
        FetchError::Redirect(_) => "Configure the final URL; Causeway does not follow redirects.",
        FetchError::TooLarge(_) => "Serve a smaller document (Causeway reads at most 256 KiB).",
        FetchError::NotJson(_) => "The URL must serve a JSON document.",
        FetchError::Other(_) => "Check the URL.",
    };
    format!("Could not fetch the {what} at {url}: {err}. {hint}")
}

fn strings(doc: &Value, field: &str) -> Option<Vec<String>> {
    doc.get(field)?.as_array().map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
}

/// Whether a JWK can verify ID tokens under Causeway's rules: exactly the parsing logins use.
fn usable_signing_key(jwk: &Value) -> bool {
    VerifyingKey::from_jwk(jwk).is_some()
}

pub async fn check(client: &OutboundClient, config: &IdmConfig, secret: &str) -> CheckReport {
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
    let endpoints = Endpoints::resolve(overrides, Some(&doc).filter(|d| !d.is_null()));
    let jwks_uri = endpoints.jwks_uri.clone();
    let missing = endpoints.missing_required();
    if missing.is_empty() {
        steps.push("endpoints", StepStatus::Passed, "Authorization, token and JWKS endpoints are known.", started);
    } else {
        steps.push("endpoints", StepStatus::Failed, format!("Missing {}: publish them in discovery or configure them.", missing.join(", ")), started);
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
