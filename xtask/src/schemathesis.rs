//! Schemathesis against a real `causeway serve` on one backend: its served document,
//! every operation, every phase, with the app's credentials.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{self, Running};

pub const MAX_EXAMPLES: &str = "300";
pub const SEED: &str = "20240601";
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection";

/// What one run found, for the summary.
pub struct Report {
    pub passed: bool,
    /// Schemathesis's count line, e.g. "4484 generated, 4484 passed".
    pub cases: String,
    /// What the server answered, by status, from its own metrics.
    pub statuses: String,
    pub log: PathBuf,
}

/// `causeway <args>` on `database`, its stdout.
fn causeway(binary: &Path, database: &str, env: &[(&str, String)], args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(binary);
    command.args(args).env("CAUSEWAY_DATABASE_URL", database).envs(env.iter().map(|(k, v)| (*k, v)));
    let out = process::output(command).map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("causeway {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A `causeway serve` on `database` and its base URL; it stops when the value is dropped.
pub fn serve(binary: &Path, database: &str, env: &[(&str, String)], work: &Path, log: &Path) -> Result<(Running, String), String> {
    let ready = work.join("serve.address");
    let _ = std::fs::remove_file(&ready);
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .arg("--ready-file")
        .arg(&ready)
        .env("CAUSEWAY_DATABASE_URL", database)
        .env("CAUSEWAY_LISTEN", "127.0.0.1:0")
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).map_err(|e| e.to_string())?);
    let mut server = Running::spawn(command).map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        if let Ok(address) = std::fs::read_to_string(&ready) {
            return Ok((server, format!("http://{}", address.trim())));
        }
        if !server.alive() {
            return Err(format!("causeway serve exited before listening; see {}", log.display()));
        }
        if started.elapsed() > Duration::from_secs(60) || process::interrupted().is_some() {
            return Err("causeway serve did not listen within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GET {path}` over HTTP/1.0 (the connection closes at the end of the answer).
pub fn http_get(base: &str, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: causeway\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

/// Requests by status, summed over the server's `causeway_http_requests_total` series.
fn statuses(base: &str) -> String {
    let Ok(metrics) = http_get(base, "/metrics") else {
        return "unknown".into();
    };
    let mut counts: std::collections::BTreeMap<String, f64> = Default::default();
    for line in metrics.lines().filter(|l| l.starts_with("causeway_http_requests_total{")) {
        let status = line.split("status=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("?");
        let value: f64 = line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        *counts.entry(status.to_owned()).or_default() += value;
    }
    counts.iter().map(|(status, n)| format!("{status}: {n}")).collect::<Vec<_>>().join(", ")
}

pub fn run(root: &Path, binary: &Path, backend: &str, database: &str, env: Vec<(&'static str, String)>, work: &Path) -> Report {
    let log = root.join(format!("target/schemathesis-{backend}.log"));
    let server_log = root.join(format!("target/schemathesis-{backend}-server.log"));
    let failed = |why: String| {
        eprintln!("[xtask] schemathesis ({backend}): {why}");
        Report { passed: false, cases: why, statuses: String::new(), log: log.clone() }
    };
    let mut env = env;
    env.extend([("CAUSEWAY_API_RATE_PER_SECOND", "100000".to_owned()), ("CAUSEWAY_API_RATE_BURST", "100000".to_owned()), ("CAUSEWAY_API_FAILED_AUTH_PER_MINUTE", "100000".to_owned()), ("CAUSEWAY_LOG", "warn".to_owned())]);
    if let Err(why) = causeway(binary, database, &env, &["migrate"]) {
        return failed(why);
    }
    let app: serde_json::Value = match causeway(binary, database, &env, &["app", "create", "--name", "schemathesis", "--json"]).map(|o| serde_json::from_str(&o)) {
        Ok(Ok(app)) => app,
        Ok(Err(err)) => return failed(err.to_string()),
        Err(why) => return failed(why),
    };
    let (server, base) = match serve(binary, database, &env, work, &server_log) {
        Ok(running) => running,
        Err(why) => return failed(why),
    };
    let mut command = Command::new(crate::setup::schemathesis(root));
    command
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args(["-H", &format!("App-Id: {}", app["app_id"].as_str().unwrap_or_default())])
        .args(["-H", &format!("App-Token: {}", app["app_token"].as_str().unwrap_or_default())])
        .args(["-H", "Api-Version: 3.0"])
        .args(["--checks", CHECKS, "--mode", "all", "--seed", SEED, "--max-examples", MAX_EXAMPLES])
        .args(["--generation-database", "none", "--request-timeout", "10", "--workers", "1", "--no-color"])
        // Its hypothesis state stays out of the repository.
        .current_dir(work)
        .stdout(match std::fs::File::create(&log) {
            Ok(file) => file,
            Err(err) => return failed(err.to_string()),
        })
        .stderr(Stdio::inherit());
    let passed = process::run(command);
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    // "Test cases:" and, on the next line, "4484 generated, 4484 passed".
    let cases = output.lines().skip_while(|l| !l.starts_with("Test cases:")).nth(1).unwrap_or("no summary").trim().to_owned();
    let statuses = statuses(&base);
    drop(server);
    if !passed {
        eprintln!("{output}");
    }
    Report { passed, cases, statuses, log }
}
