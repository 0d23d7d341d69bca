//! The request path's statements, on SQLite, run by the calling task itself instead of by
//! sqlx's worker thread of a pooled connection.
//!
//! Why: through sqlx every statement is a hand-off to that thread and back — two thread
//! wake-ups, measured at ~130 µs of CPU each under load, while SQLite answers a point read
//! in a few µs and a write in 20–30. Reads in WAL mode never wait for the writer, so
//! running them inline keeps a runtime thread busy for about as long as the request's
//! other work does (for the page's read, less than rendering it).
//!
//! Writes must never wait on a runtime thread, and SQLite has one writer at a time: the
//! inline writer is one connection whose busy timeout is zero. When the database is
//! locked (the CLI or another process is writing), the inline write reports `Busy` before
//! changing anything, and the store runs the same statement through sqlx's writer, which
//! waits on its own thread. In this process, sqlx's writer goes first: while its connection
//! is out of its pool, inline writes wait until it is back instead of racing it for the lock
//! (`request_path`). Same file, same WAL, same `synchronous = NORMAL`: the durability of both
//! paths is the same.
//!
//! The SQL is the store's own text, `$1…$n` placeholders included (SQLite reads them as
//! named parameters, bound here by name); `request_path` chooses between this and sqlx.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use rusqlite::{Connection, OpenFlags};

use super::error::Row;
use super::request_path::Param;
use super::StoreError;

/// Placeholder names by position (a query binds at most this many values).
const PLACEHOLDERS: [&str; 32] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$16", "$17", "$18", "$19",
    "$20", "$21", "$22", "$23", "$24", "$25", "$26", "$27", "$28", "$29", "$30", "$31", "$32",
];

/// Inline connections to one SQLite file: readers, and the one writer.
pub(crate) struct Inline {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
    writer: Mutex<Connection>,
}

impl std::fmt::Debug for Inline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inline").field("readers", &self.connections.len()).finish()
    }
}

impl Inline {
    /// `count` read-only connections to the database file (already migrated, in WAL mode).
    pub(crate) fn open(file: &Path, count: usize) -> Result<Self, StoreError> {
        let connections = (0..count.max(1))
            .map(|_| {
                // Read-write flags with `query_only`: a read-only open of a WAL database
                // fails when the -shm file is missing.
                let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
                conn.execute_batch("PRAGMA query_only = ON; PRAGMA foreign_keys = ON;")?;
                // A reader waits only while another connection recovers the WAL index: rare
                // and short; a bound rather than an error.
                conn.busy_timeout(std::time::Duration::from_millis(200))?;
                conn.set_prepared_statement_cache_capacity(32);
                Ok(Mutex::new(conn))
            })
            .collect::<Result<_, StoreError>>()?;
        let writer = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        // As sqlx's connections are set up (store/mod.rs); per connection in SQLite.
        // No automatic checkpoint from this connection: it would run inside a request, on a
        // runtime thread. The server checkpoints on the pool's writer (startup.rs).
        writer.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;")?;
        writer.busy_timeout(std::time::Duration::ZERO)?;
        writer.set_prepared_statement_cache_capacity(32);
        Ok(Self { connections, next: AtomicUsize::new(0), writer: Mutex::new(writer) })
    }

    /// Runs `read` on a connection no other task holds (or waits for one). The writer's
    /// connection comes first: its page cache stays valid across its own commits, while
    /// every other connection drops its cache whenever the database changed since its last
    /// read — under a steady stream of sign-ins, always (SQLite's WAL rules), so each of
    /// their reads starts from the OS page cache.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        if let Ok(conn) = self.writer.try_lock() {
            return read(&conn);
        }
        let count = self.connections.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % count;
        for offset in 0..count {
            if let Ok(conn) = self.connections[(first + offset) % count].try_lock() {
                return read(&conn);
            }
        }
        let conn = self.connections[first].lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        read(&conn)
    }

    /// Every row of `sql` with `params` bound to `$1…`, each decoded by `decode`.
    pub(crate) fn read<T>(&self, sql: &'static str, params: &[Param<'_>], decode: impl FnMut(&dyn Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
        self.with(|conn| run(conn, sql, params, decode))
    }

    /// Runs a writing statement (its `RETURNING` rows decoded by `decode`); `Busy` when
    /// another connection holds the lock, and then nothing was written.
    pub(crate) fn write<T>(&self, sql: &'static str, params: &[Param<'_>], decode: impl FnMut(&dyn Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
        let conn = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        run(&conn, sql, params, decode)
    }
}

