//! A partner's branding of its Merchant Center.

use super::{audit, ServiceError};
use crate::domain::branding::Branding;
use crate::domain::ids::AppId;
use crate::state::AppState;
use crate::store::brandings::BrandingRow;

/// The stored branding, or the defaults derived from the app's name.
pub async fn get(state: &AppState, app: AppId) -> Result<BrandingRow, ServiceError> {
    if let Some(row) = state.store.find_branding(app).await? {
        return Ok(row);
    }
    let name = state.store.find_app(app).await?.name;
    let default = Branding::default_for(&name);
    Ok(BrandingRow {
        display_name: default.display_name,
        logo_url: None,
        brand_color: default.brand_color.as_str().to_owned(),
        support_label: None,
        updated_at: 0,
    })
}

/// Validates and stores the branding; `actor` is who changed it (for the audit trail).
pub async fn put(
    state: &AppState,
    app: AppId,
    actor: &str,
    display_name: &str,
    logo_url: Option<&str>,
    brand_color: &str,
    support_label: Option<&str>,
) -> Result<BrandingRow, ServiceError> {
    let branding = Branding::parse(display_name, logo_url, brand_color, support_label, state.settings.url_policy())?;
    let row = BrandingRow {
        display_name: branding.display_name,
        logo_url: branding.logo_url.map(|u| u.as_str().to_owned()),
        brand_color: branding.brand_color.as_str().to_owned(),
        support_label: branding.support_label,
        updated_at: state.clock.now(),
    };
    state.store.upsert_branding(app, &row).await?;
    let detail = format!("display name {:?}, colour {}, logo {}", row.display_name, row.brand_color, row.logo_url.as_deref().unwrap_or("none"));
    audit::record(&state.store, &state.clock, audit::Action { chain: &app.to_string(), actor, action: "branding.set", target: "branding", detail: &detail }).await;
    Ok(row)
}
