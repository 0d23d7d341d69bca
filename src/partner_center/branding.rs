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
use crate::domain::branding::{BrandColor, DEFAULT_BRAND_COLOR, MIN_TEXT_CONTRAST};
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
    /// Set when the colour, as link text on white, stays under WCAG AA.
    contrast_warning: Option<String>,
}

/// The sentence the form shows when `color` is too light (or too bright) as text on white.
fn contrast_warning(color: &str) -> Option<String> {
    let ratio = BrandColor::parse(color).ok()?.contrast_on_white();
    (ratio < MIN_TEXT_CONTRAST).then(|| {
        format!(
            "As text on white (links, the selected menu entry) this colour reaches {ratio:.1}:1, under the {MIN_TEXT_CONTRAST}:1 that WCAG AA asks of text: merchants may not read it. A darker shade keeps the look and reads well."
        )
    })
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
        contrast_warning: contrast_warning(&current.brand_color),
    };
    Ok(Html(page.render()?))
}

/// Validates and stores the branding; on errors, shows the form again with a message
/// next to each bad field. Caller: a signed-in partner (CSRF-checked).
#[handler]
pub async fn save(signed_in: PartnerSession, state: Data<&AppState>, Form(form): Form<BrandingForm>) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf_token)?;
    let result = branding::put(&state, signed_in.app_id, super::CHANGED_BY, &form.display_name, Some(&form.logo_url), form.brand_color.trim(), Some(&form.support_label)).await;
    match result {
        Ok(_) => Ok(Redirect::see_other(format!("{BASE_PATH}/branding?saved=1")).into_response()),
        Err(ServiceError::Invalid(field_errors)) => {
            let current = branding::get(&state, signed_in.app_id).await?;
            let warning = contrast_warning(form.brand_color.trim());
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
                contrast_warning: warning,
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
    let color = BrandColor::parse(&current.brand_color).unwrap_or_else(|_| BrandColor::default_color());
    let css = format!(":root {{ --brand: {}; --brand-ink: {}; }}\n", color.as_str(), color.ink());
    Ok(Response::builder().content_type("text/css; charset=utf-8").body(css))
}
