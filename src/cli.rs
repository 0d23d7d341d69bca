//! The `causeway` operator command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::clock::Clock;
use crate::config::{LogFormat, Settings};
use crate::domain::app::AppStatus;
use crate::domain::ids::AppId;
use crate::domain::audit::{actor, OPERATOR_CHAIN};
use crate::services::{apps, audit, master_key, ServiceError};
use crate::startup::{load_keyring, open_store, Application};
use crate::telemetry;

#[derive(Parser)]
#[command(name = "causeway", version, about = "SSO federation broker for hosted merchant portals")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (configuration from CAUSEWAY_* variables).
    Serve {
        /// Once listening, write the bound address (host:port, a line) to this file: how a
        /// supervisor or a test learns the port CAUSEWAY_LISTEN=127.0.0.1:0 took.
        #[arg(long, value_name = "PATH")]
        ready_file: Option<std::path::PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Try Causeway on this machine: a throwaway database, a built-in demo IdM and two
    /// onboarded partners (one on OpenID Connect, one on a hosted login), each with two
    /// people; prints the sign-in links to click. Ctrl-C stops
    /// it and deletes its data. Causeway listens on CAUSEWAY_LISTEN (127.0.0.1:8080; port 0
    /// picks a free one), the demo IdM on CAUSEWAY_DEMO_IDM_LISTEN (a free loopback port).
    #[cfg(feature = "demo")]
    Demo {
        #[arg(long)]
        json: bool,
    },
    /// Manage partner apps.
    #[command(subcommand)]
    App(AppCommand),
    /// Re-seal every stored secret under the current master key. With a key file, a new
    /// key is generated; with CAUSEWAY_MASTER_KEY, set the new key there and the old one
    /// in CAUSEWAY_MASTER_KEY_PREVIOUS first.
    RotateMasterKey {
        #[arg(long)]
        json: bool,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk every app's hash chain; exit 1 naming the first entry of each chain that was
    /// altered, removed or reordered.
    Verify {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Register a partner app; prints its App-Id and App-Token (shown once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Issue a new App-Token (shown once); the old one stops working at once.
    RotateToken {
        app_id: AppId,
        #[arg(long)]
        json: bool,
    },
    /// Refuse the app's API calls and SSO until it is activated again.
    Suspend { app_id: AppId },
    /// Let a suspended app back in.
    Activate { app_id: AppId },
    /// List apps with status, token prefix and when the token was last used.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("causeway: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(log_format(&cli.command, &settings));
    for name in Settings::unknown_variables(std::env::vars().map(|(k, _)| k)) {
        tracing::warn!(variable = %name, "unknown CAUSEWAY_ variable ignored (typo?)");
    }
    match dispatch(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("causeway: {}", describe(&err));
            ExitCode::FAILURE
        }
    }
}

/// Someone trying the demo reads its log in a terminal; servers feed theirs to machines.
fn log_format(command: &Command, settings: &Settings) -> LogFormat {
    match command {
        #[cfg(feature = "demo")]
        Command::Demo { .. } if std::env::var_os("CAUSEWAY_LOG_FORMAT").is_none() => LogFormat::Pretty,
        _ => settings.log_format,
    }
}

fn describe(err: &anyhow::Error) -> String {
    match err.downcast_ref::<ServiceError>() {
        Some(ServiceError::NotFound { .. }) => "no app has this id".into(),
        Some(ServiceError::Invalid(errors)) => errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "),
        _ => format!("{err:#}"),
    }
}

async fn dispatch(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { ready_file } => serve(settings, ready_file.as_deref()).await,
        Command::Migrate => {
            open_store(&settings).await?.close().await;
            println!("migrations applied");
            Ok(())
        }
        #[cfg(feature = "demo")]
        Command::Demo { json } => {
            crate::web::server::raise_open_file_limit();
            crate::demo::run(settings, json, shutdown_signal()).await
        }
        Command::App(command) => app_command(command, settings).await,
        Command::Audit(AuditCommand::Verify { json }) => audit_verify(&settings, json).await,
        Command::RotateMasterKey { json } => {
            let store = open_store(&settings).await?;
            let report = master_key::rotate(&store, load_keyring(&settings)?).await;
            if let Ok(report) = &report {
                let detail = format!("{} secret(s) re-sealed", report.resealed);
                let target = format!("master key {}", report.key_id);
                operator_action(&store, OPERATOR_CHAIN, "master_key.rotate", &target, &detail).await;
            }
            store.close().await;
            let report = report?;
            if json {
                println!("{}", json!({ "key_id": report.key_id, "resealed": report.resealed }));
            } else {
                println!("Master key {} is current; {} secret(s) re-sealed.", report.key_id, report.resealed);
            }
            Ok(())
        }
    }
}

/// An operator action in the audit trail of `chain` (an app, or `OPERATOR_CHAIN`).
async fn operator_action(store: &crate::store::Store, chain: &str, action: &str, target: &str, detail: &str) {
    let entry = audit::Action { chain, actor: actor::OPERATOR, action, target, detail };
    audit::record(store, &Clock::system(), entry).await;
}

/// Exit status 1 (through the error) when a chain is broken.
async fn audit_verify(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let report = audit::verify(&store).await;
    store.close().await;
    let report = report?;
    if json {
        let breaks: Vec<_> = report.breaks.iter().map(|b| json!({"chain": b.chain, "seq": b.seq, "problem": b.problem})).collect();
        println!("{}", json!({"chains": report.chains, "entries": report.entries, "intact": breaks.is_empty(), "breaks": breaks}));
    } else {
        println!("{} chain(s), {} entries checked.", report.chains, report.entries);
        for b in &report.breaks {
            println!("Chain {}: entry {}: {}.", b.chain, b.seq, b.problem);
        }
    }
    match report.breaks.len() {
        0 => Ok(()),
        n => anyhow::bail!("the audit trail does not hold: {n} chain(s) broken"),
    }
}

async fn serve(settings: Settings, ready_file: Option<&std::path::Path>) -> anyhow::Result<()> {
    crate::web::server::raise_open_file_limit();
    let app = Application::build(settings).await?;
    tracing::info!(address = %app.local_addr(), backend = ?app.state().store.backend(), "listening");
    if let Some(path) = ready_file {
        write_ready_file(path, app.local_addr())?;
    }
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Written whole or not at all (a rename), so a reader never sees half an address.
fn write_ready_file(path: &std::path::Path, address: std::net::SocketAddr) -> anyhow::Result<()> {
    use anyhow::Context;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, format!("{address}\n")).with_context(|| format!("could not write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("could not write {}", path.display()))
}

/// Resolves at Ctrl-C, SIGTERM or SIGHUP (its terminal closed). The handlers are installed
/// by this call, not at the first poll, so a signal that arrives while a command is still
/// starting up does not take the default action and skip the cleanup (the demo deletes its
/// data directory).
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (|| Ok::<_, std::io::Error>((signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?, signal(SignalKind::hangup())?)))()
    };
    async move {
        #[cfg(unix)]
        if let Ok((mut interrupt, mut terminate, mut hangup)) = signals {
            tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {}, _ = hangup.recv() => {} }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn app_command(command: AppCommand, settings: Settings) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let clock = Clock::system();
    let outcome = match command {
        AppCommand::Create { name, json } => {
            let issued = apps::create(&store, &clock, &name).await?;
            operator_action(&store, &issued.app_id.to_string(), "app.create", "app", &format!("name {name:?}")).await;
            print_credential(&issued, json, "App created.");
            Ok(())
        }
        AppCommand::RotateToken { app_id, json } => {
            let issued = apps::rotate_token(&store, &clock, app_id).await?;
            operator_action(&store, &app_id.to_string(), "app.rotate_token", "App-Token", "a new token; the previous one stopped working").await;
            print_credential(&issued, json, "Token rotated; the previous token no longer works.");
            Ok(())
        }
        AppCommand::Suspend { app_id } => {
            apps::set_status(&store, app_id, AppStatus::Suspended).await?;
            operator_action(&store, &app_id.to_string(), "app.suspend", "app", "API calls and sign-ins refused").await;
            println!("App {app_id} suspended.");
            Ok(())
        }
        AppCommand::Activate { app_id } => {
            apps::set_status(&store, app_id, AppStatus::Active).await?;
            operator_action(&store, &app_id.to_string(), "app.activate", "app", "API calls and sign-ins allowed again").await;
            println!("App {app_id} activated.");
            Ok(())
        }
        AppCommand::List { json } => {
            let list = apps::list(&store).await?;
            print_apps(&list, json);
            Ok(())
        }
    };
    store.close().await;
    outcome
}

fn print_credential(issued: &apps::IssuedCredential, json: bool, headline: &str) {
    let token = issued.app_token.expose_secret();
    if json {
        println!("{}", json!({ "app_id": issued.app_id.to_string(), "app_token": token }));
    } else {
        println!("{headline}\n  App-Id:    {}\n  App-Token: {token}\nThe token is shown only now: store it in your secret manager.", issued.app_id);
    }
}

fn print_apps(list: &[crate::store::apps::AppRow], json: bool) {
    if json {
        let apps: Vec<_> = list
            .iter()
            .map(|a| {
                json!({
                    "app_id": a.id.to_string(),
                    "name": a.name,
                    "status": a.status.as_str(),
                    "token_prefix": a.token_prefix,
                    "token_created_at": a.token_created_at,
                    "token_last_used_at": a.token_last_used_at,
                    "created_at": a.created_at,
                })
            })
            .collect();
        println!("{}", json!({ "apps": apps }));
        return;
    }
    println!("{:<36}  {:<9}  {:<14}  {:<20}  NAME", "APP ID", "STATUS", "TOKEN", "TOKEN LAST USED (UTC)");
    for a in list {
        let last_used = a.token_last_used_at.map_or_else(|| "never".to_owned(), utc);
        println!("{:<36}  {:<9}  {:<14}  {:<20}  {}", a.id.to_string(), a.status.as_str(), format!("{}…", a.token_prefix), last_used, a.name);
    }
}

fn utc(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| unix.to_string())
}
