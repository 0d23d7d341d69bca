//! One SSO login: `begin` at the CTA, `complete` at the callback, the same for every
//! connector kind. Every failure is an `SsoError` from the catalog, recorded in the
//! partner's event log.

use std::net::IpAddr;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::access;
use super::login_state::{self, StartedLogin};
use super::{idm, provisioning, sso_events};
use crate::crypto::digest::sha256_hex;
use crate::crypto::random::url_safe_token;
use crate::domain::app::AppStatus;
use crate::domain::ids::AppId;
use crate::domain::landing::Landing;
use crate::domain::sso_error::SsoError;
use crate::federation::connector::{Callback, Connector, Context, FederationError, LoginOptions};
use crate::federation::registry;
use crate::state::AppState;
use crate::store::merchants::UsedState;
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
    /// The person reaches several accounts and chooses one next.
    pub choosing: bool,
    /// The page a deep link or step-up lands on.
    pub landing: Option<Landing>,
}

/// How a callback ended well: a merchant signed in, or a partner's test sign-in reported.
pub enum Outcome {
    SignedIn(Completed),
    Tested { app: AppId, id: String },
}

/// Why a login started. Sealed in its state as one line before the connector's private
/// state; a plain sign-in carries no line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    SignIn,
    /// A partner's test sign-in (`test_sign_ins`): the callback reports instead of signing in.
    Test(String),
    /// A deep link or a step-up: sign in to one account and land on one page.
    Land(Landing),
}

const TEST_MARK: &str = "test-sign-in:";

impl Purpose {
    fn sealed_with(&self, private: &SecretString) -> SecretString {
        match self {
            Self::SignIn => private.clone(),
            Self::Test(test) => SecretString::from(format!("{TEST_MARK}{test}\n{}", private.expose_secret())),
            Self::Land(landing) => SecretString::from(format!("{}\n{}", landing.encode(), private.expose_secret())),
        }
    }

    /// The purpose and the connector's private state of an opened flow. Connector state
    /// is JSON and never starts with a mark.
    fn opened(private: &str) -> (Self, &str) {
        if let Some((line, rest)) = private.split_once('\n') {
            if let Some(test) = line.strip_prefix(TEST_MARK) {
                return (Self::Test(test.to_owned()), rest);
            }
            if let Some(landing) = Landing::decode(line) {
                return (Self::Land(landing), rest);
            }
        }
        (Self::SignIn, private)
    }

    fn options(&self, state: &AppState) -> LoginOptions {
        match self {
            Self::Land(Landing { step_up: true, .. }) => LoginOptions { reauthenticate_within: Some(state.settings.step_up_seconds) },
            _ => LoginOptions::default(),
        }
    }
}

/// The query of the callback (OIDC Core §3.1.2.5/6, RFC 9207; the hosted-login redirect).
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

/// The SSO error catalog's code for each way a connector refuses an IdM's answer: the one
/// place protocol errors become what partners read.
pub fn catalog(err: FederationError) -> SsoError {
    use FederationError as F;
    match err {
        F::Unavailable { detail } => SsoError::IdmUnavailable { detail },
        F::NotConfigured => SsoError::IdmNotConfigured,
        F::IssParamMismatch => SsoError::IssParamMismatch,
        F::CodeMissing => SsoError::IdmError { error: "no code".into() },
        F::TokenEndpoint { detail } => SsoError::TokenEndpointFailed { detail },
        F::CodeRejected => SsoError::CodeRejected,
        F::IdTokenMissing => SsoError::IdTokenMissing,
        F::IdTokenMalformed => SsoError::IdTokenMalformed,
        F::AlgNotAllowed => SsoError::AlgNotAllowed,
        F::KidUnknownAfterRefresh => SsoError::KidUnknownAfterRefresh,
        F::SignatureInvalid => SsoError::SignatureInvalid,
        F::IssMismatch => SsoError::IssMismatch,
        F::AudMismatch => SsoError::AudMismatch,
        F::AzpMismatch => SsoError::AzpMismatch,
        F::TokenExpired => SsoError::TokenExpired,
        F::IatInFuture => SsoError::IatInFuture,
        F::NonceMismatch => SsoError::NonceMismatch,
        F::ClaimMissing(name) => SsoError::ClaimMissing(name),
        F::UserinfoFailed { detail } => SsoError::UserinfoFailed { detail },
        F::UserinfoSubMismatch => SsoError::UserinfoSubMismatch,
        F::CredentialsRejected => SsoError::IdmCredentialsRejected,
        F::UserInactive => SsoError::UserInactive,
        F::PrivateState => internal("a login flow's private state does not parse"),
    }
}

