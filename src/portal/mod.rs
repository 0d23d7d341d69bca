//! The Merchant Center: the partner-branded pages merchants land in after SSO.
//! Every page reads its session (with the account, branding, KYC and payout summary) in
//! one statement; every post checks the session's CSRF token and the user's role, and
//! acts only on the session's own account — no page takes an account id from the request.

mod accounts;
mod errors;
mod frame;
mod kyc;
pub mod off_path;
mod overview;
mod payout;
mod signed_in;
mod users;

use poem::web::{Data, Path};
use poem::{get, handler, Response, Route};
use serde::Deserialize;

pub use frame::BrandView;

use crate::domain::ids::AppId;
use crate::domain::landing::Target;
use crate::services::branding;
use crate::state::AppState;

/// `?saved=1` after a successful post (post/redirect/get), to confirm it on the page;
/// `?signed_in_again=1` after a step-up's round trip through the IdM.
#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
    signed_in_again: Option<String>,
}

/// What a money form (KYC, payout) says about step-up.
pub struct StepUpNotice {
    /// Saving needs a new sign-in first: the form is shown but cannot be sent.
    pub needed: bool,
    /// The person just came back from one.
    pub again: bool,
}

impl StepUpNotice {
    /// Nothing to say (a refused form: its session was fresh enough to be judged).
    const NONE: Self = Self { needed: false, again: false };

    fn of(state: &AppState, session: &crate::store::merchants::MerchantSessionRow, query: &Saved) -> Self {
        let may_save = session.role == crate::domain::role::Role::FinancialAdmin;
        let needed = may_save && crate::services::merchant_sessions::require_recent_sign_in(state, session).is_err();
        Self { needed, again: may_save && !needed && query.signed_in_again.is_some() }
    }
}

/// The Merchant Center page of a deep link's or step-up's target.
pub fn page_path(target: Target) -> &'static str {
    match target {
        Target::Overview => "/merchant-center",
        Target::Kyc => "/merchant-center/kyc",
        Target::Payout => "/merchant-center/payout",
        Target::Users => "/merchant-center/users",
    }
}

/// The branding of `app`, or Causeway's own when the app is unknown.
pub async fn brand(state: &AppState, app: Option<AppId>) -> BrandView {
    let row = match app {
        Some(app) => branding::get(state, app).await.ok(),
        None => None,
    };
    match (row, app) {
        (Some(b), Some(app)) => BrandView::of_partner(&app.to_string(), &b.display_name, Some(&b)),
        _ => BrandView::causeway(),
    }
}

/// The Merchant Center's "this form has expired" page, for a sign-out whose CSRF token
/// does not match the session.
pub fn expired_form(session: &crate::store::merchants::SessionRow) -> Response {
    use poem::IntoResponse;
    errors::PortalError::expired_form_of(session, "overview").into_response()
}

/// `:root { --brand: #RRGGBB }` for a partner: the colour was validated when stored, and
/// a stylesheet (not an inline style) keeps the pages' CSP strict.
#[handler]
async fn brand_stylesheet(Path(file): Path<String>, state: Data<&AppState>) -> Response {
    let app = file.strip_suffix(".css").and_then(|id| id.parse::<AppId>().ok());
    let color = match app {
        Some(app) => branding::get(&state, app).await.map(|b| b.brand_color).ok(),
        None => None,
    };
    use crate::domain::branding::BrandColor;
    let color = color.and_then(|c| BrandColor::parse(&c).ok()).unwrap_or_else(BrandColor::default_color);
    // Text on the brand colour (header, buttons, avatar) in black or white by contrast.
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header("cache-control", "public, max-age=300")
        .body(format!(":root {{ --brand: {}; --brand-ink: {}; }}\n", color.as_str(), color.ink()))
}

/// Mounted at `/merchant-center`.
pub fn routes() -> impl poem::Endpoint<Output = Response> {
    use poem::EndpointExt;
    Route::new()
        .at("/", get(overview::show))
        .at("/kyc", get(kyc::show).post(kyc::submit))
        .at("/payout", get(payout::show).post(payout::submit))
        .at("/users", get(users::show))
        .at("/accounts", get(accounts::show).post(accounts::choose))
        .catch_all_error(off_path::render_poem_error)
        .around(crate::web::headers::page_headers)
        .map_to_response()
}

/// Mounted at `/brand`: `/brand/{app_id}.css`.
pub fn brand_routes() -> Route {
    Route::new().at("/:file", get(brand_stylesheet))
}
