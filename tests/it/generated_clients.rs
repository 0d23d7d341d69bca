//! The API as partners' code generators see it: clients generated from the served
//! document (openapi-python-client; openapi-typescript types for openapi-fetch) run a
//! partner's journey against a live Causeway, and Redocly's recommended rules find nothing
//! in the document. The tools are pinned in tests/clients and installed by the test command.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// A tool the test command installed; a clear failure when it did not.
fn tool(path: PathBuf) -> PathBuf {
    assert!(path.exists(), "{} is missing: the test command installs it (npm ci in tests/clients, target/clients-venv from tests/clients/requirements.txt)", path.display());
    path
}

fn node_tool(name: &str) -> PathBuf {
    tool(clients_dir().join("node_modules/.bin").join(name))
}

fn venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/clients-venv/bin")
}

async fn run(mut command: tokio::process::Command, what: &str) -> Output {
    command.kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish in 3 minutes"))
        .unwrap_or_else(|err| panic!("{what} could not start: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A Causeway whose IdM rules let the journey store a loopback issuer, with its served
/// document written into a fresh directory.
async fn served() -> (TestApp, tempfile::TempDir, PathBuf) {
    let app = spawn_app_with(&[("CAUSEWAY_ALLOW_INSECURE_IDM", "true")]).await;
    let dir = tempfile::tempdir().unwrap();
    let document = dir.path().join("openapi.json");
    let text = app.client.get(app.url("/openapi.json")).send().await.unwrap().text().await.unwrap();
    std::fs::write(&document, text).unwrap();
    (app, dir, document)
}

/// The journey's last line, checked against what the database holds for the partner.
async fn verify_journey(app: &TestApp, output: &Output, branding: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|_| panic!("a JSON last line: {stdout}"));
    let account = app.get(&format!("/accounts/{}", result["account_id"].as_str().unwrap()), &app.partner).await;
    let account: Value = account.json().await.unwrap();
    assert_eq!(account["legal_entity_id"], result["legal_entity_id"], "{account}");
    assert_eq!(app.count_legal_entities(&app.partner).await, 1, "the replay created nothing");
    assert_eq!(result["branding"], branding);
    let idm: Value = app.get("/partner/idm", &app.partner).await.json().await.unwrap();
    assert_eq!(idm["client_secret_set"], true, "{idm}");
}

fn journey_env(command: &mut tokio::process::Command, app: &TestApp) {
    command.env("CAUSEWAY_URL", app.url("")).env("APP_ID", &app.partner.app_id).env("APP_TOKEN", &app.partner.app_token);
}

#[tokio::test]
async fn a_generated_python_client_runs_the_partner_journey() {
    let (app, dir, document) = served().await;
    let package = dir.path().join("causeway_api_client");
    let venv = venv();
    // Its formatting step runs ruff from the same environment.
    let path = format!("{}:{}", venv.display(), std::env::var("PATH").unwrap_or_default());
    let mut generate = tokio::process::Command::new(tool(venv.join("openapi-python-client")));
    generate.args(["generate", "--fail-on-warning", "--meta", "none", "--path"]).arg(&document).arg("--output-path").arg(&package).env("PATH", &path);
    let generated = run(generate, "openapi-python-client generate").await;
    let log = String::from_utf8_lossy(&generated.stdout).to_string() + &String::from_utf8_lossy(&generated.stderr);
    assert!(!log.to_lowercase().contains("warning"), "generated without warnings:\n{log}");
    assert!(package.join("api/onboarding/create_legal_entity.py").is_file(), "methods are named by operationId");

    let mut journey = tokio::process::Command::new(tool(venv.join("python")));
    journey.arg(clients_dir().join("python/journey.py")).env("PYTHONPATH", dir.path());
    journey_env(&mut journey, &app);
    let output = run(journey, "the Python journey").await;
    verify_journey(&app, &output, "Py Pay").await;
}

#[tokio::test]
async fn generated_typescript_types_compile_and_run_the_partner_journey() {
    let (app, dir, document) = served().await;
    let work = dir.path();
    for file in ["journey.ts", "tsconfig.json"] {
        std::fs::copy(clients_dir().join("typescript").join(file), work.join(file)).unwrap();
    }
    // Resolution of openapi-fetch and the node types from the pinned install.
    std::os::unix::fs::symlink(clients_dir().join("node_modules"), work.join("node_modules")).unwrap();
    std::fs::write(work.join("package.json"), r#"{"type": "module"}"#).unwrap();

    let mut types = tokio::process::Command::new(node_tool("openapi-typescript"));
    types.arg(&document).arg("--output").arg(work.join("schema.d.ts")).current_dir(work);
    run(types, "openapi-typescript").await;
    let schema = std::fs::read_to_string(work.join("schema.d.ts")).unwrap();
    assert!(schema.contains("create_legal_entity: {"), "the operations map is filled");

    // tsc type-checks everything (an unused @ts-expect-error fails too) and emits the JS.
    let mut compile = tokio::process::Command::new(node_tool("tsc"));
    compile.args(["-p", "tsconfig.json", "--outDir", "out"]).current_dir(work);
    run(compile, "tsc").await;
    let mut journey = tokio::process::Command::new("node");
    journey.arg(work.join("out/journey.js")).current_dir(work);
    journey_env(&mut journey, &app);
    let output = run(journey, "the TypeScript journey").await;
    verify_journey(&app, &output, "TS Pay").await;
}

#[tokio::test]
async fn redocly_finds_nothing_in_the_served_document() {
    let (_app, dir, document) = served().await;
    let mut lint = tokio::process::Command::new(node_tool("redocly"));
    // The recommended rules, without a config file; no telemetry, no update check.
    lint.arg("lint").arg(&document).args(["--format", "json"]).env("REDOCLY_TELEMETRY", "off").env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true").current_dir(dir.path());
    let output = run(lint, "redocly lint").await;
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("a JSON report: {}", String::from_utf8_lossy(&output.stdout)));
    assert_eq!(report["totals"]["errors"], 0, "{report}");
    assert_eq!(report["totals"]["warnings"], 0, "{report}");
}
