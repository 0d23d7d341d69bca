//! What the tests need that a fresh machine of this kind may lack, installed once and kept
//! until its pinned versions change: the Rust toolchain is checked (it cannot be installed
//! from here), cargo-nextest installed when missing, Python tools in venvs under `target/`,
//! node packages from the committed lockfiles, Debian's Chromium and chromedriver.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process;

/// cargo-nextest, installed from crates.io when missing.
const NEXTEST_VERSION: &str = "0.9.143";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The `rust-version` of the workspace's Cargo.toml, as (major, minor).
fn required_rust(root: &Path) -> Option<(u32, u32)> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let line = manifest.lines().find(|l| l.trim_start().starts_with("rust-version"))?;
    version(line.split('"').nth(1)?)
}

/// "1.94" or "1.95.0 (…)" → (1, 94).
fn version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().split(['.', ' ']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The toolchain: Rust at least the workspace's `rust-version` (an error naming how to get
/// it), and cargo-nextest (installed when missing).
pub fn toolchain(root: &Path) -> Result<(), String> {
    let required = required_rust(root).ok_or("Cargo.toml names no rust-version")?;
    let rustc = process::output(cmd("rustc", &["--version"])).map_err(|e| format!("rustc is not installed ({e}): install Rust {}.{} or later with rustup", required.0, required.1))?;
    let found = String::from_utf8_lossy(&rustc.stdout);
    let have = found.strip_prefix("rustc ").and_then(version).ok_or_else(|| format!("cannot read the rustc version from {found:?}"))?;
    if have < required {
        return Err(format!("Rust {}.{} is installed; Causeway needs {}.{} or later: `rustup update stable`", have.0, have.1, required.0, required.1));
    }
    println!("[xtask] {}", found.trim());
    let nextest = process::output(cmd("cargo", &["nextest", "--version"]));
    if nextest.as_ref().is_ok_and(|o| o.status.success()) {
        println!("[xtask] {}", String::from_utf8_lossy(&nextest.unwrap().stdout).lines().next().unwrap_or_default());
        return Ok(());
    }
    println!("[xtask] installing cargo-nextest {NEXTEST_VERSION} (once; a few minutes)");
    if process::run(cmd("cargo", &["install", "--locked", "cargo-nextest", "--version", NEXTEST_VERSION])) {
        Ok(())
    } else {
        Err("could not install cargo-nextest".into())
    }
}

fn cmd(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// The interpreter the venvs are made with: python3.11 when present.
fn python() -> String {
    for candidate in ["python3.11", "python3"] {
        if Command::new(candidate).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return candidate.into();
        }
    }
    "python3".into()
}

fn sha256(path: &Path) -> Result<String, String> {
    let out = process::output(cmd("sha256sum", &[&path.display().to_string()])).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned())
}

/// A venv with `requirements` installed, made again only when they (or the interpreter) change.
pub fn python_venv(venv: &Path, requirements: &Path, tool: &str) -> Result<(), String> {
    let python = python();
    let interpreter = process::output(cmd(&python, &["--version"])).map_err(|e| format!("{python}: {e}"))?;
    let want = format!("{} {}", sha256(requirements)?, String::from_utf8_lossy(&interpreter.stdout).trim());
    let stamp = venv.join(".requirements.stamp");
    if venv.join("bin").join(tool).exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        println!("[xtask] {} is up to date", venv.display());
        return Ok(());
    }
    println!("[xtask] creating {} from {}", venv.display(), requirements.display());
    let _ = std::fs::remove_dir_all(venv);
    let venv_text = venv.display().to_string();
    if !process::run(cmd(&python, &["-m", "venv", &venv_text])) {
        return Err(format!("{python} -m venv failed"));
    }
    let pip = venv.join("bin/python");
    let mut install = Command::new(pip);
    install.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "-r"]).arg(requirements);
    if !process::run(install) {
        return Err(format!("pip install -r {} failed", requirements.display()));
    }
    std::fs::write(stamp, want).map_err(|e| e.to_string())
}

/// `npm ci` in `dir`, skipped when node_modules matches the lockfile.
pub fn npm_install(dir: &Path) -> Result<(), String> {
    let want = sha256(&dir.join("package-lock.json"))?;
    let stamp = dir.join("node_modules/.lockfile.stamp");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        println!("[xtask] node packages of {} are up to date", dir.display());
        return Ok(());
    }
    let mut ci = Command::new("npm");
    ci.args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"]).arg(dir);
    if !process::run(ci) {
        return Err(format!("npm ci in {} failed", dir.display()));
    }
    std::fs::write(stamp, want).map_err(|e| e.to_string())
}

/// Debian's chromium and chromium-driver (about 160 MB, once).
pub fn chromium() -> Result<(), String> {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    println!("[xtask] installing chromium and chromium-driver with apt-get");
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let apt = |args: &[&str]| {
        let mut command = if root { Command::new("apt-get") } else { cmd("sudo", &["apt-get"]) };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        process::run(command)
    };
    if apt(&["update", "-qq"]) && apt(&["install", "-y", "-qq", "chromium", "chromium-driver"]) {
        Ok(())
    } else {
        Err("apt-get could not install chromium and chromium-driver".into())
    }
}

/// Everything above but the toolchain; each result by name.
pub fn everything(root: &Path) -> Vec<(&'static str, Result<(), String>)> {
    let target = root.join("target");
    let tests = root.join("tests");
    vec![
        ("schemathesis venv", python_venv(&target.join("test-venv"), &tests.join("schemathesis/requirements.txt"), "schemathesis")),
        ("client generators venv", python_venv(&target.join("clients-venv"), &tests.join("clients/requirements.txt"), "openapi-python-client")),
        ("oidc-provider (npm)", npm_install(&tests.join("idp"))),
        ("TypeScript and Redocly (npm)", npm_install(&tests.join("clients"))),
        ("Chromium", chromium()),
    ]
}

pub fn schemathesis(root: &Path) -> PathBuf {
    root.join("target/test-venv/bin/schemathesis")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_major_and_minor() {
        assert_eq!(version("1.94"), Some((1, 94)));
        assert_eq!(version("1.95.0 (59807616e 2026-04-14)"), Some((1, 95)));
        assert!(version("1.95.0").unwrap() >= (1, 94));
        assert!(version("1.93.1").unwrap() < (1, 94));
        assert_eq!(version("nightly"), None);
    }
}
