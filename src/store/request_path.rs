//! The request path's statements, each written once — its SQL, its bound values, its row
//! decoder — and run by whichever driver fits: inline on a SQLite file (`inline`), else
//! through sqlx's pools, and through sqlx's writer as well when the inline writer finds the
//! database locked.

use std::borrow::Cow;

use rusqlite::types::{ToSql, ToSqlOutput, Value, ValueRef};
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;

use super::error::Row;
use super::{Store, StoreError};

/// A value bound to `$n`: the two types the request path's statements take.
#[derive(Clone, Debug)]
pub(crate) enum Param<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(Some(Cow::Borrowed(text)))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(Some(Cow::Borrowed(text)))
    }
}

impl From<String> for Param<'_> {
    fn from(text: String) -> Self {
        Self::Text(Some(Cow::Owned(text)))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(text: Option<&'a str>) -> Self {
        Self::Text(text.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(text: &'a Option<String>) -> Self {
        Self::Text(text.as_deref().map(Cow::Borrowed))
    }
}

impl From<Option<String>> for Param<'_> {
    fn from(text: Option<String>) -> Self {
        Self::Text(text.map(Cow::Owned))
    }
}

impl From<i64> for Param<'_> {
    fn from(number: i64) -> Self {
        Self::Int(Some(number))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(number: Option<i64>) -> Self {
        Self::Int(number)
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Self::Text(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Self::Int(Some(number)) => ToSqlOutput::Owned(Value::Integer(*number)),
            Self::Text(None) | Self::Int(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// `sql` with `params` bound in order, for sqlx.
pub(crate) fn bound<'q>(sql: &'static str, params: &'q [Param<'q>]) -> Query<'q, Any, AnyArguments> {
    params.iter().fold(sqlx::query(sql), |query, param| match param {
        Param::Text(text) => query.bind(text.as_deref()),
        Param::Int(number) => query.bind(*number),
    })
}

/// How often a waiting inline write looks whether sqlx's writer is back: the timer's
/// granularity. The writer's own writes are rare (a heartbeat, the health counts, the log's
/// restart), so waiting writes rarely wait this much longer than they must.
const TURN_POLL: std::time::Duration = std::time::Duration::from_millis(1);
/// Past this, an inline write goes ahead anyway (a connection held out that long is not a
/// write about to happen).
const TURN_WAIT_BOUND: std::time::Duration = std::time::Duration::from_secs(5);

impl Store {
    /// The rows of a reading statement.
    pub(crate) async fn read_rows<T>(&self, sql: &'static str, params: &[Param<'_>], mut decode: impl FnMut(&dyn Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
        if let Some(inline) = self.inline() {
            return inline.read(sql, params, decode);
        }
        let rows = bound(sql, params).fetch_all(self.reader()).await?;
        rows.iter().map(|row| decode(row)).collect()
    }

    /// The `RETURNING` rows (if any) of a writing statement.
    pub(crate) async fn write_rows<T>(&self, sql: &'static str, params: &[Param<'_>], mut decode: impl FnMut(&dyn Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
        let Some(inline) = self.inline() else {
            let rows = bound(sql, params).fetch_all(self.writer()).await?;
            return rows.iter().map(|row| decode(row)).collect();
        };
        // sqlx's writer is in use: let it have the lock (`inline_writes_wait`), then write
        // inline. The wait is bounded: it orders writes, it guards nothing.
        if self.inline_writes_wait() {
            let since = std::time::Instant::now();
            while self.inline_writes_wait() && since.elapsed() < TURN_WAIT_BOUND {
                tokio::time::sleep(TURN_POLL).await;
            }
        }
        match inline.write(sql, params, &mut decode) {
            // Another process holds the lock: nothing was written; sqlx's writer waits for
            // it on its own thread.
            Err(StoreError::Busy) => {}
            done => return done,
        }
        let rows = bound(sql, params).fetch_all(self.writer()).await?;
        rows.iter().map(|row| decode(row)).collect()
    }

    /// A pause between the statements of a long job through sqlx's writer (a sweep in
    /// chunks): waiting inline writes look every `TURN_POLL`, so statements back to back
    /// would keep them waiting for the whole job.
    pub(crate) async fn let_waiting_writes_in(&self) {
        if self.inline().is_some() {
            tokio::time::sleep(2 * TURN_POLL).await;
        }
    }
}