/// The app named in the URL: unknown, suspended, or active with its current IdM
/// configuration, in one read.
async fn active_app(state: &AppState, app: AppId) -> Result<Option<IdmVersionRow>, Failure> {
    match state.store.app_with_current_idm(app).await {
        Ok(Some((AppStatus::Active, config))) => Ok(config),
        Ok(Some(_)) => Err(Failure { app: Some(app), error: SsoError::AppSuspended }),
        Ok(None) => Err(Failure { app: None, error: SsoError::AppUnknown }),
        Err(err) => Err(Failure { app: None, error: err.into() }),
    }
}

/// The connector of one configuration version, opened once per version and process.
pub(super) async fn connector_for(state: &AppState, app: AppId, config: Option<IdmVersionRow>) -> Result<Arc<dyn Connector>, SsoError> {
    let config = config.ok_or(SsoError::IdmNotConfigured)?;
    if let Some(open) = state.connectors.get(app, config.version) {
        return Ok(open);
    }
    if config.client_secret_sealed.is_none() {
        return Err(SsoError::IdmNotConfigured);
    }
    let (parsed, secret) = idm::opened(state, app, &config).map_err(internal)?;
    let open = || registry::open(&parsed, secret, config.version, &state.outbound);
    state.connectors.get_or_open(app, config.version, open).await.map_err(catalog)
}

/// The connector of `app`'s current configuration, read from the database: unknown,
/// suspended and unconfigured apps fail here.
async fn current_connector(state: &AppState, app: AppId) -> Result<Arc<dyn Connector>, Failure> {
    let current = active_app(state, app).await?;
    connector_for(state, app, current).await.map_err(|error| Failure { app: Some(app), error })
}

/// Starts a login for the browser carrying `browser_id` (its binding cookie, if it has
/// one yet), from `client` (its address). A failure is counted and, except for pacing,
/// written to the partner's event log like a failed callback.
///
/// The purpose is a plain sign-in, a partner's test sign-in (`test_sign_ins::start`, whose
/// callback reports instead of signing in), or a landing (a deep link, a step-up).
pub async fn begin(state: &AppState, app_raw: &str, purpose: &Purpose, browser_id: Option<&str>, client: IpAddr, correlation_id: &str) -> Result<Begun, Failure> {
    let result = begin_for(state, app_raw, purpose, browser_id, client).await;
    if let Err(failure) = &result {
        note_failure(state, failure, correlation_id).await;
    }
    result
}

