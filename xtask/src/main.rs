//! `cargo xtask test`: every test of Causeway, on a fresh machine of this kind, in one
//! command. It checks the toolchain (and installs cargo-nextest), installs what the tests
//! need while the tests build, starts a throwaway PostgreSQL, then runs
//!
//!   1. the whole suite on SQLite (nextest profile `ci`);
//!   2. the tests that touch a database on PostgreSQL (profile `ci-postgres`, a filter);
//!   3. schemathesis against a real `causeway serve`, on SQLite and on PostgreSQL at once;
//!   4. the serve-only build (`--no-default-features`) and a smoke test of it;
//!
//! and checks that nothing was left in the temp directory. Every step runs even when an
//! earlier one failed; the last line is "N passed, M failed" (steps), and the exit status
//! is non-zero when a step failed. Ctrl-C or SIGTERM stops the running step's process
//! group, stops PostgreSQL and removes what the run created.

mod schemathesis;
mod setup;

// The library half (src/lib.rs), which the fault tests use too.
use xtask::{postgres, process};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use postgres::Postgres;

struct Step {
    name: &'static str,
    passed: bool,
    seconds: u64,
    note: String,
}

struct Run {
    root: PathBuf,
    steps: Vec<Step>,
}

impl Run {
    fn record(&mut self, name: &'static str, started: Instant, passed: bool, note: impl Into<String>) {
        let seconds = started.elapsed().as_secs();
        let note = note.into();
        println!("[xtask] step '{name}': {} in {seconds}s{}", if passed { "passed" } else { "FAILED" }, if note.is_empty() { String::new() } else { format!(" ({note})") });
        self.steps.push(Step { name, passed, seconds, note });
    }

    fn cargo(&self, args: &[&str]) -> Command {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.args(args).current_dir(&self.root);
        command
    }

    /// `cargo nextest run` with the browser tools named and `extra` environment.
    fn nextest(&self, profile: &str, extra: &[(&str, String)]) -> bool {
        let mut command = self.cargo(&["nextest", "run", "--workspace", "--all-targets", "--profile", profile]);
        command.env("CAUSEWAY_TEST_CHROMEDRIVER", setup::CHROMEDRIVER).env("CAUSEWAY_TEST_CHROMIUM", setup::CHROMIUM);
        command.envs(extra.iter().map(|(k, v)| (*k, v)));
        process::run(command)
    }
}

fn banner(title: &str) {
    println!("\n==================================================================\n== {title}\n==================================================================");
}

/// Names in the temp directory that look like Causeway's.
fn ours_in_temp() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("causeway-"))
        .collect();
    names.sort();
    names
}

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("test") | None => std::process::exit(test()),
        Some(other) => {
            eprintln!("usage: cargo xtask test   (unknown command {other:?})");
            std::process::exit(2);
        }
    }
}

