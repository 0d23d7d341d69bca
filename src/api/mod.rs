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
