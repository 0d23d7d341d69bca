//! The branding form (name, logo, colour, support label) with a live preview of the
//! Merchant Center header, and the stylesheet that carries the brand colour (the CSP
//! allows no inline styles, so the colour reaches the page as a stylesheet of our own).

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Form, Html, Query, Redirect};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;

use super::errors::PageError;
use super::session::PartnerSession;
use super::view::{ago, Shell};
use crate::web::view::FieldErrors;
use super::BASE_PATH;
use crate::domain::branding::{BrandColor, DEFAULT_BRAND_COLOR};
use crate::services::{branding, ServiceError};
use crate::state::AppState;
use crate::store::brandings::BrandingRow;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BrandingForm {
    display_name: String,
    logo_url: String,
    brand_color: String,
    support_label: String,
    csrf_token: String,
}

pub struct BrandingValues {
    pub display_name: String,
    pub logo_url: String,
    pub brand_color: String,
    pub support_label: String,
}

impl BrandingValues {
    /// The monogram the preview shows when there is no logo.
    pub fn initial(&self) -> String {
        self.display_name.trim().chars().next().map_or_else(|| "?".to_owned(), |c| c.to_uppercase().collect())
    }
}

impl From<&BrandingRow> for BrandingValues {
    fn from(b: &BrandingRow) -> Self {
        Self {
            display_name: b.display_name.clone(),
            logo_url: b.logo_url.clone().unwrap_or_default(),
            brand_color: b.brand_color.clone(),
            support_label: b.support_label.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "partner_center/branding.html")]
struct BrandingPage {
    shell: Shell,
    v: BrandingValues,
    errors: FieldErrors,
    /// A valid `#rrggbb` for the colour picker, even when the text field holds a typo.
    picker_color: String,
    custom: bool,
    updated: String,
    notice: Option<&'static str>,
}

/// Text colour that stays readable on `color`, a `#RRGGBB` (WCAG relative luminance).
pub fn ink_for(color: &str) -> &'static str {
    let hex = color.trim_start_matches('#');
    let channel = |i: usize| {
        let c = f64::from(hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0)) / 255.0;
        if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    // Above this, dark text has more contrast than white.
    if luminance > 0.179 { "#0F172A" } else { "#FFFFFF" }
}

/// `raw` as a valid `#RRGGBB`, or the default colour.
fn valid_or_default(raw: &str) -> String {
    BrandColor::parse(raw).map_or_else(|_| DEFAULT_BRAND_COLOR.to_owned(), |c| c.as_str().to_owned())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Saved {
    saved: Option<String>,
}

/// The branding form with a live preview. Caller: a signed-in partner.
#[handler]
pub async fn show(signed_in: PartnerSession, state: Data<&AppState>, Query(saved): Query<Saved>) -> Result<Html<String>, PageError> {
    let current = branding::get(&state, signed_in.app_id).await?;
    let page = BrandingPage {
        shell: Shell::new(&signed_in, "branding"),
        picker_color: valid_or_default(&current.brand_color).to_ascii_lowercase(),
        v: BrandingValues::from(&current),
        errors: FieldErrors::default(),
        custom: current.updated_at != 0,
        updated: ago(current.updated_at, state.clock.now()),
        notice: saved.saved.map(|_| "Branding saved. Merchants see it at their next page view."),
    };
    Ok(Html(page.render()?))
}

/// Validates and stores the branding; on errors, shows the form again with a message
/// next to each bad field. Caller: a signed-in partner (CSRF-checked).
#[handler]
pub async fn save(signed_in: PartnerSession, state: Data<&AppState>, Form(form): Form<BrandingForm>) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf_token)?;
    let result = branding::put(&state, signed_in.app_id, &form.display_name, Some(&form.logo_url), form.brand_color.trim(), Some(&form.support_label)).await;
    match result {
        Ok(_) => Ok(Redirect::see_other(format!("{BASE_PATH}/branding?saved=1")).into_response()),
        Err(ServiceError::Invalid(field_errors)) => {
            let current = branding::get(&state, signed_in.app_id).await?;
            let page = BrandingPage {
                shell: Shell::new(&signed_in, "branding"),
                picker_color: BrandColor::parse(form.brand_color.trim()).map_or_else(|_| valid_or_default(&current.brand_color), |c| c.as_str().to_owned()).to_ascii_lowercase(),
                v: BrandingValues {
                    display_name: form.display_name,
                    logo_url: form.logo_url,
                    brand_color: form.brand_color,
                    support_label: form.support_label,
                },
                errors: FieldErrors::from_service(&field_errors),
                custom: current.updated_at != 0,
                updated: ago(current.updated_at, state.clock.now()),
                notice: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// `--brand` and `--brand-ink` for the stored brand colour. Caller: a signed-in partner's pages.
#[handler]
pub async fn stylesheet(signed_in: PartnerSession, state: Data<&AppState>) -> Result<Response, PageError> {
    let current = branding::get(&state, signed_in.app_id).await?;
    let color = valid_or_default(&current.brand_color);
    let css = format!(":root {{ --brand: {color}; --brand-ink: {}; }}\n", ink_for(&color));
    Ok(Response::builder().content_type("text/css; charset=utf-8").body(css))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_contrasts_with_the_brand() {
        let ink = ink_for;
        assert_eq!(ink("#000000"), "#FFFFFF");
        assert_eq!(ink("#1A56DB"), "#FFFFFF");
        assert_eq!(ink("#FFFFFF"), "#0F172A");
        assert_eq!(ink("#FACC15"), "#0F172A");
    }
}
