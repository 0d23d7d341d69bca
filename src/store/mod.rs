//! Persistence on SQLite (embedded default) or PostgreSQL, chosen by the URL scheme.
//!
//! Queries are written once in SQL both backends accept and run through sqlx's `Any`
//! driver; what differs between backends (pool shape, pragmas, migrations) stays here.

pub mod accounts;
pub mod apps;
pub mod audit;
pub mod brandings;
pub mod error;
pub mod grants;
pub mod health;
pub mod idempotency;
pub mod idm_configs;
pub mod idm_monitor;
pub mod legal_entities;
pub mod limits;
pub mod login_states;
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

/// A SQLite write-ahead log longer than this many frames (4 KiB pages) is started over at
/// the next checkpoint: 256 MiB, about two seconds of sign-ins at full load on 2 cores.
/// Each restart holds writes back for 13–33 ms (measured); a bound of 16 MiB restarted
/// every second and took the p99 of a login at 32 browsers from 21 to 35–65 ms.
const RESTART_FRAMES: i64 = 65536;

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
    logged_apps: Arc<sso_events::LoggedApps>,
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
        let file = match backend {
            Backend::Sqlite => sqlite_file(url)?,
            Backend::Postgres => None,
        };
        // With requests inline, sqlx's connections do the background and admin work:
        // - no checkpoint after their commits: sqlx's writer goes first (`inline_writes_wait`),
        //   so a checkpoint SQLite ran after its commit would hold every inline write back for
        //   as long — past 1,000 frames in the log, after each replica heartbeat or health
        //   flush: under load, always (a login's p99 at 1,000 logins/s due was 54–66 ms, 27–32
        //   without). The server checkpoints (`checkpoint`), and so does the last connection
        //   to close;
        // - 256 KiB of pages each instead of SQLite's default 2 MB: after the minute's sweep
        //   two had grown the server from 58 to 61–63 MB (the bar is 64); the nine now stay
        //   under 2.5 MB, and onboarding cost the same (200–208 µs per pair either way).
        let background_only = file.is_some();
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
                            if background_only {
                                conn.execute("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -256;").await?;
                            }
                        }
                        Ok(())
                    })
                })
        };
        let store = match backend {
            Backend::Sqlite => {
                let writer = pool(1).connect_with(connect.clone()).await?;
                let reader = pool(options.pool_size.max(1)).connect_with(connect).await?;
                let inline = match file {
                    Some(file) => Some(Arc::new(Inline::open(&file, options.pool_size as usize)?)),
                    None => None,
                };
                Self { backend, reader, writer, inline, logged_apps: Arc::default() }
            }
            Backend::Postgres => {
                let shared = pool(options.pool_size.max(2)).connect_with(connect).await?;
                Self { backend, reader: shared.clone(), writer: shared, inline: None, logged_apps: Arc::default() }
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

    /// Copies what the write-ahead log holds into the database file and keeps the log from
    /// growing without end.
    ///
    /// A PASSIVE checkpoint waits for nobody, but SQLite starts the log over only when a
    /// writer began with every frame copied and finds no reader inside the log
    /// (https://sqlite.org/wal.html#avoiding_excessively_large_wal_files). Under a steady
    /// stream of sign-ins that moment never comes: the log grew by about 150 MB a second
    /// (5.7 GB after 40 s of logins at 32 browsers). Past `RESTART_FRAMES` the checkpoint
    /// is a RESTART instead: it holds new writes back until the readers inside the log are
    /// done (single statements), so the next write starts the log over.
    ///
    /// The PASSIVE pass runs on a reader connection, so that inline writes go on meanwhile;
    /// the RESTART on sqlx's writer, so that they wait for it (`inline_writes_wait`).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        self.checkpoint_restarting_past(RESTART_FRAMES).await
    }

    async fn checkpoint_restarting_past(&self, restart_frames: i64) -> Result<(), StoreError> {
        let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&self.reader).await?;
        if frames > restart_frames {
            let started = std::time::Instant::now();
            sqlx::query("PRAGMA wal_checkpoint(RESTART)").execute(&self.writer).await?;
            tracing::debug!(frames, ms = started.elapsed().as_millis() as u64, "checkpoint restarted the log");
        }
        Ok(())
    }

    /// Whether an inline write should first wait for sqlx's writer: while that writer's one
    /// connection is out of its pool, a write through it is running or about to. Left to
    /// race a stream of inline writes for the lock, it sleeps in SQLite's busy handler (1,
    /// 2, 5, 10 … 100 ms between tries: one series of 430 ms was seen under load), and every
    /// write queued behind it waits as long. So inline writes wait until it is back in its
    /// pool (`write_rows`).
    ///
    /// "Out" is any idle count other than the pool's size: sqlx hands a released
    /// connection to a waiting task before it counts it idle, and that task's count comes
    /// first, so for a moment the count wraps below zero while the connection is out.
    pub(crate) fn inline_writes_wait(&self) -> bool {
        self.writer.num_idle() != self.writer.size() as usize
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

/// A store on a new SQLite file in `dir`, as `serve` opens one (requests inline), not
/// migrated: for the store's own unit tests.
#[cfg(test)]
pub(crate) async fn scratch_store(dir: &tempfile::TempDir, file: &str) -> Store {
    Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join(file).display()), &StoreOptions::default()).await.unwrap()
}

