//! Partner-facing JSON APIs, described by one OpenAPI document.

pub mod access;
pub mod access_models;
pub mod auth;
pub mod error;
pub mod models;
pub mod onboarding;
pub mod partner;
pub mod partner_models;
pub mod payload;
pub mod spec;

use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::{ContactObject, LicenseObject, OpenApiService, ServerObject};

pub type ApiService = OpenApiService<(onboarding::OnboardingApi, access::AccessApi, partner::PartnerApi), ()>;

/// The API, whose one server is this Causeway at `public_url`.
pub fn service(public_url: &str) -> ApiService {
    OpenApiService::new((onboarding::OnboardingApi, access::AccessApi, partner::PartnerApi), "Causeway API", env!("CARGO_PKG_VERSION"))
        .summary("Onboard merchants and run their single sign-on")
        .description(
            "The Onboarding API (legal entities, accounts, who may sign in to them) and the Partner API (your IdM, \
             branding, the SSO event log, session revocation) of Causeway. Every call carries `App-Id`, `App-Token` \
             and `Api-Version: 3.0` (set them once on your client); errors have one shape: `error_code`, \
             `error_message`, `details[]`; every response carries `X-Correlation-Id`.",
        )
        .server(ServerObject::new(public_url).description("This Causeway"))
        .contact(ContactObject::new().name("Causeway").url(format!("{public_url}/docs")))
        .license(LicenseObject::new("Proprietary").identifier("LicenseRef-Proprietary"))
}

/// poem takes a header whose bytes are not visible ASCII for an absent one: a `Unique-Key`
/// written in, say, UTF-8 would silently make the request not idempotent. Such a key is
/// refused before any operation runs (contract: 1 to 255 visible ASCII characters).
pub async fn refuse_unreadable_unique_key<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    if req.headers().get_all("unique-key").iter().any(|value| value.to_str().is_err()) {
        use crate::domain::field_error::Reason;
        let message = "Unique-Key must be 1 to 255 visible ASCII characters.";
        return Ok(error::ApiError::invalid_one(&["Unique-Key"], Reason::InvalidHeader, message).into_response());
    }
    next.call(req).await.map(IntoResponse::into_response)
}
