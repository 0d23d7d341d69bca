//! `causeway serve` as a subprocess, on a port it picks: its `--ready-file` says which.

use std::path::Path;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_causeway");

/// A running `causeway serve`; killed when dropped.
pub struct Serving {
    pub child: tokio::process::Child,
    /// `http://host:port`
    pub base: String,
    _ready: tempfile::TempDir,
}

impl Serving {
    /// Starts `command` (a `causeway serve` the caller configured: environment, stdio) on
    /// CAUSEWAY_LISTEN=127.0.0.1:0 unless set, and waits until it listens.
    pub async fn start(mut command: tokio::process::Command) -> Self {
        let ready = tempfile::tempdir().unwrap();
        let file = ready.path().join("address");
        command.arg("--ready-file").arg(&file).kill_on_drop(true);
        if !command.as_std().get_envs().any(|(name, _)| name == "CAUSEWAY_LISTEN") {
            command.env("CAUSEWAY_LISTEN", "127.0.0.1:0");
        }
        let mut child = command.spawn().expect("start causeway serve");
        let address = wait_for(&file, &mut child).await;
        Self { child, base: format!("http://{address}"), _ready: ready }
    }
}

/// `causeway serve` with the database and the environment tests and benchmarks share.
pub fn command(db_url: &str) -> tokio::process::Command {
    command_under(&[], db_url)
}

/// `command`, run by `wrapper` (a program and its arguments, such as valgrind's) when it
/// is not empty: the benchmarks count instructions that way.
pub fn command_under(wrapper: &[&str], db_url: &str) -> tokio::process::Command {
    let mut command = match wrapper {
        [] => tokio::process::Command::new(BIN),
        [program, args @ ..] => {
            let mut command = tokio::process::Command::new(program);
            command.args(args).arg(BIN);
            command
        }
    };
    command.arg("serve").env("CAUSEWAY_DATABASE_URL", db_url);
    command
}

async fn wait_for(file: &Path, child: &mut tokio::process::Child) -> String {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(file) {
            return text.trim().to_owned();
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("causeway serve exited before listening: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "causeway serve did not listen within 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