async fn begin_for(state: &AppState, app_raw: &str, purpose: &Purpose, browser_id: Option<&str>, client: IpAddr) -> Result<Begun, Failure> {
    let app: AppId = app_raw.parse().map_err(|_| Failure { app: None, error: SsoError::AppUnknown })?;
    let fail = |error| Failure { app: Some(app), error };
    if let Purpose::Test(test) = purpose
        && !super::test_sign_ins::is_pending(state, app, test).await.map_err(|e| fail(e.into()))?
    {
        return Err(fail(SsoError::StateUnknown));
    }
    // One read says whether the app is active and which configuration is current, whichever
    // process or replica changed them last; the connector this process opened for that
    // version is used as it is, else the configuration is read and opened. Made-up app ids
    // fail here, before the limiter.
    let connector = match state.store.app_status_and_version(app).await.map_err(|e| Failure { app: None, error: e.into() })? {
        None => return Err(Failure { app: None, error: SsoError::AppUnknown }),
        Some((AppStatus::Active, Some(version))) if let Some(open) = state.connectors.get(app, version) => open,
        Some((AppStatus::Active, _)) => current_connector(state, app).await?,
        Some(_) => return Err(fail(SsoError::AppSuspended)),
    };
    // Starts are paced per browser and address: they cost no row, but each is sealed and
    // may send a browser on to the partner's IdM.
    let browser_hash = browser_id.map(|b| sha256_hex(b.as_bytes()));
    state.cta_limiter.check(app, client, browser_hash.as_deref()).map_err(|retry_after| fail(SsoError::TooManySignIns { retry_after }))?;
    let new_browser_id = browser_id.is_none().then(|| url_safe_token(32));
    let browser_hash = browser_hash.unwrap_or_else(|| sha256_hex(new_browser_id.as_deref().unwrap_or_default().as_bytes()));
    let start = connector.begin_login(&idm::redirect_uri(state, app), purpose.options(state));
    let now = state.clock.now();
    let started = StartedLogin {
        browser_hash,
        config_version: connector.config_version(),
        expires_at: now + FLOW_SECONDS,
        private: purpose.sealed_with(&start.private),
    };
    let login_state = login_state::seal(&state.keyring, app, &started);
    state.metrics.sso_started.inc();
    // A partner's test is not one of its merchants' sign-ins.
    if !matches!(purpose, Purpose::Test(_)) {
        state.health.started(app, now);
    }
    Ok(Begun { redirect: start.url_with_state(&login_state), new_browser_id })
}

pub async fn complete(state: &AppState, app_raw: &str, params: &CallbackParams, browser_id: Option<&str>, correlation_id: &str) -> Result<Outcome, Failure> {
    let app: AppId = app_raw.parse().map_err(|_| Failure { app: None, error: SsoError::AppUnknown })?;
    let started = std::time::Instant::now();
    let result = complete_for(state, app, params, browser_id, correlation_id).await;
    let took = started.elapsed();
    state.metrics.sso_callback_seconds.observe(took.as_secs_f64());
    let now = state.clock.now();
    match result {
        Ok(Outcome::SignedIn(done)) => {
            // The event was written with the sign-in.
            count(state, sso_events::Outcome::Succeeded, None);
            state.health.succeeded(app, now);
            state.health.callback(app, now, took.as_millis() as u64);
            Ok(Outcome::SignedIn(done))
        }
        // A partner's own test: its report says everything, the merchants' log nothing.
        Ok(tested) => Ok(tested),
        Err(failure) => {
            if let Some(app) = note_failure(state, &failure, correlation_id).await {
                state.health.callback(app, now, took.as_millis() as u64);
            }
            Err(failure)
        }
    }
}

fn count(state: &AppState, outcome: sso_events::Outcome, code: Option<&str>) {
    state.metrics.sso_outcomes.with_label_values(&[outcome.as_str(), code.unwrap_or("")]).inc();
}

/// The app whose log (and health) a failure goes to: none for an unknown app, for starts
/// refused for pacing, and — past a few a minute — for callbacks matching none of the app's
/// logins (anyone can make those up): a flood must not push the partner's real events out.
fn logged_app(state: &AppState, failure: &Failure) -> Option<AppId> {
    match failure.error {
        SsoError::TooManySignIns { .. } => None,
        SsoError::StateMissing | SsoError::StateUnknown | SsoError::StateReplayed | SsoError::LinkExpired => {
            failure.app.filter(|app| state.cta_limiter.may_log_unmatched(*app))
        }
        _ => failure.app,
    }
}

/// A failure outside a login's start or callback (a deep link that is spent), counted and
/// logged like theirs.
pub async fn refused(state: &AppState, failure: Failure, correlation_id: &str) -> Failure {
    note_failure(state, &failure, correlation_id).await;
    failure
}

