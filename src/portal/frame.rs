//! What every signed-in Merchant Center page shows around its content: the partner's
//! branding, navigation for the user's role, who is signed in, the sign-out form.

use poem::http::{header, StatusCode};
use poem::web::Html;
use poem::{IntoResponse, Response};

use crate::domain::role::Role;
use crate::web::headers::page_policy;
use crate::store::brandings::BrandingRow;
use crate::store::merchants::{MerchantSessionRow, SessionRow};

/// What every partner-branded page shows of the partner.
#[derive(Debug)]
pub struct BrandView {
    pub display_name: String,
    pub logo_url: Option<String>,
    pub support_label: Option<String>,
    /// URL of the colour stylesheet; its version lets browsers cache it until the partner
    /// changes the branding.
    pub stylesheet: String,
}

impl BrandView {
    pub fn causeway() -> Self {
        Self { display_name: "Causeway".into(), logo_url: None, support_label: None, stylesheet: "/brand/default.css".into() }
    }

    /// The partner's branding, or its app name before it sets one.
    pub fn of_partner(app: &str, app_name: &str, branding: Option<&BrandingRow>) -> Self {
        match branding {
            Some(b) => Self {
                display_name: b.display_name.clone(),
                logo_url: b.logo_url.clone(),
                support_label: b.support_label.clone(),
                stylesheet: format!("/brand/{app}.css?v={}", b.updated_at),
            },
            None => Self { display_name: app_name.to_owned(), logo_url: None, support_label: None, stylesheet: format!("/brand/{app}.css?v=0") },
        }
    }

    pub fn of_session(session: &MerchantSessionRow) -> Self {
        Self::of_partner(&session.app_id.to_string(), &session.app_name, session.branding.as_ref())
    }

    pub fn of_any(session: &SessionRow) -> Self {
        match session {
            SessionRow::Bound(s) => Self::of_session(s),
            SessionRow::Choosing(s) => Self::of_partner(&s.app_id.to_string(), &s.app_name, s.branding.as_ref()),
        }
    }
}

/// The navigation, the user and the sign-out form around a signed-in page (its branding
/// is the page's `BrandView`).
pub struct Frame {
    pub csrf_token: String,
    /// Navigation entry of the page: "overview", "kyc", "payout", "users".
    pub active: &'static str,
    pub account_name: String,
    pub user_name: String,
    pub email: String,
    pub role_label: &'static str,
    pub role_class: &'static str,
    pub is_admin: bool,
    /// The person reaches several accounts: the navigation offers a switch.
    pub can_switch: bool,
    /// Signed in, but no account chosen yet: no navigation.
    pub choosing: bool,
    /// Origins the sign-out form leads through (for the page's CSP).
    pub sign_out_origins: String,
}

impl Frame {
    pub fn new(session: &MerchantSessionRow, active: &'static str) -> Self {
        Self {
            csrf_token: session.csrf_token.clone(),
            active,
            account_name: session.account_name.clone(),
            user_name: format!("{} {}", session.given_name, session.family_name).trim().to_owned(),
            email: session.email.clone(),
            role_label: session.role.label(),
            role_class: role_class(session.role),
            is_admin: session.role == Role::FinancialAdmin,
            can_switch: session.reachable_accounts > 1,
            choosing: false,
            sign_out_origins: session.sign_out_origins.clone(),
        }
    }

    /// The frame of any live session: a choosing one has no account or role yet.
    pub fn of_any(session: &SessionRow, active: &'static str) -> Self {
        match session {
            SessionRow::Bound(s) => Self::new(s, active),
            SessionRow::Choosing(s) => Self {
                csrf_token: s.csrf_token.clone(),
                active,
                account_name: String::new(),
                user_name: format!("{} {}", s.given_name, s.family_name).trim().to_owned(),
                email: s.email.clone(),
                role_label: "Choose an account",
                role_class: "moderator",
                is_admin: false,
                can_switch: true,
                choosing: true,
                sign_out_origins: s.sign_out_origins.clone(),
            },
        }
    }

    /// `aria-current` for a navigation entry.
    pub fn current(&self, entry: &str) -> &'static str {
        if self.active == entry { "page" } else { "false" }
    }

    /// Initials for the avatar: "Alice Merchant" → "AM".
    pub fn initials(&self) -> String {
        self.user_name.split_whitespace().filter_map(|w| w.chars().next()).take(2).flat_map(char::to_uppercase).collect()
    }
}

/// Brief on purpose: a frame carries the CSRF token and personal data.
impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame").field("active", &self.active).finish_non_exhaustive()
    }
}

/// A rendered page of a signed-in user: its CSP lets the sign-out form reach the IdM.
pub fn page_response(status: StatusCode, html: String, sign_out_origins: &str) -> Response {
    let mut response = (status, Html(html)).into_response();
    if let Some(policy) = page_policy(sign_out_origins) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// "United States of America (US)" for "US".
pub fn country_name(code: &str) -> String {
    isocountry::CountryCode::for_alpha2(code).map_or_else(|_| code.to_owned(), |c| format!("{} ({code})", c.name()))
}

pub fn role_class(role: Role) -> &'static str {
    match role {
        Role::FinancialAdmin => "financial-admin",
        Role::Moderator => "moderator",
    }
}
