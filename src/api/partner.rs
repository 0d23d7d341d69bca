//! The Partner API: what the Partner Center shows and edits, for automation.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use secrecy::SecretString;

use super::auth::AppAuth;
use super::error::ApiError;
use super::partner_models::*;
use super::payload::ApiJson;
use crate::domain::field_error::Reason;
use crate::services::{audit, branding, idm, sso_events, test_sign_ins};
use crate::state::AppState;

#[derive(Tags)]
pub(super) enum Tag {
    /// The partner's IdM configuration, branding and SSO event log.
    Partner,
}

/// Who made a change, as the configuration history records it.
const CHANGED_BY_API: &str = crate::domain::audit::actor::API;

#[derive(ApiResponse)]
enum IdmConfigResponse {
    /// The configuration (secrets only as whether they are set).
    #[oai(status = 200)]
    Ok(Json<IdmConfigView>),
}

#[derive(ApiResponse)]
enum IdmTestResponse {
    /// The report; `ok` is false when a step failed (the check itself succeeded).
    #[oai(status = 200)]
    Ok(Json<IdmTestReport>),
}

#[derive(ApiResponse)]
enum IdmHistoryResponse {
    /// The versions, newest first.
    #[oai(status = 200)]
    Ok(Json<IdmHistory>),
}

#[derive(ApiResponse)]
enum BrandingResponse {
    /// The branding.
    #[oai(status = 200)]
    Ok(Json<BrandingView>),
}

#[derive(ApiResponse)]
enum TestSignInStarted {
    /// Open `url` in a browser to sign in at the IdM; the report is then at
    /// `GET /partner/idm/test_sign_ins/{id}`.
    #[oai(status = 201)]
    Created(Json<TestSignInStart>),
}

#[derive(ApiResponse)]
enum TestSignInFound {
    /// The test sign-in: `pending` until the IdM's answer came back, then its report.
    #[oai(status = 200)]
    Ok(Json<TestSignInReport>),
}

#[derive(ApiResponse)]
enum HealthResponse {
    /// The figures of the window.
    #[oai(status = 200)]
    Ok(Json<PartnerHealth>),
}

fn health_window() -> String {
    "24h".into()
}

#[derive(ApiResponse)]
enum AuditEventsResponse {
    /// The entries, newest first.
    #[oai(status = 200)]
    Ok(Json<AuditEventList>),
}

#[derive(ApiResponse)]
enum SsoEventsResponse {
    /// The events, newest first.
    #[oai(status = 200)]
    Ok(Json<SsoEventList>),
}

fn history_limit() -> i64 {
    idm::HISTORY_LIMIT_DEFAULT
}

fn events_limit() -> i64 {
    sso_events::LIMIT_DEFAULT
}

pub struct PartnerApi;

#[OpenApi(tag = "Tag::Partner")]
impl PartnerApi {
    /// Get the IdM configuration
    ///
    /// The IdM configuration (never its secret), the redirect URI to register at the IdM and
    /// the CTA URL to link merchants to.
    #[oai(path = "/partner/idm", method = "get", operation_id = "get_idm_config")]
    async fn get_idm(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
    ) -> Result<IdmConfigResponse, ApiError> {
        Ok(IdmConfigResponse::Ok(Json(idm::get(&state, auth.0.app_id).await?.into())))
    }

    /// Set the IdM configuration
    ///
    /// Of either kind (OpenID Connect or hosted login); validated (https, no internal
    /// addresses) before it is stored as a new version. The secret is write-only: leave it
    /// out to keep the stored one.
    #[oai(path = "/partner/idm", method = "put", operation_id = "set_idm_config")]
    async fn put_idm(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        body: ApiJson<IdmConfigBody>,
    ) -> Result<IdmConfigResponse, ApiError> {
        let client_secret = body.value.client_secret.clone().map(SecretString::from);
        let service_key = body.value.service_key.clone().map(SecretString::from);
        let secrets = idm::Secrets { client_secret: client_secret.as_ref(), service_key: service_key.as_ref() };
        let view = idm::put(&state, auth.0.app_id, &body.value.input(), secrets, CHANGED_BY_API).await?;
        Ok(IdmConfigResponse::Ok(Json(view.into())))
    }

    /// Test the IdM connection
    ///
    /// A live check of the stored configuration, step by step: for OpenID Connect discovery,
    /// issuer, endpoints, capabilities, userinfo and JWKS; for a hosted login the login page
    /// and the exchange's acceptance of the service key.
    #[oai(path = "/partner/idm/test", method = "post", operation_id = "test_idm_config")]
    async fn test_idm(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
    ) -> Result<IdmTestResponse, ApiError> {
        Ok(IdmTestResponse::Ok(Json(idm::test(&state, auth.0.app_id).await?.into())))
    }

    /// Start a test sign-in
    ///
    /// A sign-in through your IdM exactly like a merchant's, checked against every rule (not
    /// just up to the first failure) and opening no Merchant Center session. Open the `url`
    /// in a browser; the report expires after 24 hours.
    #[oai(path = "/partner/idm/test_sign_in", method = "post", operation_id = "start_test_sign_in")]
    async fn start_test_sign_in(&self, auth: AppAuth, state: Data<&AppState>) -> Result<TestSignInStarted, ApiError> {
        let started = test_sign_ins::start(&state, auth.0.app_id, CHANGED_BY_API).await?;
        Ok(TestSignInStarted::Created(Json(TestSignInStart { id: started.id, url: started.url, expires_at: started.expires_at })))
    }

