#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("record not found")]
    NotFound,
    /// A write that checks its caller's credential itself found the app suspended or the
    /// token rotated away: nothing was written.
    #[error("the caller's credential is no longer valid")]
    CredentialRefused,
    /// A uniqueness or foreign-key constraint refused the write.
    #[error("constraint {constraint} refused the write")]
    Conflict { constraint: String },
    #[error("database row is malformed: {0}")]
    Corrupt(String),
    #[error("database error")]
    Backend(#[source] sqlx::Error),
    /// SQLite was locked by another connection and the statement did not wait (inline
    /// writes, `inline`): nothing was written.
    #[error("database locked")]
    Busy,
    #[error("database error")]
    Sqlite(#[source] rusqlite::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Constraint violations become `Conflict` here, once, instead of in every query.
impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = err {
            return Self::NotFound;
        }
        if let Some(db) = err.as_database_error()
            && (db.is_unique_violation() || db.is_foreign_key_violation()) {
                return Self::Conflict { constraint: db.constraint().unwrap_or("unknown").to_owned() };
            }
        Self::Backend(err)
    }
}

impl StoreError {
    /// The database could not be reached or is going away (a restart, a failover, a full
    /// pool): the request did not happen and may be retried shortly, unlike a real error.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Backend(err) => match err {
                sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
                // PostgreSQL (Appendix A): class 08 connection exceptions, 57P01–57P03 an
                // administrator's shutdown or a server starting up, 53300 too many connections.
                sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")),
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether `err` or any error under it is a [`StoreError::is_unavailable`] one.
    pub fn unavailable_in(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(err);
        while let Some(err) = next {
            if err.downcast_ref::<StoreError>().is_some_and(StoreError::is_unavailable) {
                return true;
            }
            next = err.source();
        }
        false
    }
}

/// Runs `append` until no uniqueness conflict refuses it: for appends that pick the next
/// number of a sequence (a version, a chain's entry) and may race another replica for it.
/// Each retry loses only to an append that committed meanwhile; the bound keeps a
/// pathological storm from looping forever.
pub(crate) async fn retry_on_conflict<T, F, Fut>(mut append: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    const ATTEMPTS: u32 = 64;
    let mut attempt = 0;
    loop {
        match append().await {
            Err(StoreError::Conflict { .. }) if attempt < ATTEMPTS => attempt += 1,
            done => return done,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &err {
            rusqlite::Error::QueryReturnedNoRows => Self::NotFound,
            rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Self::Busy,
                ErrorCode::ConstraintViolation => Self::Conflict { constraint: "unknown".to_owned() },
                _ => Self::Sqlite(err),
            },
            _ => Self::Sqlite(err),
        }
    }
}

/// A result row of either driver: sqlx's (`Any`) or rusqlite's (inline statements on SQLite),
/// so each query's row is decoded by one function whichever ran it.
pub(crate) trait Row {
    fn get_text(&self, name: &str) -> Result<Option<String>, String>;
    fn get_int(&self, name: &str) -> Result<Option<i64>, String>;
}

impl Row for sqlx::any::AnyRow {
    fn get_text(&self, name: &str) -> Result<Option<String>, String> {
        sqlx::Row::try_get(self, name).map_err(|err| err.to_string())
    }

    fn get_int(&self, name: &str) -> Result<Option<i64>, String> {
        sqlx::Row::try_get(self, name).map_err(|err| err.to_string())
    }
}

/// The column types the store reads.
pub(crate) trait FromColumn: Sized {
    fn from_column(row: &(impl Row + ?Sized), name: &str) -> Result<Self, String>;
}

impl FromColumn for Option<String> {
    fn from_column(row: &(impl Row + ?Sized), name: &str) -> Result<Self, String> {
        row.get_text(name)
    }
}

impl FromColumn for Option<i64> {
    fn from_column(row: &(impl Row + ?Sized), name: &str) -> Result<Self, String> {
        row.get_int(name)
    }
}

impl FromColumn for String {
    fn from_column(row: &(impl Row + ?Sized), name: &str) -> Result<Self, String> {
        row.get_text(name)?.ok_or_else(|| "unexpected NULL".to_owned())
    }
}

impl FromColumn for i64 {
    fn from_column(row: &(impl Row + ?Sized), name: &str) -> Result<Self, String> {
        row.get_int(name)?.ok_or_else(|| "unexpected NULL".to_owned())
    }
}

/// Reads a column, turning a type mismatch into `Corrupt` rather than a panic.
pub(crate) fn column<T: FromColumn>(row: &(impl Row + ?Sized), name: &str) -> Result<T, StoreError> {
    T::from_column(row, name).map_err(|err| StoreError::Corrupt(format!("{name}: {err}")))
}

/// Parses a text column into a typed value (ids, enums).
pub(crate) fn parsed<T: std::str::FromStr>(row: &(impl Row + ?Sized), name: &str) -> Result<T, StoreError> {
    let text: String = column(row, name)?;
    text.parse().map_err(|_| StoreError::Corrupt(format!("{name}: unparsable value")))
}
