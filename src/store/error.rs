#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("record not found")]
    NotFound,
    /// A uniqueness or foreign-key constraint refused the write.
    #[error("constraint {constraint} refused the write")]
    Conflict { constraint: String },
    #[error("database row is malformed: {0}")]
    Corrupt(String),
    #[error("database error")]
    Backend(#[source] sqlx::Error),
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

/// Reads a column, turning a type mismatch into `Corrupt` rather than a panic.
pub(crate) fn column<'r, T>(row: &'r sqlx::any::AnyRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    row.try_get(name).map_err(|err| StoreError::Corrupt(format!("{name}: {err}")))
}

/// Parses a text column into a typed value (ids, enums).
pub(crate) fn parsed<T: std::str::FromStr>(row: &sqlx::any::AnyRow, name: &str) -> Result<T, StoreError> {
    let text: String = column(row, name)?;
    text.parse().map_err(|_| StoreError::Corrupt(format!("{name}: unparsable value")))
}
