//! The Merchant Center merchants land in after SSO (the full portal — KYC, payout,
//! users — is built on this page's session and branding).

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Html, Path};
use poem::{get, handler, IntoResponse, Request, Response, Route};

use crate::domain::ids::AppId;
use crate::domain::role::Role;
use crate::services::{branding, merchant_sessions};
use crate::state::AppState;
use crate::web::session::read_cookie;

/// What every partner-branded page shows of the partner.
pub struct BrandView {
    pub display_name: String,
    pub logo_url: Option<String>,
    pub support_label: Option<String>,
}

/// The branding of `app`, or Causeway's own when the app is unknown.
pub async fn brand(state: &AppState, app: Option<AppId>) -> (BrandView, String) {
    let row = match app {
        Some(app) => branding::get(state, app).await.ok(),
        None => None,
    };
    match (row, app) {
        (Some(b), Some(app)) => (
            BrandView { display_name: b.display_name, logo_url: b.logo_url, support_label: b.support_label },
            format!("/brand/{app}.css?v={}", b.updated_at),
        ),
        _ => (BrandView { display_name: "Causeway".into(), logo_url: None, support_label: None }, "/brand/default.css".into()),
    }
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
    let color = color.unwrap_or_else(|| crate::domain::branding::DEFAULT_BRAND_COLOR.to_owned());
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header("cache-control", "public, max-age=300")
        .body(format!(":root {{ --brand: {color}; }}\n"))
}

#[derive(Template)]
#[template(path = "portal/overview.html")]
struct Overview {
    brand: BrandView,
    brand_css: String,
    account_name: String,
    account_id: String,
    user_name: String,
    email: String,
    role_label: &'static str,
    role_class: &'static str,
    csrf_token: String,
}

/// The signed-in merchant's overview. Caller: a merchant user with a session.
#[handler]
async fn overview(req: &Request, state: Data<&AppState>) -> Response {
    let session = match read_cookie(req, merchant_sessions::COOKIE) {
        Some(cookie) => merchant_sessions::find(&state, cookie).await.ok().flatten(),
        None => None,
    };
    let Some(session) = session else {
        return (StatusCode::UNAUTHORIZED, Html("<!doctype html><title>Signed out</title><p>You are signed out. Sign in again from your platform.</p>")).into_response();
    };
    let (brand, brand_css) = brand(&state, Some(session.app_id)).await;
    let page = Overview {
        brand,
        brand_css,
        account_name: session.account_name,
        account_id: session.account_id.to_string(),
        user_name: format!("{} {}", session.given_name, session.family_name),
        email: session.email,
        role_label: session.role.label(),
        role_class: match session.role {
            Role::FinancialAdmin => "financial-admin",
            Role::Moderator => "moderator",
        },
        csrf_token: session.csrf_token,
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "merchant center page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Mounted at `/merchant-center`.
pub fn routes() -> impl poem::Endpoint<Output = Response> {
    use poem::EndpointExt;
    Route::new().at("/", get(overview)).around(crate::web::headers::page_headers).map_to_response()
}

/// Mounted at `/brand`: `/brand/{app_id}.css`.
pub fn brand_routes() -> Route {
    Route::new().at("/:file", get(brand_stylesheet))
}
