//! `causeway demo`: Causeway on a throwaway SQLite database beside a built-in demo IdM,
//! with one partner onboarded and two people ready to sign in. Everything lives in a
//! temporary directory that is deleted when the demo stops.

pub mod hosted;
pub mod idp;
pub mod people;
mod report;
mod seed;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use secrecy::SecretString;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keyring::MasterKey;
use crate::services::idm;
use crate::startup::{bind, Application};
use idp::{Provider, ProviderConfig};
use report::Report;

/// Runs the demo until `shutdown` resolves, then deletes everything it created. The
/// caller installs the signal handlers behind `shutdown` before calling, so a Ctrl-C
/// during setup still ends in the cleanup rather than leaving the directory behind.
pub async fn run(
    settings: Settings,
    json: bool,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let data_dir = tempfile::Builder::new()
        .prefix("causeway-demo-")
        .tempdir()
        .context("could not create the demo's data directory")?;
    // Both ports are bound first: the public URL and the issuer must name the real ports,
    // and CAUSEWAY_LISTEN may ask for port 0.
    let causeway_listener = bind(settings.listen, "CAUSEWAY_LISTEN").await?;
    let idm_listener = bind(settings.demo_idm_listen, "CAUSEWAY_DEMO_IDM_LISTEN").await?;
    let issuer = base_url(idm_listener.local_addr()?);
    let settings = demo_settings(settings, data_dir.path(), causeway_listener.local_addr()?);
    let public_url = settings.public_url.clone();
    let app = Application::build_on(settings, Clock::system(), causeway_listener).await?;
    let state = app.state().clone();

    let seeded = seed::seed(&state, &issuer)
        .await
        .context("could not set up the demo partner")?;
    let cta_url = idm::cta_url(&state, seeded.app_id);
    let directory_base = format!("{issuer}{}", hosted::BASE_PATH);
    let hosted_seed = seed::seed_hosted(&state, &directory_base).await.context("could not set up the demo's hosted-login partner")?;
    let hosted_cta = idm::cta_url(&state, hosted_seed.app_id);
    let directory = hosted::Directory::new(
        seed::HOSTED_SITE_KEY.into(),
        hosted_seed.service_key.clone(),
        idm::redirect_uri(&state, hosted_seed.app_id),
        seed::HOSTED_PARTNER_NAME.into(),
        hosted_cta.clone(),
        Clock::system(),
    )?;
    let provider = Provider::new(
        ProviderConfig {
            issuer: issuer.clone(),
            client: seeded.client,
            account_claim: seeded.account_claim,
            account_id: seeded.account_id.to_string(),
            partner_name: seed::PARTNER_NAME.into(),
            cta_url: cta_url.clone(),
        },
        Clock::system(),
    )?;
    let report = Report {
        public_url: &public_url,
        cta_url,
        app_id: seeded.app_id,
        app_token: &seeded.app_token,
        account_id: seeded.account_id,
        idm_issuer: &issuer,
        data_dir: data_dir.path(),
        hosted: report::HostedReport {
            cta_url: hosted_cta,
            app_id: hosted_seed.app_id,
            app_token: &hosted_seed.app_token,
            account_id: hosted_seed.account_id,
            base_url: &directory_base,
        },
    };
    let (stop_idm, idm_stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = state.settings.server_limits();
    let body_limit = crate::web::body_limit::BodyLimit::new(64 * 1024, std::time::Duration::from_secs(30), crate::web::body_limit::refuse_page);
    use poem::EndpointExt;
    let idm_routes = poem::Route::new()
        .nest(hosted::BASE_PATH, hosted::routes(Arc::new(directory)))
        .nest("/", idp::routes(Arc::new(provider)))
        .with(body_limit);
    let idm_server = tokio::spawn(crate::web::server::serve(idm_listener, idm_routes, limits, async {
        let _ = idm_stopped.await;
    }));
    // Causeway's socket already listens, so a click that comes before `run_until` waits
    // in the backlog rather than failing.
    report
        .print(json)
        .context("could not print the demo's details")?;
    tracing::info!(causeway = %public_url, demo_idm = %issuer, data_dir = %data_dir.path().display(), "demo running");
    let served = app.run_until(shutdown).await;
    let _ = stop_idm.send(());
    let idm_served = idm_server.await;
    // The store is closed by now, so nothing writes into the directory as it goes.
    data_dir
        .close()
        .context("could not delete the demo's data directory")?;
    tracing::info!("demo stopped; its data is deleted");
    served?;
    idm_served??;
    Ok(())
}

/// The operator's settings, pointed at the demo: its own database, its own address, and
/// the plain-http loopback IdM allowed.
fn demo_settings(mut settings: Settings, data_dir: &Path, bound: SocketAddr) -> Settings {
    let database = data_dir.join("causeway.db");
    settings.database_url = SecretString::from(format!("sqlite://{}?mode=rwc", database.display()));
    // A key of its own, kept only in memory: the operator's real master key has no
    // business sealing throwaway secrets, and a key file would come with a warning to
    // back it up.
    settings.master_key = Some(MasterKey::generate().1);
    settings.master_key_previous = None;
    settings.allow_insecure_idm = true;
    settings.listen = bound;
    settings.public_url = base_url(bound);
    settings
}

/// How a browser on this machine reaches `addr`; a wildcard bind is reached on loopback.
fn base_url(mut addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_name_a_reachable_address() {
        assert_eq!(
            base_url("127.0.0.1:41234".parse().unwrap()),
            "http://127.0.0.1:41234"
        );
        assert_eq!(
            base_url("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert_eq!(base_url("[::]:8080".parse().unwrap()), "http://[::1]:8080");
        assert_eq!(base_url("[::1]:8080".parse().unwrap()), "http://[::1]:8080");
    }
}
