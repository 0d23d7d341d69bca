//! Test IdMs: the real `oidc-provider` (tests/idp, installed by the test command with
//! `npm ci`) and a small fake for what a real provider will not do.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A running `oidc-provider`; it exits when this value (and so its stdin) is dropped.
pub struct OidcProvider {
    pub issuer: String,
    _child: tokio::process::Child,
}

impl OidcProvider {
    pub async fn start(config: Value) -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idp");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed: run `npm ci --prefix tests/idp` (the test command does)"
        );
        // No retry: a provider that does not start within the timeout fails the test, with
        // what it said on stderr.
        match Self::try_start(&dir, &config).await {
            Ok(provider) => provider,
            Err(report) => panic!("oidc-provider did not start: {report}"),
        }
    }

    async fn try_start(dir: &std::path::Path, config: &Value) -> Result<Self, String> {
        // Its stderr goes to a file: read only when it fails to start, never a full pipe.
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("provider.mjs"))
            .env("IDP_CONFIG", config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("node must be installed");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        match tokio::time::timeout(Duration::from_secs(20), stdout.next_line()).await {
            Ok(Ok(Some(line))) => {
                let ready: Value = serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
                Ok(Self { issuer: ready["issuer"].as_str().unwrap().to_owned(), _child: child })
            }
            other => {
                let said = std::fs::read_to_string(stderr.path()).unwrap_or_default();
                Err(format!("{other:?}; its stderr:\n{said}"))
            }
        }
    }
}

/// A provider account whose account claim names `account`.
pub fn person(sub: &str, email: &str, given: &str, account: &str) -> Value {
    serde_json::json!({"sub": sub, "email": email, "email_verified": true, "given_name": given, "family_name": "Merchant",
        "claims": {"https://partner.example/wepay_account_id": account}})
}

/// Causeway as a client of the provider (`TestApp::use_idm` configures the other side).
pub fn causeway_client(app: &crate::helpers::TestApp, logout_url: &str, alg: &str) -> Value {
    let redirect = format!("{}/sso/oidc/{}/callback", app.url(""), app.partner.app_id);
    serde_json::json!({"client_id": "causeway", "client_secret": "s3cret", "redirect_uris": [redirect],
        "post_logout_redirect_uris": [logout_url], "token_endpoint_auth_method": "client_secret_basic",
        "id_token_signed_response_alg": alg})
}

/// A discovery document as a provider at `base` would publish it.
pub fn discovery(base: &str, jwks_path: &str) -> Value {
    serde_json::json!({
        "issuer": format!("{base}/"),
        "authorization_endpoint": format!("{base}/auth"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}{jwks_path}"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"]
    })
}
