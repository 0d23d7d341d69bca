//! Builds the application: database, state, routes, listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::endpoint::make_sync;
use poem::middleware::AddData;
use poem::{Endpoint, EndpointExt, Response, Route};
use tokio::net::TcpListener;

use crate::api;
use crate::api::error::render_poem_error;
use crate::rate_limit::{AppRateLimiter, CtaLimiter, CtaRates};
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keyring::{key_file_for_sqlite_url, KeySource, Keyring};
use crate::federation::cache::ConnectorCache;
use crate::federation::http::OutboundClient;
use crate::federation::jwks::{JwksCache, JwksPolicy};
use crate::state::AppState;
use crate::store::sso_events::PruneScope;
use crate::store::{Backend, Store, StoreOptions};
use crate::web;

/// How often expired idempotency records, SSO flows, sessions and throttle windows, and
/// old SSO events are deleted: flows never completed live at most this much past expiry.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Every this many sweeps, the event log's retention walks the whole log (hourly).
const WHOLE_LOG_EVERY: u32 = 60;
/// A replica not heard from for this many heartbeats no longer counts in the quota shares.
const HEARTBEATS_MISSED: i64 = 3;

pub struct Application {
    state: AppState,
    listener: TcpListener,
    local_addr: SocketAddr,
}

/// Opens the database named by the settings and applies migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    use secrecy::ExposeSecret;
    let options = StoreOptions { pool_size: settings.db_pool_size, ..StoreOptions::default() };
    let store = Store::connect(settings.database_url.expose_secret(), &options).await?;
    store.migrate().await?;
    Ok(store)
}

/// The master keyring: from the environment, or from a key file beside a SQLite database
/// (created on first run). PostgreSQL deployments must set CAUSEWAY_MASTER_KEY.
pub fn load_keyring(settings: &Settings) -> anyhow::Result<Keyring> {
    use secrecy::ExposeSecret;
    let key_file = match Backend::of_url(settings.database_url.expose_secret()) {
        Some(Backend::Sqlite) => key_file_for_sqlite_url(settings.database_url.expose_secret()),
        _ => None,
    };
    let (keyring, created) = Keyring::load(settings.master_key.as_ref(), settings.master_key_previous.as_ref(), key_file.as_deref())?;
    if created
        && let KeySource::File(path) = &keyring.source {
            tracing::warn!(path = %path.display(), "generated a new master key file (0600); back it up with the database: secrets cannot be read without it");
        }
    Ok(keyring)
}

/// Binds `addr` (port 0 takes a free port), saying which setting to change when it is taken.
pub async fn bind(addr: SocketAddr, variable: &str) -> anyhow::Result<TcpListener> {
    use anyhow::Context;
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}; set {variable} to another address (127.0.0.1:0 takes any free port)"))
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let listener = bind(settings.listen, "CAUSEWAY_LISTEN").await?;
        Self::build_on(settings, clock, listener).await
    }

    /// Builds on a listener the caller bound already: `causeway demo` must know the real
    /// port (CAUSEWAY_LISTEN may say port 0) before it can set the public URL.
    pub async fn build_on(settings: Settings, clock: Clock, listener: TcpListener) -> anyhow::Result<Self> {
        let local_addr = listener.local_addr()?;
        let store = open_store(&settings).await?;
        let keyring = Arc::new(load_keyring(&settings)?);
        let outbound = OutboundClient::new(settings.url_policy(), settings.idm_timeout)?;
        let state = AppState {
            store,
            clock,
            keyring,
            outbound,
            connectors: Arc::new(ConnectorCache::default()),
            jwks: Arc::new(JwksCache::new(JwksPolicy::default())),
            metrics: Arc::new(crate::metrics::Metrics::new()?),
            health: Arc::default(),
            recent_callers: Arc::default(),
            rate_limiter: Arc::new(AppRateLimiter::new(settings.api_rate_per_second, settings.api_rate_burst, settings.api_failed_auth_per_minute)),
            cta_limiter: Arc::new(CtaLimiter::new(CtaRates {
                per_minute: settings.cta_rate_per_minute,
                per_app_per_second: settings.cta_rate_per_app_per_second,
            })),
            settings: Arc::new(settings),
        };
        Ok(Self { state, listener, local_addr })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()> + Send) -> std::io::Result<()> {
        let sweeper = tokio::spawn(sweep_forever(self.state.clone()));
        let replica = uuid::Uuid::new_v4().to_string();
        let heartbeat = tokio::spawn(heartbeat_forever(self.state.clone(), replica.clone()));
        let checkpointer = tokio::spawn(checkpoint_forever(self.state.clone()));
        let health = tokio::spawn(flush_health_forever(self.state.clone()));
        let monitor = tokio::spawn(crate::services::idm_monitor::monitor_forever(self.state.clone()));
        let app = routes(self.state.clone());
        let result = web::server::serve(self.listener, app, self.state.settings.server_limits(), shutdown).await;
        sweeper.abort();
        heartbeat.abort();
        checkpointer.abort();
        health.abort();
        monitor.abort();
        // What was counted since the last flush, before the store closes.
        crate::services::health::flush(&self.state).await;
        if self.state.store.backend() == Backend::Postgres
            && let Err(err) = self.state.store.replica_gone(&replica).await
        {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "could not sign this replica off");
        }
        self.state.store.close().await;
        result
    }
}

/// Forms of the web pages are small; the API takes up to `CAUSEWAY_MAX_BODY_BYTES`.
const FORM_MAX_BYTES: usize = 64 * 1024;
/// The sign-out form carries one token.
const SSO_FORM_MAX_BYTES: usize = 16 * 1024;

