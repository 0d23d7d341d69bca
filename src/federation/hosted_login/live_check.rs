//! The live check of a hosted-login IdM: its login page answers for the site key and
//! Causeway's callback, and its exchange endpoint accepts the service key (a made-up code
//! must fail with anything but 401, as the seed's §9 negative tests put it).

use std::time::Instant;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::domain::idm_config::HostedLoginConfig;
use crate::federation::http::OutboundClient;
use crate::federation::idm_check::{fetch_problem, CheckReport, StepStatus, Steps};

/// A code no IdM ever issued: what the exchange is asked to refuse.
const MADE_UP_CODE: &str = "causeway-live-check-not-a-code";

pub async fn check(client: &OutboundClient, config: &HostedLoginConfig, service_key: &SecretString, redirect_uri: &str) -> CheckReport {
    let mut steps = Steps(Vec::new());

    let started = Instant::now();
    let mut login = config.login_url.url().clone();
    login.query_pairs_mut().append_pair("site_key", &config.site_key).append_pair("redirect_uri", redirect_uri).append_pair("state", "causeway-live-check");
    match client.probe(&login).await {
        Ok(status) if status < 400 => steps.push(
            "login",
            StepStatus::Passed,
            format!("The login page at {} answers HTTP {status} for site key {:?} and Causeway's callback.", config.login_url.as_str(), config.site_key),
            started,
        ),
        Ok(status) if status < 500 => steps.push(
            "login",
            StepStatus::Failed,
            format!(
                "The login page refused the sign-in request (HTTP {status}). Check the site key {:?}, and that your IdM administrator approved the callback URL {redirect_uri}.",
                config.site_key
            ),
            started,
        ),
        Ok(status) => steps.push("login", StepStatus::Failed, format!("The login page at {} answered HTTP {status}.", config.login_url.as_str()), started),
        Err(err) => steps.push("login", StepStatus::Failed, fetch_problem("login page", config.login_url.url(), &err), started),
    }

    let started = Instant::now();
    let url = config.exchange_url.url();
    let answer = client.post_json(url, &[("X-Service-Key", service_key.expose_secret())], &json!({"code": MADE_UP_CODE}), 64 * 1024).await;
    match answer {
        Ok((401, _)) => steps.push(
            "exchange",
            StepStatus::Failed,
            "The exchange endpoint refused the service key (HTTP 401): it is wrong, or it was rotated at your IdM. Paste the site's current key.",
            started,
        ),
        Ok((status @ 400..=499, _)) => steps.push(
            "exchange",
            StepStatus::Passed,
            format!("The exchange endpoint accepts the service key: a made-up code was refused with HTTP {status}, as it should be."),
            started,
        ),
        Ok((status @ 200..=299, _)) => steps.push(
            "exchange",
            StepStatus::Failed,
            format!("The exchange endpoint answered HTTP {status} to a made-up code: it must refuse codes it did not issue."),
            started,
        ),
        Ok((status, _)) => steps.push("exchange", StepStatus::Failed, format!("The exchange endpoint at {url} answered HTTP {status}."), started),
        Err(err) => steps.push("exchange", StepStatus::Failed, fetch_problem("exchange endpoint", url, &err), started),
    }
    CheckReport { steps: steps.0 }
}