fn run<T>(conn: &Connection, sql: &'static str, params: &[Param<'_>], mut decode: impl FnMut(&dyn Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    // A parameter past the list would stay unbound, which SQLite reads as NULL.
    if params.len() > PLACEHOLDERS.len() {
        return Err(StoreError::Corrupt(format!("{} parameters; the inline path binds at most {}", params.len(), PLACEHOLDERS.len())));
    }
    for (name, value) in PLACEHOLDERS.iter().zip(params) {
        if let Some(index) = statement.parameter_index(name)? {
            statement.raw_bind_parameter(index, value)?;
        }
    }
    let mut rows = statement.raw_query();
    let mut decoded = Vec::new();
    let mut names = None;
    while let Some(row) = rows.next()? {
        // Asked after the first step: a statement SQLite had to prepare again (the schema
        // changed) has its new columns only from then on.
        let names = *names.get_or_insert_with(|| column_names(row.as_ref(), sql));
        decoded.push(decode(&NamedRow { row, names, next: Cell::new(0) })?);
    }
    Ok(decoded)
}

/// The names of a statement's result columns, asked of SQLite once per process. Asking at
/// every run was 7% of a page's instructions (callgrind): SQLite hands each name over as
/// a C string, measured and checked as UTF-8 again each time. The statements are the
/// program's own constants, a bounded set, so each list is leaked once and found by the
/// text's address. A schema changed under a running process (another replica migrating)
/// can change the column count of a statement SQLite prepares again: then the list is
/// asked for anew.
fn column_names(statement: &rusqlite::Statement<'_>, sql: &'static str) -> &'static [&'static str] {
    type Known = Vec<(&'static str, &'static [&'static str])>;
    static KNOWN: RwLock<Known> = RwLock::new(Vec::new());
    let count = statement.column_count();
    let find = |known: &Known| known.iter().find(|(text, names)| std::ptr::eq(*text, sql) && names.len() == count).map(|(_, names)| *names);
    if let Some(names) = find(&KNOWN.read().unwrap_or_else(|poisoned| poisoned.into_inner())) {
        return names;
    }
    let names: Vec<&'static str> = statement.column_names().into_iter().map(|name| &*Box::leak(name.to_owned().into_boxed_str())).collect();
    let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
    let mut known = KNOWN.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    known.retain(|(text, _)| !std::ptr::eq(*text, sql));
    known.push((sql, names));
    names
}

/// A rusqlite row read by column name. Decoders ask for columns mostly in the order the
/// query selects them, so each look-up starts after the previous hit: reading a row of n
/// columns compares about n names, not n²/2 (rusqlite's own look-up asks SQLite for every
/// name and compares case-insensitively; it was 8% of a page's CPU).
struct NamedRow<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: &'static [&'static str],
    next: Cell<usize>,
}

impl NamedRow<'_, '_> {
    fn index(&self, name: &str) -> Result<usize, String> {
        let count = self.names.len();
        let start = self.next.get();
        (0..count)
            .map(|offset| (start + offset) % count)
            .find(|&i| self.names[i] == name)
            .inspect(|&i| self.next.set(i + 1))
            .ok_or_else(|| format!("no column {name}"))
    }
}

impl Row for NamedRow<'_, '_> {
    fn get_text(&self, name: &str) -> Result<Option<String>, String> {
        self.row.get(self.index(name)?).map_err(|err| err.to_string())
    }

    fn get_int(&self, name: &str) -> Result<Option<i64>, String> {
        self.row.get(self.index(name)?).map_err(|err| err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_asked_once_and_again_when_the_schema_changes_them() {
        // `SELECT *` only here: it is the one form whose columns a migration can change
        // under the same text.
        const SQL: &str = "SELECT * FROM t";
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'one')").unwrap();
        let read_b = |conn: &Connection| run(conn, SQL, &[], |row| row.get_text("b").map_err(StoreError::Corrupt));
        assert_eq!(read_b(&conn).unwrap(), [Some("one".to_owned())]);
        let first = column_names(&conn.prepare_cached(SQL).unwrap(), SQL);
        assert_eq!(first, ["a", "b"]);
        assert!(std::ptr::eq(first, column_names(&conn.prepare_cached(SQL).unwrap(), SQL)), "the list is reused");

        conn.execute_batch("ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 3").unwrap();
        let read_c = run(&conn, SQL, &[], |row| row.get_int("c").map_err(StoreError::Corrupt)).unwrap();
        assert_eq!(read_c, [Some(3)], "the statement prepared again is read by its new names");
    }
}