fn test() -> i32 {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned();
    process::trap_signals();
    // Causeway's own settings from the caller's shell stay out of the tests.
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("CAUSEWAY_")) {
        // SAFETY: single-threaded here; no other thread reads the environment yet.
        unsafe { std::env::remove_var(name) };
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        // SAFETY: as above.
        unsafe { std::env::set_var("CARGO_INCREMENTAL", "0") };
    }
    let total = Instant::now();
    let before = ours_in_temp();
    let mut run = Run { root: root.clone(), steps: Vec::new() };

    banner("toolchain");
    if let Err(why) = setup::toolchain(&root) {
        eprintln!("[xtask] {why}");
        println!("0 passed, 1 failed");
        return 1;
    }

    // What the tests need installs while they build (the build takes both cores; the
    // installs mostly wait on the network and the disk).
    banner("build, and meanwhile: installs and a throwaway PostgreSQL");
    let work = std::env::temp_dir().join(format!("causeway-test-{}", std::process::id()));
    let setup_root = root.clone();
    let installs = std::thread::spawn(move || setup::everything(&setup_root));
    let pg_dir = work.join("pg");
    let postgres = std::thread::spawn(move || Postgres::start(pg_dir));
    let started = Instant::now();
    let built = process::run(run.cargo(&["nextest", "run", "--workspace", "--all-targets", "--profile", "ci", "--no-run"]));
    run.record("build", started, built, "");
    let started = Instant::now();
    let failed_installs: Vec<String> = installs.join().expect("the installs ran").into_iter().filter_map(|(what, r)| r.err().map(|e| format!("{what}: {e}"))).collect();
    run.record("installs", started, failed_installs.is_empty(), failed_installs.join("; "));
    let postgres = match postgres.join().expect("PostgreSQL started or failed") {
        Ok(pg) => Some(pg),
        Err(why) => {
            eprintln!("[xtask] PostgreSQL: {why}");
            None
        }
    };

    banner("tests on SQLite (nextest profile ci)");
    let started = Instant::now();
    let passed = built && process::interrupted().is_none() && run.nextest("ci", &[]);
    run.record("tests sqlite", started, passed, "");

    banner("tests that touch a database, on PostgreSQL 15 (profile ci-postgres)");
    let started = Instant::now();
    let passed = match &postgres {
        Some(pg) if process::interrupted().is_none() => run.nextest("ci-postgres", &[("CAUSEWAY_TEST_POSTGRES_URL", pg.url())]),
        _ => false,
    };
    run.record("tests postgres", started, passed, "");

    banner("schemathesis on SQLite and on PostgreSQL 15, side by side");
    let started = Instant::now();
    let binary = root.join("target/debug/causeway");
    let sqlite_work = work.join("schemathesis-sqlite");
    let pg_work = work.join("schemathesis-postgres");
    let _ = std::fs::create_dir_all(&sqlite_work);
    let _ = std::fs::create_dir_all(&pg_work);
    let reports = std::thread::scope(|scope| {
        let sqlite = scope.spawn(|| {
            let database = format!("sqlite://{}?mode=rwc", sqlite_work.join("schemathesis.db").display());
            schemathesis::run(&root, &binary, "sqlite", &database, vec![], &sqlite_work)
        });
        let pg = scope.spawn(|| match &postgres {
            Some(pg) if pg.create_database("schemathesis").is_ok() => {
                schemathesis::run(&root, &binary, "postgres", &pg.url_of("schemathesis"), vec![("CAUSEWAY_MASTER_KEY", master_key())], &pg_work)
            }
            _ => schemathesis::Report { passed: false, cases: "no PostgreSQL".into(), statuses: String::new(), log: PathBuf::new() },
        });
        [("schemathesis sqlite", sqlite.join().expect("a report")), ("schemathesis postgres", pg.join().expect("a report"))]
    });
    for (name, report) in reports {
        let note = format!("{}; server responses by status: {}; log {}", report.cases, report.statuses, report.log.strip_prefix(&root).unwrap_or(&report.log).display());
        run.record(name, started, report.passed && process::interrupted().is_none(), note);
    }

    banner("the serve-only build (--no-default-features)");
    let started = Instant::now();
    let passed = process::interrupted().is_none() && serve_only(&run, &work);
    run.record("serve-only build", started, passed, "");

    drop(postgres);
    let _ = std::fs::remove_dir_all(&work);
    let left: Vec<String> = ours_in_temp().into_iter().filter(|n| !before.contains(n)).collect();
    run.record("nothing left behind", Instant::now(), left.is_empty(), left.join(", "));

    banner("summary");
    for step in &run.steps {
        println!("  {:<24} {:<7} {:>5}s  {}", step.name, if step.passed { "passed" } else { "failed" }, step.seconds, step.note);
    }
    println!("  total time: {}s", total.elapsed().as_secs());
    let failed = run.steps.iter().filter(|s| !s.passed).count();
    println!("{} passed, {failed} failed", run.steps.len() - failed);
    if let Some(signal) = process::interrupted() {
        return 128 + signal;
    }
    i32::from(failed > 0)
}

/// A fresh master key for a PostgreSQL `causeway serve` (32 random bytes, base64).
fn master_key() -> String {
    use base64::Engine;
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).expect("/dev/urandom");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `cargo build --no-default-features`, then the binary serves (health, the API document)
/// and has no demo.
fn serve_only(run: &Run, work: &Path) -> bool {
    if !process::run(run.cargo(&["build", "--no-default-features", "--bin", "causeway"])) {
        return false;
    }
    let binary = run.root.join("target/debug/causeway");
    let dir = work.join("serve-only");
    let _ = std::fs::create_dir_all(&dir);
    let database = format!("sqlite://{}?mode=rwc", dir.join("causeway.db").display());
    let (server, base) = match schemathesis::serve(&binary, &database, &[], &dir, &dir.join("server.log")) {
        Ok(running) => running,
        Err(why) => {
            eprintln!("[xtask] the serve-only binary: {why}");
            return false;
        }
    };
    let health = schemathesis::http_get(&base, "/healthz").is_ok_and(|a| a.starts_with("HTTP/1.0 200") || a.starts_with("HTTP/1.1 200"));
    let document = schemathesis::http_get(&base, "/openapi.json").is_ok_and(|a| a.contains("\"openapi\": \"3.1.0\""));
    drop(server);
    let demo = process::output({
        let mut command = Command::new(&binary);
        command.arg("demo");
        command
    });
    let no_demo = demo.is_ok_and(|o| !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("unrecognized subcommand"));
    println!("[xtask] serve-only binary: /healthz {health}, /openapi.json {document}, no demo command {no_demo}");
    health && document && no_demo
}
