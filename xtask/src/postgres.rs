//! A throwaway PostgreSQL 15 for the tests: its data directory and its Unix socket in a
//! fresh directory, no TCP port at all (so none to pick or to race for); stopped and
//! removed when dropped — the runner drops it also when it is interrupted. A fault test
//! starts one of its own and stops and restarts it (`restart`) under load.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process;

const PGBIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// The server's options (`pg_ctl -o`), the same at every start.
    options: String,
}

/// As root, PostgreSQL runs as `postgres` (it refuses to run as root).
fn as_postgres(program: &Path) -> Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl Postgres {
    /// A server tuned for speed: nothing is flushed to disk, and a commit returns before
    /// its WAL is written (a crash of the server may lose the last commits).
    pub fn start(dir: PathBuf) -> Result<Self, String> {
        Self::start_with(dir, "-c synchronous_commit=off")
    }

    /// A server whose acknowledged commits survive a crash of the server (`pg_ctl stop -m
    /// immediate`), though not of the machine: `synchronous_commit` stays on (its WAL is
    /// written before a commit returns), `fsync` still off.
    pub fn start_crash_safe(dir: PathBuf) -> Result<Self, String> {
        Self::start_with(dir, "-c synchronous_commit=on")
    }

    fn start_with(dir: PathBuf, durability: &str) -> Result<Self, String> {
        let bin = PathBuf::from(std::env::var("PGBIN").unwrap_or_else(|_| PGBIN.into()));
        if !bin.join("initdb").exists() {
            return Err(format!("no PostgreSQL binaries in {} (set PGBIN)", bin.display()));
        }
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let options = format!(
            "-c listen_addresses='' -k {} -c fsync=off {durability} -c full_page_writes=off -c max_connections=300",
            dir.display()
        );
        let pg = Self { dir, bin, options };
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 && !process::run({
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(&pg.dir);
            chown
        }) {
            return Err("chown to postgres failed".into());
        }
        let mut initdb = as_postgres(&pg.bin.join("initdb"));
        initdb.arg("-D").arg(pg.data()).args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
        let out = process::output(initdb).map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        pg.start_again()?;
        Ok(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Starts the stopped server again, with the options it first started with; returns
    /// once it accepts connections (at most 30 s, crash recovery included).
    pub fn start_again(&self) -> Result<(), String> {
        let mut start = as_postgres(&self.bin.join("pg_ctl"));
        start.arg("-D").arg(self.data()).arg("-l").arg(self.dir.join("server.log")).args(["-w", "-t", "30", "-o", &self.options, "start"]);
        let out = process::output(start).map_err(|e| e.to_string())?;
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            return Err(format!("pg_ctl start failed: {}{log}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(())
    }

    /// Stops the server in pg_ctl's shutdown `mode`: `smart`, `fast` (sessions ended,
    /// open transactions rolled back) or `immediate` (every process killed at once; the
    /// next start recovers from the WAL, as after a crash).
    pub fn stop(&self, mode: &str) -> Result<(), String> {
        let mut stop = as_postgres(&self.bin.join("pg_ctl"));
        stop.arg("-D").arg(self.data()).args(["-m", mode, "-w", "-t", "30", "stop"]);
        let out = process::output(stop).map_err(|e| e.to_string())?;
        if out.status.success() { Ok(()) } else { Err(format!("pg_ctl stop -m {mode} failed: {}", String::from_utf8_lossy(&out.stderr))) }
    }

    /// `stop(mode)`, then `start_again`: what `pg_ctl restart -m mode` does.
    pub fn restart(&self, mode: &str) -> Result<(), String> {
        self.stop(mode)?;
        self.start_again()
    }

    /// The admin database, reached over the Unix socket in the directory.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    pub fn url_of(&self, database: &str) -> String {
        format!("postgres://postgres@localhost/{database}?host={}", self.dir.display())
    }

    pub fn create_database(&self, name: &str) -> Result<(), String> {
        let mut createdb = Command::new(self.bin.join("createdb"));
        createdb.arg("-h").arg(&self.dir).args(["-U", "postgres", name]);
        if process::run(createdb) { Ok(()) } else { Err(format!("createdb {name} failed")) }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let stopped = self.stop("immediate").is_ok();
        // A server that would not stop must not outlive its removed directory.
        if !stopped
            && let Ok(pid) = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            && let Some(Ok(pid)) = pid.lines().next().map(str::parse::<i32>)
        {
            // SAFETY: kill(2) on the postmaster's pid.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
