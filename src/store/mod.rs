//! Persistence on SQLite (embedded default) or PostgreSQL, chosen by the URL scheme.
//!
//! Queries are written once in SQL both backends accept and run through sqlx's `Any`
//! driver; what differs between backends (pool shape, pragmas, migrations) stays here.

pub mod accounts;
pub mod apps;
pub mod audit;
pub mod brandings;
pub mod error;
pub mod flows;
pub mod grants;
pub mod health;
pub mod idempotency;
pub mod idm_configs;
pub mod idm_monitor;
pub mod legal_entities;
pub mod limits;
pub mod merchant_center;
pub mod merchants;
pub mod partner_sessions;
pub mod sso_events;
pub mod session_lifecycle;
pub mod test_sign_ins;
mod inline;
mod migrations;
mod request_path;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use inline::Inline;
pub use error::StoreError;

/// A pooled PostgreSQL connection idle this long is pinged before it is used again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// Handle to the database. Cheap to clone.
///
/// SQLite allows one writer at a time; letting several pooled connections race for the
/// write lock makes them sleep in SQLite's busy handler, so writes go through a pool of
/// one connection and reads through the others. PostgreSQL uses one pool for both.
/// On a SQLite file, the request path's statements skip the pools (`inline`).
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    reader: AnyPool,
    writer: AnyPool,
    inline: Option<Arc<Inline>>,
}

#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub pool_size: u32,
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { pool_size: 8, acquire_timeout: Duration::from_secs(5) }
    }
}

impl Store {
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).ok_or_else(|| StoreError::Config(
            "CAUSEWAY_DATABASE_URL must start with sqlite: or postgres://".into(),
        ))?;
        let connect = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = |size: u32| {
            AnyPoolOptions::new()
                .max_connections(size)
                .acquire_timeout(options.acquire_timeout)
                // A ping guards against connections a server dropped (a restart, an idle
                // timeout on the way): only for connections idle a while — a ping before every
                // use doubled the round trips of a busy replica (measured: onboarding on
                // PostgreSQL). An embedded SQLite file drops none.
                .test_before_acquire(false)
                .before_acquire(move |conn, meta| {
                    Box::pin(async move {
                        if backend == Backend::Postgres && meta.idle_for >= PING_AFTER_IDLE {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // WAL lets readers proceed while the writer commits; NORMAL sync is
                            // durable across application crashes, which is what WAL mode needs.
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;").await?;
                        }
                        Ok(())
                    })
                })
        };
        let store = match backend {
            Backend::Sqlite => {
                let writer = pool(1).connect_with(connect.clone()).await?;
                let reader = pool(options.pool_size.max(1)).connect_with(connect).await?;
                let inline = match sqlite_file(url)? {
                    Some(file) => Some(Arc::new(Inline::open(&file, options.pool_size as usize)?)),
                    None => None,
                };
                Self { backend, reader, writer, inline }
            }
            Backend::Postgres => {
                let shared = pool(options.pool_size.max(2)).connect_with(connect).await?;
                Self { backend, reader: shared.clone(), writer: shared, inline: None }
            }
        };
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; safe to call from several replicas at once
    /// (PostgreSQL takes an advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::for_backend(self.backend).run(&self.writer).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.reader
    }

    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Whether the request path writes inline (a SQLite file): the log then needs
    /// `checkpoint` calls.
    pub fn writes_inline(&self) -> bool {
        self.inline.is_some()
    }

    /// Copies what the write-ahead log holds into the database file, without waiting for
    /// readers (SQLite's PASSIVE mode), on the pool's writer.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.writer).await?;
        Ok(())
    }

    /// Inline reads and writes, on a SQLite file.
    pub(crate) fn inline(&self) -> Option<&Inline> {
        self.inline.as_deref()
    }
}

/// The database file a SQLite URL names; `None` for an in-memory database, which other
/// connections cannot open.
fn sqlite_file(url: &str) -> Result<Option<std::path::PathBuf>, StoreError> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let file = options.get_filename();
    let in_memory = file.as_os_str().is_empty() || file.as_os_str() == ":memory:" || url.contains("mode=memory");
    Ok((!in_memory).then(|| file.to_path_buf()))
}
