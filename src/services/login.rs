//! One SSO login: `begin` at the CTA, `complete` at the callback. Every failure is an
//! `SsoError` from the catalog, recorded in the partner's event log.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{idm, merchant_sessions, provisioning, sso_events};
use crate::crypto::digest::sha256_hex;
use crate::crypto::random::url_safe_token;
use crate::crypto::sealed;
use crate::domain::app::AppStatus;
use crate::domain::idm_config::{IdmConfig, IdmConfigInput};
use crate::domain::ids::AppId;
use crate::domain::sso_error::SsoError;
use crate::domain::urls::UrlPolicy;
use crate::federation::oidc::claims::ClaimRules;
use crate::federation::oidc::connector::Connector;
use crate::federation::oidc::id_token::Verifier;
use crate::state::AppState;
use crate::store::flows::{FlowRow, Taken};
use crate::store::idm_configs::IdmVersionRow;
use crate::store::StoreError;

/// How long a started login may take (OIDC flows are interactive, but not forever).
pub const FLOW_SECONDS: i64 = 600;
/// The browser-binding cookie: one random value per browser, not one cookie per flow, so
/// two tabs can both finish and cookies never pile up.
pub const BROWSER_COOKIE: &str = "__Host-causeway_sso";

/// A failure, and the app it concerns when the app is known (for branding and the log).
pub struct Failure {
    pub app: Option<AppId>,
    pub error: SsoError,
}

pub struct Begun {
    pub redirect: Url,
    /// Set when the browser had no binding cookie yet.
    pub new_browser_id: Option<String>,
}

pub struct Completed {
    pub app: AppId,
    pub session_id: String,
    /// Who signed in where, for the partner's event log (no token, no code).
    pub summary: String,
}

/// The query of the callback (OIDC Core §3.1.2.5/6, RFC 9207).
#[derive(Default, Debug, serde::Deserialize)]
#[serde(default)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

fn internal(err: impl std::fmt::Display) -> SsoError {
    tracing::error!(error = %err, "SSO failed on Causeway's side");
    SsoError::Internal
}

impl From<StoreError> for SsoError {
    fn from(err: StoreError) -> Self {
        internal(err)
    }
}

fn flow_context(state_hash: &str) -> String {
    format!("sso-flow-verifier:{state_hash}")
}

/// The app named in the URL, active, with its current IdM configuration (one read).
async fn active_app(state: &AppState, raw: &str) -> Result<(AppId, Option<IdmVersionRow>), Failure> {
    let app: AppId = raw.parse().map_err(|_| Failure { app: None, error: SsoError::AppUnknown })?;
    match state.store.app_with_current_idm(app).await {
        Ok(Some((AppStatus::Active, current))) => Ok((app, current)),
        Ok(Some(_)) => Err(Failure { app: Some(app), error: SsoError::AppSuspended }),
        Ok(None) => Err(Failure { app: None, error: SsoError::AppUnknown }),
        Err(err) => Err(Failure { app: None, error: err.into() }),
    }
}

/// The app's connector for its current configuration (opened once per version).
async fn connector(state: &AppState, app: AppId) -> Result<std::sync::Arc<Connector>, SsoError> {
    let current = state.store.current_idm_version(app).await?;
    connector_for(state, app, current).await
}

async fn connector_for(state: &AppState, app: AppId, current: Option<IdmVersionRow>) -> Result<std::sync::Arc<Connector>, SsoError> {
    let current = current.ok_or(SsoError::IdmNotConfigured)?;
    if let Some(open) = state.connectors.get(app, current.version) {
        return Ok(open);
    }
    let input: IdmConfigInput = serde_json::from_str(&current.config_json).map_err(internal)?;
    // Validated when stored; the outbound client re-checks addresses at every connection.
    let config = IdmConfig::parse(&input, UrlPolicy::AllowInsecure).map_err(|_| SsoError::IdmNotConfigured)?;
    let sealed_secret = current.client_secret_sealed.as_deref().ok_or(SsoError::IdmNotConfigured)?;
    let secret = sealed::open(&state.keyring, &idm::secret_context(app), sealed_secret).map_err(internal)?;
    let opened = Connector::open(&config, secret, current.version, &state.outbound).await?;
    Ok(state.connectors.put(app, opened))
}

pub async fn begin(state: &AppState, app_raw: &str, browser_id: Option<&str>) -> Result<Begun, Failure> {
    let (app, current) = active_app(state, app_raw).await?;
    let fail = |error| Failure { app: Some(app), error };
    let connector = connector_for(state, app, current).await.map_err(fail)?;
    let new_browser_id = browser_id.is_none().then(|| url_safe_token(32));
    let browser = browser_id.or(new_browser_id.as_deref()).unwrap_or_default();
    let start = connector.begin(&idm::redirect_uri(state, app));
    let state_hash = sha256_hex(start.state.expose_secret().as_bytes());
    let now = state.clock.now();
    let flow = FlowRow {
        verifier_sealed: sealed::seal(&state.keyring, &flow_context(&state_hash), &start.pkce_verifier),
        state_hash,
        app_id: app,
        browser_hash: sha256_hex(browser.as_bytes()),
        nonce: start.nonce,
        config_version: connector.config_version,
        created_at: now,
        expires_at: now + FLOW_SECONDS,
    };
    state.store.insert_flow(&flow).await.map_err(|e| fail(e.into()))?;
    state.metrics.sso_started.inc();
    Ok(Begun { redirect: start.url, new_browser_id })
}

