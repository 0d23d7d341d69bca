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

use poem_openapi::OpenApiService;

pub type ApiService = OpenApiService<(onboarding::OnboardingApi, access::AccessApi, partner::PartnerApi), ()>;

/// The API and its spec. The spec names no server, so the committed copy does not
/// depend on where Causeway runs.
pub fn service() -> ApiService {
    OpenApiService::new((onboarding::OnboardingApi, access::AccessApi, partner::PartnerApi), "Causeway API", env!("CARGO_PKG_VERSION"))
        .description(
            "Onboarding and Partner APIs for partner platforms. Every call carries App-Id, App-Token and Api-Version: 3.0; \
             errors have one shape: error_code, error_message, details[].",
        )
}

/// The spec as served at `/openapi.json` and committed at `openapi/causeway.json`.
pub fn spec_json() -> String {
    service().spec()
}
