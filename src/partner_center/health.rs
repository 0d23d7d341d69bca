//! "Health": the app's sign-ins over 24 hours or 7 days, as figures and as a bar chart
//! drawn here as SVG (no script; the page's CSP stays strict), with the same numbers as a
//! table for screen readers.

use askama::Template;
use poem::handler;
use poem::web::{Data, Html, Query};
use serde::Deserialize;

use super::errors::PageError;
use super::session::PartnerSession;
use super::view::Shell;
use crate::services::health::{self, Health};
use crate::state::AppState;
use crate::web::view::when;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Window {
    window: Option<String>,
}

/// One hour's bar: succeeded stacked on failed, in chart units.
pub struct Bar {
    pub x: f64,
    pub width: f64,
    pub failed_y: f64,
    pub failed_height: f64,
    pub succeeded_y: f64,
    pub succeeded_height: f64,
    pub label: String,
}

const CHART_WIDTH: f64 = 720.0;
const CHART_HEIGHT: f64 = 160.0;

fn bars(health: &Health) -> Vec<Bar> {
    let max = health.hourly.iter().map(|h| h.succeeded + h.failed).max().unwrap_or(0).max(1) as f64;
    let slot = CHART_WIDTH / health.hourly.len().max(1) as f64;
    health
        .hourly
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let failed_height = h.failed as f64 / max * CHART_HEIGHT;
            let succeeded_height = h.succeeded as f64 / max * CHART_HEIGHT;
            Bar {
                x: i as f64 * slot + slot * 0.1,
                width: slot * 0.8,
                failed_y: CHART_HEIGHT - failed_height,
                failed_height,
                succeeded_y: CHART_HEIGHT - failed_height - succeeded_height,
                succeeded_height,
                label: format!("{}: {} succeeded, {} failed, {} started", when(h.hour), h.succeeded, h.failed, h.started),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "partner_center/health.html")]
struct HealthPage {
    shell: Shell,
    health: Health,
    bars: Vec<Bar>,
    success_rate: String,
    chart_width: f64,
    chart_height: f64,
}

/// Caller: a signed-in partner.
#[handler]
pub async fn page(signed_in: PartnerSession, state: Data<&AppState>, Query(window): Query<Window>) -> Result<Html<String>, PageError> {
    let window = window.window.unwrap_or_else(|| "24h".into());
    let health = health::report(&state, signed_in.app_id, if window == "7d" { "7d" } else { "24h" }).await?;
    let success_rate = health.success_rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1} %", r * 100.0));
    let page = HealthPage { shell: Shell::new(&signed_in, "health"), bars: bars(&health), success_rate, chart_width: CHART_WIDTH, chart_height: CHART_HEIGHT, health };
    Ok(Html(page.render()?))
}