    /// Get a test sign-in's report
    ///
    /// Every rule with passed or failed, what was observed and the fix; the claims of the ID
    /// token and of userinfo side by side; the algorithm, `kid` and clock offset; the account
    /// and role the identity would get. Another app's test sign-in is a 404.
    #[oai(path = "/partner/idm/test_sign_ins/:id", method = "get", operation_id = "get_test_sign_in")]
    async fn get_test_sign_in(&self, auth: AppAuth, state: Data<&AppState>, id: Path<String>) -> Result<TestSignInFound, ApiError> {
        let found = test_sign_ins::find(&state, auth.0.app_id, &id.0).await?;
        Ok(TestSignInFound::Ok(Json(found.into())))
    }

    /// List IdM configuration versions
    ///
    /// Earlier versions of the IdM configuration, newest first: when, by whom, whether the
    /// secret changed (never the secret).
    #[oai(path = "/partner/idm/history", method = "get", operation_id = "list_idm_config_versions")]
    async fn idm_history(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// At most this many versions.
        #[oai(default = "history_limit", validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<i64>,
    ) -> Result<IdmHistoryResponse, ApiError> {
        let versions = idm::history(&state, auth.0.app_id, limit.0).await?;
        Ok(IdmHistoryResponse::Ok(Json(IdmHistory { versions: versions.into_iter().map(Into::into).collect() })))
    }

    /// Restore an IdM configuration version
    ///
    /// Makes an earlier version current again, recorded as a new version.
    #[oai(path = "/partner/idm/history/:version/restore", method = "post", operation_id = "restore_idm_config_version")]
    async fn restore_idm(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// A version number from the history (the spec declares it an integer, 1 or more).
        version: Path<String>,
    ) -> Result<IdmConfigResponse, ApiError> {
        // Parsed here rather than by the extractor, whose error could not name the parameter.
        let version = version.0.parse::<i64>().ok().filter(|v| *v >= 1).ok_or_else(|| {
            ApiError::invalid_one(&["version"], Reason::InvalidParameter, "The version must be a version number from the history: an integer, 1 or more.")
        })?;
        Ok(IdmConfigResponse::Ok(Json(idm::restore(&state, auth.0.app_id, version, CHANGED_BY_API).await?.into())))
    }

    /// Get the branding
    ///
    /// How the Merchant Center looks for your merchants: name, logo, colour, support line.
    #[oai(path = "/partner/branding", method = "get", operation_id = "get_branding")]
    async fn get_branding(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
    ) -> Result<BrandingResponse, ApiError> {
        Ok(BrandingResponse::Ok(Json(branding::get(&state, auth.0.app_id).await?.into())))
    }

    /// Set the branding
    ///
    /// How the Merchant Center looks for your merchants; applies to the next page they open.
    #[oai(path = "/partner/branding", method = "put", operation_id = "set_branding")]
    async fn put_branding(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        body: ApiJson<BrandingBody>,
    ) -> Result<BrandingResponse, ApiError> {
        let b = &body.value;
        let row = branding::put(&state, auth.0.app_id, CHANGED_BY_API, &b.display_name, b.logo_url.as_deref(), &b.brand_color, b.support_label.as_deref()).await?;
        Ok(BrandingResponse::Ok(Json(row.into())))
    }

    /// List SSO events
    ///
    /// Recent sign-in attempts of this app, newest first: outcome, error code, detail (never
    /// a token or secret), correlation id.
    #[oai(path = "/partner/sso_events", method = "get", operation_id = "list_sso_events")]
    async fn sso_events(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// At most this many events.
        #[oai(default = "events_limit", validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<i64>,
    ) -> Result<SsoEventsResponse, ApiError> {
        let events = sso_events::recent(&state, auth.0.app_id, limit.0).await?;
        Ok(SsoEventsResponse::Ok(Json(SsoEventList { events: events.into_iter().map(Into::into).collect() })))
    }

    /// Get sign-in health
    ///
    /// Sign-ins started, succeeded and failed by error code, the success rate, callback and
    /// token-endpoint latency (p50, p95: the upper bounds of their buckets), and the IdM's
    /// clock offsets, over the last 24 hours or 7 days, from every replica.
    #[oai(path = "/partner/health", method = "get", operation_id = "get_health")]
    async fn health(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// `24h` or `7d`.
        #[oai(default = "health_window", validator(pattern = "^(24h|7d)$"))]
        window: Query<String>,
    ) -> Result<HealthResponse, ApiError> {
        let health = crate::services::health::report(&state, auth.0.app_id, &window.0).await?;
        Ok(HealthResponse::Ok(Json(health.into())))
    }

    /// List audit events
    ///
    /// The app's append-only audit trail, newest first: every change of its IdM
    /// configuration, branding, grants and sessions, and every operator action on it. Each
    /// entry carries `hash = SHA-256(prev_hash ‖ entry)`; `causeway audit verify` checks the chain.
    #[oai(path = "/partner/audit_events", method = "get", operation_id = "list_audit_events")]
    async fn audit_events(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// At most this many entries.
        #[oai(default = "events_limit", validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<i64>,
    ) -> Result<AuditEventsResponse, ApiError> {
        let entries = audit::recent(&state.store, auth.0.app_id, limit.0).await?;
        Ok(AuditEventsResponse::Ok(Json(AuditEventList { events: entries.into_iter().map(Into::into).collect() })))
    }
}