/// A new active partner app in `store` (migrated at least to 0001), for rows that need one.
#[cfg(test)]
pub(crate) async fn scratch_app(store: &Store) -> crate::domain::ids::AppId {
    let id = crate::domain::ids::AppId::new();
    let app = apps::AppRow {
        id,
        name: "Scratch".into(),
        status: crate::domain::app::AppStatus::Active,
        token_hash: id.to_string(),
        token_prefix: "p".into(),
        token_created_at: 0,
        token_last_used_at: None,
        created_at: 0,
    };
    store.insert_app(&app).await.unwrap();
    id
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// Inline writes and reads that never pause, as under a steady stream of sign-ins, and
    /// a checkpoint every few milliseconds: the log's file stays near its bound (with
    /// PASSIVE checkpoints alone it grew by every write).
    #[tokio::test(flavor = "multi_thread", worker_threads = 3)]
    async fn a_log_that_readers_never_leave_is_started_over_past_its_bound() {
        const WRITES: usize = 6000;
        const BOUND_FRAMES: i64 = 100;
        let dir = tempfile::tempdir().unwrap();
        let store = scratch_store(&dir, "wal.db").await;
        assert!(store.writes_inline());
        sqlx::query("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").execute(store.writer()).await.unwrap();

        let done = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn({
            let (store, done) = (store.clone(), done.clone());
            async move {
                let mut id = 0;
                while !done.load(Ordering::Relaxed) {
                    id += 1;
                    store.read_rows("SELECT body FROM scratch WHERE id = $1", &[(id % 1000).into()], |_| Ok(())).await.unwrap();
                    tokio::task::yield_now().await;
                }
            }
        });
        let writer = tokio::spawn({
            let store = store.clone();
            async move {
                let body = "x".repeat(3000);
                for _ in 0..WRITES {
                    store.write_rows("INSERT INTO scratch (body) VALUES ($1)", &[body.as_str().into()], |_| Ok(())).await.unwrap();
                    tokio::task::yield_now().await;
                }
            }
        });
        while !writer.is_finished() {
            store.checkpoint_restarting_past(BOUND_FRAMES).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        done.store(true, Ordering::Relaxed);
        writer.await.unwrap();
        reader.await.unwrap();

        let (written,): (i64,) = sqlx::query_as("SELECT count(*) FROM scratch").fetch_one(store.reader()).await.unwrap();
        assert_eq!(written, WRITES as i64);
        // Every write is at least one 4 KiB frame: unbounded, the log passes 70 MB (measured;
        // 1–3 MB bounded).
        let log = std::fs::metadata(dir.path().join("wal.db-wal")).unwrap().len();
        assert!(log < 16 << 20, "the log grew to {log} bytes");
    }

    /// While sqlx's writer is out of its pool, an inline write waits instead of racing it
    /// for the lock, and lands once it is back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_inline_write_waits_its_turn_while_sqlx_writer_is_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = scratch_store(&dir, "turn.db").await;
        sqlx::query("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").execute(store.writer()).await.unwrap();
        let count = || async { sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM scratch").fetch_one(store.reader()).await.unwrap().0 };

        let held = store.writer().acquire().await.unwrap();
        let write = tokio::spawn({
            let store = store.clone();
            async move { store.write_rows("INSERT INTO scratch (body) VALUES ($1)", &["queued".into()], |_| Ok(())).await }
        });
        // Inline, with the lock free, the write would take microseconds.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!write.is_finished(), "the inline write went ahead of sqlx's writer");
        assert_eq!(count().await, 0);

        drop(held);
        write.await.unwrap().unwrap();
        assert_eq!(count().await, 1);
    }
}