pub async fn complete(state: &AppState, app_raw: &str, params: &CallbackParams, browser_id: Option<&str>) -> Result<Completed, Failure> {
    let (app, current) = active_app(state, app_raw).await?;
    let started = std::time::Instant::now();
    let result = complete_for(state, app, current, params, browser_id).await;
    state.metrics.sso_callback_seconds.observe(started.elapsed().as_secs_f64());
    let correlation = crate::web::correlation::current();
    let (outcome, code, detail) = match &result {
        Ok(done) => (sso_events::Outcome::Succeeded, None, done.summary.clone()),
        Err(error) => (sso_events::Outcome::Failed, Some(error.code()), event_detail(error)),
    };
    state.metrics.sso_outcomes.with_label_values(&[outcome.as_str(), code.as_deref().unwrap_or("")]).inc();
    if let Err(err) = sso_events::record(state, app, outcome, code.as_deref(), &detail, &correlation).await {
        tracing::warn!(error = %err, "could not record an SSO event");
    }
    result.map_err(|error| Failure { app: Some(app), error })
}

/// What the partner reads in its log: the hint, and what the IdM said (bounded), never
/// a code, token or secret.
fn event_detail(error: &SsoError) -> String {
    let extra = match error {
        SsoError::IdmError { error } => format!(" The IdM answered error={}.", error.chars().take(100).collect::<String>()),
        SsoError::IdmUnavailable { detail } | SsoError::TokenEndpointFailed { detail } => format!(" ({})", detail.chars().take(200).collect::<String>()),
        _ => String::new(),
    };
    format!("{}{extra}", error.fix_hint())
}

async fn complete_for(
    state: &AppState,
    app: AppId,
    current: Option<IdmVersionRow>,
    params: &CallbackParams,
    browser_id: Option<&str>,
) -> Result<Completed, SsoError> {
    let now = state.clock.now();
    let raw_state = params.state.as_deref().filter(|s| !s.is_empty()).ok_or(SsoError::StateMissing)?;
    let state_hash = sha256_hex(raw_state.as_bytes());
    // The flow is consumed first, so an error response cannot be replayed either.
    let flow = match state.store.take_flow(&state_hash, now).await? {
        Taken::Flow(flow) if flow.app_id == app => flow,
        Taken::Flow(_) | Taken::Unknown => return Err(SsoError::StateUnknown),
        Taken::Replayed => return Err(SsoError::StateReplayed),
    };
    if let Some(error) = &params.error {
        return Err(SsoError::IdmError { error: error.clone() });
    }
    if now > flow.expires_at {
        return Err(SsoError::StateExpired);
    }
    if browser_id.map(|b| sha256_hex(b.as_bytes())) != Some(flow.browser_hash.clone()) {
        return Err(SsoError::FlowOtherBrowser);
    }
    let connector = connector_for(state, app, current).await?;
    // RFC 9207 §2.4: a present iss must match; an IdM that promises it must send it.
    match params.iss.as_deref() {
        Some(iss) if iss != connector.issuer => return Err(SsoError::IssParamMismatch),
        None if connector.iss_parameter_supported => return Err(SsoError::IssParamMismatch),
        _ => {}
    }
    let code = params.code.as_deref().filter(|c| !c.is_empty()).ok_or(SsoError::IdmError { error: "no code".into() })?;
    let verifier: SecretString = sealed::open(&state.keyring, &flow_context(&state_hash), &flow.verifier_sealed).map_err(internal)?;
    let redirect_uri = idm::redirect_uri(state, app);
    let exchange_started = std::time::Instant::now();
    let exchanged = connector.exchange(code, &verifier, &redirect_uri, &state.outbound).await;
    state.metrics.token_endpoint_seconds.observe(exchange_started.elapsed().as_secs_f64());
    let id_token = exchanged?;
    let rules = ClaimRules {
        issuer: &connector.issuer,
        client_id: &connector.client_id,
        nonce: &flow.nonce,
        account_claim: &connector.account_claim,
        now,
        leeway_seconds: connector.clock_leeway_seconds,
    };
    let verifier = Verifier { cache: &state.jwks, client: &state.outbound, app, jwks_uri: &connector.jwks_uri };
    let identity = verifier.verify(&id_token, &rules).await?;
    let linked = provisioning::link(state, app, &identity).await?;
    let session_id = merchant_sessions::open(state, app, &linked, &id_token, &connector.sign_out_origins()).await.map_err(internal)?;
    let summary = format!("{} signed in to account {} as {}.", identity.email, linked.account, linked.role.label());
    Ok(Completed { app, session_id, summary })
}

/// Where a merchant goes after logout: the IdM's end-session endpoint with
/// `id_token_hint` and `post_logout_redirect_uri` when it has one, else the partner's
/// logout URL.
pub async fn logout_target(state: &AppState, app: AppId, id_token: &str) -> String {
    match connector(state, app).await {
        Ok(connector) => match &connector.end_session {
            Some(end_session) => {
                let mut url = end_session.clone();
                url.query_pairs_mut()
                    .append_pair("id_token_hint", id_token)
                    .append_pair("post_logout_redirect_uri", &connector.logout_url)
                    .append_pair("client_id", &connector.client_id);
                url.to_string()
            }
            None => connector.logout_url.clone(),
        },
        Err(_) => "/merchant-center".to_owned(),
    }
}
