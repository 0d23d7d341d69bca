//! The partner's "Test connection": reach the IdM the way a login would, and say, step by
//! step, what works and what a partner's developer must fix. Each connector kind has its
//! own steps (`oidc::live_check`, `hosted_login::live_check`).

use std::time::Instant;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::http::{FetchError, OutboundClient};
use crate::domain::idm_config::ConnectorConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    Passed,
    Warning,
    Failed,
    Skipped,
}

impl StepStatus {
    pub const ALL: [Self; 4] = [Self::Passed, Self::Warning, Self::Failed, Self::Skipped];

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

/// Every step a live check may report, OpenID Connect's then a hosted login's.
pub const STEP_NAMES: [&str; 9] = ["discovery", "issuer", "endpoints", "capabilities", "backchannel_logout", "userinfo", "jwks", "login", "exchange"];

pub(crate) struct Steps(pub Vec<CheckStep>);

impl Steps {
    pub fn push(&mut self, name: &'static str, status: StepStatus, detail: impl Into<String>, started: Instant) {
        debug_assert!(STEP_NAMES.contains(&name), "add the step {name:?} to STEP_NAMES");
        self.0.push(CheckStep { name, status, detail: detail.into(), millis: started.elapsed().as_millis() as u64 });
    }
}

/// Checks the configuration of either kind; `secret` is its client secret or service key.
pub async fn check(client: &OutboundClient, config: &ConnectorConfig, secret: &SecretString, redirect_uri: &str) -> CheckReport {
    match config {
        ConnectorConfig::Oidc(c) => super::oidc::live_check::check(client, c, secret.expose_secret()).await,
        ConnectorConfig::HostedLogin(c) => super::hosted_login::live_check::check(client, c, secret, redirect_uri).await,
    }
}

pub(crate) fn fetch_problem(what: &str, url: &Url, err: &FetchError) -> String {
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
