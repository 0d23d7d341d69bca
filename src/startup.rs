//! Builds the application: database, state, routes, listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::endpoint::make_sync;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::AddData;
use poem::{Endpoint, EndpointExt, Response, Route, Server};

use crate::api;
use crate::api::error::render_poem_error;
use crate::rate_limit::AppRateLimiter;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keyring::{key_file_for_sqlite_url, KeySource, Keyring};
use crate::federation::cache::ConnectorCache;
use crate::federation::http::OutboundClient;
use crate::federation::jwks::{JwksCache, JwksPolicy};
use crate::state::AppState;
use crate::store::{Backend, Store, StoreOptions};
use crate::web;

/// How often expired idempotency records, SSO flows and sessions, and old SSO events are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

pub struct Application {
    state: AppState,
    acceptor: TcpAcceptor,
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

/// The address a bound listener actually got (port 0 becomes the port the OS chose).
pub fn bound_address(acceptor: &TcpAcceptor) -> anyhow::Result<SocketAddr> {
    acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .ok_or_else(|| anyhow::anyhow!("listener has no socket address"))
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let acceptor = TcpListener::bind(settings.listen).into_acceptor().await?;
        Self::build_on(settings, clock, acceptor).await
    }

    /// Builds on a listener the caller bound already: `causeway demo` must know the real
    /// port (CAUSEWAY_LISTEN may say port 0) before it can set the public URL.
    pub async fn build_on(settings: Settings, clock: Clock, acceptor: TcpAcceptor) -> anyhow::Result<Self> {
        let local_addr = bound_address(&acceptor)?;
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
            rate_limiter: Arc::new(AppRateLimiter::new(settings.api_rate_per_second, settings.api_rate_burst)),
            settings: Arc::new(settings),
        };
        Ok(Self { state, acceptor, local_addr })
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
        let app = routes(self.state.clone());
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(10)))
            .await;
        sweeper.abort();
        self.state.store.close().await;
        result
    }
}

pub fn routes(state: AppState) -> impl Endpoint<Output = Response> {
    let metrics = state.metrics.clone();
    let api = api::service();
    let docs = api.swagger_ui();
    let spec = api.spec();
    Route::new()
        .at("/healthz", web::health::healthz)
        .at("/readyz", web::health::readyz)
        .at("/metrics", web::metrics::serve)
        .at(
            "/openapi.json",
            make_sync(move |_| Response::builder().content_type("application/json").body(spec.clone())),
        )
        .nest("/docs", docs)
        // Before the API: the Partner Center renders its own errors as HTML pages.
        .nest(crate::partner_center::BASE_PATH, crate::partner_center::routes())
        .nest("/assets", web::assets::routes())
        .nest("/sso", crate::sso::routes())
        .nest("/merchant-center", crate::portal::routes())
        .nest("/brand", crate::portal::brand_routes())
        .nest("/", api)
        .with(AddData::new(state))
        .catch_all_error(|err| async move { render_poem_error(err) })
        .around(move |next, req| web::correlation::log_requests(next, req, metrics.clone()))
        .map_to_response()
}

async fn sweep_forever(state: AppState) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        let cutoff = state.clock.now() - state.settings.idempotency_ttl_seconds;
        match state.store.sweep_idempotency_keys(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired idempotency keys swept"),
            Err(err) => tracing::warn!(error = %crate::api::error::ErrorChain(&err), "idempotency sweep failed"),
        }
        if let Err(err) = state.store.prune_sso_events(state.settings.sso_events_kept).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "SSO event pruning failed");
        }
        // Used flows stay a day as tombstones, so a late replay is still named a replay.
        let now = state.clock.now();
        if let Err(err) = state.store.sweep_flows(now - 86_400).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "SSO flow sweep failed");
        }
        if let Err(err) = state.store.sweep_merchant_sessions(now).await {
            tracing::warn!(error = %crate::api::error::ErrorChain(&err), "merchant session sweep failed");
        }
    }
}