/// Counts a failed attempt (the metric counts every one) and writes it to its app's event
/// log and health; returns that app.
async fn note_failure(state: &AppState, failure: &Failure, correlation_id: &str) -> Option<AppId> {
    let code = failure.error.code();
    count(state, sso_events::Outcome::Failed, Some(&code));
    let app = logged_app(state, failure)?;
    state.health.failed(app, state.clock.now(), &code);
    if let Err(err) = sso_events::record(state, app, sso_events::Outcome::Failed, Some(&code), &event_detail(&failure.error), correlation_id).await {
        tracing::warn!(error = %err, "could not record an SSO event");
    }
    Some(app)
}

/// What the partner reads in its log: the hint, and what the IdM said (bounded), never
/// a code, token or secret.
fn event_detail(error: &SsoError) -> String {
    let bounded = crate::domain::values::visible;
    let extra = match error {
        SsoError::IdmError { error } => format!(" The IdM answered error={}.", bounded(error, 100)),
        SsoError::ClaimMissing(claim) => format!(" Missing: {}.", bounded(claim, 100)),
        SsoError::IdmUnavailable { detail } | SsoError::TokenEndpointFailed { detail } | SsoError::UserinfoFailed { detail } => {
            format!(" ({})", bounded(detail, 400))
        }
        _ => String::new(),
    };
    format!("{}{extra}", error.fix_hint())
}

async fn complete_for(state: &AppState, app: AppId, params: &CallbackParams, browser_id: Option<&str>, correlation_id: &str) -> Result<Outcome, Failure> {
    let fail = |error| Failure { app: Some(app), error };
    let Some(raw_state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        active_app(state, app).await?;
        return Err(fail(SsoError::StateMissing));
    };
    let Some(login) = login_state::open(&state.keyring, app, raw_state) else {
        // Not a state Causeway sealed for this app: an unknown or suspended app says so
        // rather than "unknown state".
        active_app(state, app).await?;
        return Err(fail(SsoError::StateUnknown));
    };
    let used = UsedState { hash: sha256_hex(raw_state.as_bytes()), expires_at: login.expires_at };
    let facts = state.store.callback_facts(app, &used.hash, used.expires_at).await.map_err(|e| fail(e.into()))?;
    let Some(facts) = facts else { return Err(Failure { app: None, error: SsoError::AppUnknown }) };
    if facts.used {
        return Err(fail(SsoError::StateReplayed));
    }
    let result = match facts.app_status {
        AppStatus::Active => finish(state, app, params, browser_id, &login, &used, correlation_id).await,
        _ => Err(fail(SsoError::AppSuspended)),
    };
    // However it ended, the state is spent, so an error answer cannot be replayed either. A
    // sign-in recorded it in its own write; one that found it recorded lost a race.
    let recorded = matches!(&result, Ok(Outcome::SignedIn(_)) | Err(Failure { error: SsoError::StateReplayed, .. }));
    if !recorded && let Err(err) = state.store.mark_state_used(&used.hash, used.expires_at).await {
        tracing::warn!(error = %err, "a used login state could not be recorded");
    }
    result
}

