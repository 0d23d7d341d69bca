//! Builds the application: database, state, routes, listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::endpoint::make_sync;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::middleware::AddData;
use poem::{Endpoint, EndpointExt, Response, Route, Server};

use crate::api;
use crate::api::error::render_poem_error;
use crate::api::rate_limit::AppRateLimiter;
use crate::clock::Clock;
use crate::config::Settings;
use crate::state::AppState;
use crate::store::{Store, StoreOptions};
use crate::web;

/// How often expired idempotency records are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

pub struct Application {
    state: AppState,
    acceptor: poem::listener::TcpAcceptor,
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

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let store = open_store(&settings).await?;
        let state = AppState {
            store,
            clock,
            rate_limiter: Arc::new(AppRateLimiter::new(settings.api_rate_per_second, settings.api_rate_burst)),
            settings: Arc::new(settings),
        };
        let acceptor = TcpListener::bind(state.settings.listen).into_acceptor().await?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
            .ok_or_else(|| anyhow::anyhow!("listener has no socket address"))?;
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
    let api = api::service();
    let docs = api.swagger_ui();
    let spec = api.spec();
    Route::new()
        .at("/healthz", web::health::healthz)
        .at("/readyz", web::health::readyz)
        .at(
            "/openapi.json",
            make_sync(move |_| Response::builder().content_type("application/json").body(spec.clone())),
        )
        .nest("/docs", docs)
        .nest("/", api)
        .with(AddData::new(state))
        .catch_all_error(|err| async move { render_poem_error(err) })
        .around(web::correlation::log_requests)
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
    }
}
