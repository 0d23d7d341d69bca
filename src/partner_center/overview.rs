//! The overview: what is configured, what is missing, and what to do next.

use askama::Template;
use poem::handler;
use poem::web::{Data, Html};

use super::errors::PageError;
use super::events::EventView;
use super::session::PartnerSession;
use super::view::{ago, Shell};
use crate::services::{branding, idm, sso_events};
use crate::state::AppState;

pub struct Step {
    pub title: &'static str,
    pub detail: &'static str,
    pub done: bool,
    pub href: &'static str,
    pub action: &'static str,
}

#[derive(Template)]
#[template(path = "partner_center/overview.html")]
struct OverviewPage {
    shell: Shell,
    configured: bool,
    version: i64,
    idm_updated: String,
    /// A hosted login (site key and service key) rather than OpenID Connect.
    hosted: bool,
    issuer: String,
    client_id: String,
    secret_set: bool,
    redirect_uri: String,
    cta_url: String,
    display_name: String,
    brand_color: String,
    logo_url: String,
    branding_custom: bool,
    events: Vec<EventView>,
    steps: Vec<Step>,
    steps_done: usize,
}

/// Events shown on the overview; the log page has the rest.
const RECENT: i64 = 5;

/// The overview. Caller: a signed-in partner.
#[handler]
pub async fn page(signed_in: PartnerSession, state: Data<&AppState>) -> Result<Html<String>, PageError> {
    let app = signed_in.app_id;
    let now = state.clock.now();
    let view = idm::get(&state, app).await?;
    let brand = branding::get(&state, app).await?;
    let events = sso_events::recent(&state, app, RECENT).await?;
    let any_success = events.iter().any(|e| e.outcome == "succeeded");
    let configured = view.config.is_some();
    let branding_custom = brand.updated_at != 0;
    let steps = vec![
        Step {
            title: "Connect your identity provider",
            detail: "Tell Causeway how your IdM signs people in: OpenID Connect (issuer, client, secret) or a hosted login (site key, service key).",
            done: configured && view.secret_set,
            href: "/partner-center/idm",
            action: if configured { "Edit IdM" } else { "Set up IdM" },
        },
        Step {
            title: "Register the redirect URI in your IdM",
            detail: "Add the redirect URI below to the client's allowed callback URLs; then run “Test connection”.",
            done: any_success,
            href: "#links-title",
            action: "Show redirect URI",
        },
        Step {
            title: "Brand your Merchant Center",
            detail: "Your name, logo and colour, so merchants know they are still with you.",
            done: branding_custom,
            href: "/partner-center/branding",
            action: if branding_custom { "Edit branding" } else { "Set branding" },
        },
        Step {
            title: "Add the sign-in link to your product",
            detail: "Point your “Open Merchant Center” button at the CTA URL. Sign-ins appear in the event log.",
            done: any_success,
            href: "/partner-center/events",
            action: "View event log",
        },
    ];
    let steps_done = steps.iter().filter(|s| s.done).count();
    let config = view.config.unwrap_or_default();
    let page = OverviewPage {
        shell: Shell::new(&signed_in, "overview"),
        configured,
        version: view.version.unwrap_or_default(),
        idm_updated: view.updated_at.map(|t| ago(t, now)).unwrap_or_default(),
        hosted: config.kind.as_deref() == Some("hosted_login"),
        issuer: config.location().to_owned(),
        client_id: config.client_label().to_owned(),
        secret_set: view.secret_set,
        redirect_uri: view.redirect_uri,
        cta_url: view.cta_url,
        display_name: brand.display_name,
        brand_color: brand.brand_color,
        logo_url: brand.logo_url.unwrap_or_default(),
        branding_custom,
        events: events.into_iter().map(|e| EventView::new(e, now)).collect(),
        steps,
        steps_done,
    };
    Ok(Html(page.render()?))
}