/// A callback of an active app whose state opened and was not used before: the checks
/// that need the login, the IdM's answer, and the sign-in.
async fn finish(
    state: &AppState,
    app: AppId,
    params: &CallbackParams,
    browser_id: Option<&str>,
    login: &StartedLogin,
    used: &UsedState,
    correlation_id: &str,
) -> Result<Outcome, Failure> {
    let fail = |error| Failure { app: Some(app), error };
    let now = state.clock.now();
    if now > login.expires_at {
        return Err(fail(SsoError::StateExpired));
    }
    if browser_id.map(|b| sha256_hex(b.as_bytes())).as_deref() != Some(login.browser_hash.as_str()) {
        return Err(fail(SsoError::FlowOtherBrowser));
    }
    // Only now is the answer known to come back to the browser that started the login:
    // the IdM's error text (outsider text until then) is worth recording.
    if let Some(error) = &params.error {
        return Err(fail(SsoError::IdmError { error: error.clone() }));
    }
    // The configuration the login started with: a partner's edit meanwhile applies to the
    // next login, not to this one. Versions never change once written, so an open one is
    // used as it is.
    let connector = match state.connectors.get(app, login.config_version) {
        Some(open) => open,
        None => {
            let config = state.store.idm_version(app, login.config_version).await.map_err(|e| fail(e.into()))?;
            connector_for(state, app, Some(config)).await.map_err(fail)?
        }
    };
    let redirect_uri = idm::redirect_uri(state, app);
    let ctx = Context { client: &state.outbound, jwks: &state.jwks, app, now, redirect_uri: &redirect_uri };
    let callback = Callback { code: params.code.as_deref(), iss: params.iss.as_deref() };
    let (purpose, inner) = Purpose::opened(login.private.expose_secret());
    let inner = SecretString::from(inner.to_owned());
    let landing = match purpose {
        Purpose::Test(test) => {
            let inspection = connector.inspect_login(ctx, callback, &inner).await;
            super::test_sign_ins::finish(state, app, &test, inspection, connector.identity_policy()).await.map_err(|e| fail(e.into()))?;
            return Ok(Outcome::Tested { app, id: test });
        }
        Purpose::Land(landing) => Some(landing),
        Purpose::SignIn => None,
    };
    let completion = connector.complete_login(ctx, callback, &inner).await.map_err(|e| fail(catalog(e)))?;
    state.metrics.token_endpoint_seconds.observe(completion.exchange_took.as_secs_f64());
    state.health.token_endpoint(app, now, completion.exchange_took.as_millis() as u64);
    if let Some(iat) = completion.identity.primary.get("iat").and_then(serde_json::Value::as_f64) {
        state.health.clock_offset(app, now, now.saturating_sub(iat as i64));
    }
    let person = connector.identity_policy().person(&completion.identity).map_err(fail)?;
    let authenticated_at = crate::domain::landing::authenticated_at(completion.identity.primary.get("auth_time"), now);
    if let Some(Landing { step_up: true, .. }) = landing
        && !crate::domain::landing::recent_enough(authenticated_at, now, state.settings.step_up_seconds)
    {
        return Err(fail(SsoError::StepUpRequired));
    }
    let mut access = access::resolve(state, app, &person).await.map_err(fail)?;
    if let Some(landing) = landing {
        access = access::only(access, landing.account).map_err(fail)?;
    }
    let session = provisioning::SessionFacts {
        logout_hint: completion.logout_hint.as_ref(),
        sign_out_origins: &connector.sign_out_origins(),
        idm_sid: idm_sid(&completion.identity.primary),
        authenticated_at,
        used_state: used,
    };
    let signed_in = provisioning::sign_in(state, app, &person, access, &session, correlation_id).await.map_err(fail)?;
    Ok(Outcome::SignedIn(Completed { app, session_id: signed_in.session_id, choosing: signed_in.choosing, landing }))
}

/// The IdM's session id from the ID token (OIDC Front/Back-Channel Logout `sid`), when it
/// is a plain string of sane length: the key a back-channel logout names sessions by.
fn idm_sid(claims: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let sid = claims.get("sid")?.as_str()?;
    (!sid.is_empty() && sid.len() <= 255 && crate::domain::values::visible(sid, 255) == sid).then(|| sid.to_owned())
}

/// Where a merchant goes after logout: through the IdM's end-session endpoint when it has
/// one, else straight to the partner's logout URL.
pub async fn logout_target(state: &AppState, app: AppId, hint: Option<&SecretString>) -> String {
    let current = match state.store.current_idm_version(app).await {
        Ok(current) => current,
        Err(_) => return "/merchant-center".to_owned(),
    };
    match connector_for(state, app, current).await {
        Ok(connector) => connector.sign_out_url(hint),
        Err(_) => "/merchant-center".to_owned(),
    }
}
