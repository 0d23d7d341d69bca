//! A throwaway PostgreSQL 15 for the tests: its data directory and its Unix socket in a
//! fresh directory, no TCP port at all (so none to pick or to race for); stopped and
//! removed when dropped — the runner drops it also when it is interrupted.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process;

const PGBIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
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
    pub fn start(dir: PathBuf) -> Result<Self, String> {
        let bin = PathBuf::from(std::env::var("PGBIN").unwrap_or_else(|_| PGBIN.into()));
        if !bin.join("initdb").exists() {
            return Err(format!("no PostgreSQL binaries in {} (set PGBIN)", bin.display()));
        }
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let pg = Self { dir, bin };
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 && !process::run({
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(&pg.dir);
            chown
        }) {
            return Err("chown to postgres failed".into());
        }
        let data = pg.dir.join("data");
        let mut initdb = as_postgres(&pg.bin.join("initdb"));
        initdb.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
        let out = process::output(initdb).map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let options = format!(
            "-c listen_addresses='' -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            pg.dir.display()
        );
        let mut start = as_postgres(&pg.bin.join("pg_ctl"));
        start.arg("-D").arg(&data).arg("-l").arg(pg.dir.join("server.log")).args(["-w", "-t", "30", "-o", &options, "start"]);
        let out = process::output(start).map_err(|e| e.to_string())?;
        if !out.status.success() {
            let log = std::fs::read_to_string(pg.dir.join("server.log")).unwrap_or_default();
            return Err(format!("pg_ctl start failed: {}{log}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(pg)
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
        let mut stop = as_postgres(&self.bin.join("pg_ctl"));
        stop.arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "-w", "-t", "30", "stop"]);
        let stopped = process::output(stop).is_ok_and(|o| o.status.success());
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
