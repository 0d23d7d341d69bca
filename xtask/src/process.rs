//! Children of the runner: each in a process group of its own, so that a signal to the
//! runner (Ctrl-C, CI's SIGTERM) is passed on to the step's whole tree — the group — and
//! nothing is left running; no process table is walked.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The signal the runner received, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// From now on SIGINT, SIGTERM and SIGHUP are recorded instead of ending the runner, which
/// then stops the running step, cleans up (the throwaway PostgreSQL) and exits.
pub fn trap_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that only stores to an atomic.
        unsafe { libc::signal(signal, on_signal as *const () as libc::sighandler_t) };
    }
}

pub fn interrupted() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// A running child, leader of its own process group.
pub struct Running {
    child: Child,
}

impl Running {
    pub fn spawn(mut command: Command) -> std::io::Result<Self> {
        command.process_group(0);
        Ok(Self { child: command.spawn()? })
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for it; when the runner is signalled meanwhile, stops the group first.
    pub fn wait(mut self) -> std::io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if let Some(signal) = interrupted() {
                self.stop_group(signal);
                return self.child.wait();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `signal` to the whole group, then SIGKILL after 10 s; waits for the leader.
    pub fn stop_group(&mut self, signal: i32) {
        let group = self.child.id() as i32;
        // SAFETY: kill(2) with a negative pid signals the process group.
        unsafe { libc::kill(-group, signal) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !self.alive() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above; whatever of the group is left.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.alive() {
            self.stop_group(libc::SIGTERM);
        }
    }
}

/// Runs `command` to its end (output to the runner's); true when it succeeded.
pub fn run(command: Command) -> bool {
    match Running::spawn(command).and_then(Running::wait) {
        Ok(status) => status.success(),
        Err(err) => {
            eprintln!("[xtask] could not run a command: {err}");
            false
        }
    }
}

/// Runs `command` and returns its output (stdout and stderr captured).
pub fn output(mut command: Command) -> std::io::Result<Output> {
    command.process_group(0).output()
}