pub fn routes(state: AppState) -> impl Endpoint<Output = Response> {
    use web::body_limit::{refuse_page, BodyLimit};
    let metrics = state.metrics.clone();
    let body_deadline = Duration::from_secs(state.settings.body_read_timeout_seconds);
    let pages = |max| BodyLimit::new(max, body_deadline, refuse_page);
    let api_limit = BodyLimit::new(state.settings.max_body_bytes, body_deadline, |_, limit| {
        use poem::IntoResponse;
        crate::api::error::ApiError::too_large(limit).into_response()
    });
    let api = api::service(&state.settings.public_url);
    let spec = api::spec::document(&state.settings.public_url);
    // Swagger UI shows the document partners get, not poem-openapi's draft of it.
    let docs = api.swagger_ui_html().replacen(&api.spec(), &spec, 1);
    Route::new()
        .at("/healthz", web::health::healthz)
        .at("/readyz", web::health::readyz)
        .at("/metrics", web::metrics::serve)
        .at(
            "/openapi.json",
            make_sync(move |_| Response::builder().content_type("application/json").body(spec.clone())),
        )
        .at("/docs", make_sync(move |_| poem::web::Html(docs.clone())))
        // Before the API: the Partner Center renders its own errors as HTML pages.
        .nest(crate::partner_center::BASE_PATH, crate::partner_center::routes().with(pages(FORM_MAX_BYTES)))
        .nest("/assets", web::assets::routes())
        .nest("/sso", crate::sso::routes().with(pages(SSO_FORM_MAX_BYTES)))
        .nest("/merchant-center", crate::portal::routes().with(pages(FORM_MAX_BYTES)))
        .nest("/brand", crate::portal::brand_routes())
        .nest("/", api.around(api::refuse_unreadable_unique_key).with(api_limit))
        .with(AddData::new(state))
        .catch_all_error(|err| async move { render_poem_error(err) })
        .around(crate::portal::off_path::pages_for_browsers)
        .around(move |next, req| web::correlation::log_requests(next, req, metrics.clone()))
        .map_to_response()
}

/// On PostgreSQL, several replicas may share the database: each says it is alive, and
/// enforces its share of the API and sign-in quotas.
async fn heartbeat_forever(state: AppState, replica: String) {
    if state.store.backend() != Backend::Postgres {
        return;
    }
    let every = state.settings.replica_heartbeat_seconds;
    let mut tick = tokio::time::interval(Duration::from_secs(every));
    loop {
        tick.tick().await;
        let now = state.clock.now();
        match state.store.replica_heartbeat(&replica, now, now - HEARTBEATS_MISSED * every as i64).await {
            Ok(replicas) => {
                state.rate_limiter.share_among(replicas);
                state.cta_limiter.share_among(replicas);
            }
            Err(err) => tracing::warn!(error = %crate::api::error::ErrorChain(&err), "replica heartbeat failed"),
        }
    }
}

/// On SQLite, copies the write-ahead log back into the database file every second, on sqlx's
/// threads: the request path's inline writes never checkpoint themselves (it would stall a
/// runtime thread), nor do sqlx's connections (`Store::connect`), so the log would otherwise
/// only grow. Past its bound
/// the checkpoint also starts the log over (`Store::checkpoint`).
async fn checkpoint_forever(state: AppState) {
    if !state.store.writes_inline() {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = state.store.checkpoint().await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "WAL checkpoint failed");
        }
    }
}

/// Adds this replica's sign-in health counts to the database every few seconds.
async fn flush_health_forever(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        crate::services::health::flush(&state).await;
    }
}

async fn sweep_forever(state: AppState) {
    // The first sweep comes one period after start, not at once: nothing is due yet.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + SWEEP_EVERY, SWEEP_EVERY);
    let mut sweeps: u32 = 0;
    loop {
        tick.tick().await;
        let cutoff = state.clock.now() - state.settings.idempotency_ttl_seconds;
        match state.store.sweep_idempotency_keys(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired idempotency keys swept"),
            Err(err) => tracing::warn!(error = %crate::api::error::ErrorChain(&err), "idempotency sweep failed"),
        }
        // The whole log at the first sweep and once an hour: events other processes logged
        // (a replica that stopped since) are bounded too; in between, the apps logged here.
        let scope = if sweeps.is_multiple_of(WHOLE_LOG_EVERY) { PruneScope::Everywhere } else { PruneScope::LoggedHere };
        sweeps += 1;
        if let Err(err) = state.store.prune_sso_events(state.settings.sso_events_kept, scope).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "SSO event pruning failed");
        }
        // Used states stay a day past their flow's expiry, so a late replay is still named
        // a replay.
        let now = state.clock.now();
        if let Err(err) = state.store.sweep_used_states(now - 86_400).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "used login state sweep failed");
        }
        if let Err(err) = state.store.prune_health_counts(crate::domain::health::hour_of(now) - 8 * 24 * 3600).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "health counts pruning failed");
        }
        if let Err(err) = state.store.sweep_test_sign_ins(now).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "test sign-in sweep failed");
        }
        if let Err(err) = state.store.sweep_throttles(now - 2 * crate::services::sign_in_throttle::WINDOW_SECONDS).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "throttle sweep failed");
        }
        state.cta_limiter.prune();
        state.rate_limiter.prune();
        if let Err(err) = state.store.sweep_session_lifecycle(now).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "logout token and deep link sweep failed");
        }
        if let Err(err) = state.store.sweep_merchant_sessions(now).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "merchant session sweep failed");
        }
    }
}
