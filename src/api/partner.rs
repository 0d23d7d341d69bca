//! The Partner API: what the Partner Center shows and edits, for automation.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use secrecy::SecretString;

use super::auth::AppAuth;
use super::error::ApiError;
use super::onboarding::ApiVersion;
use super::partner_models::*;
use super::payload::ApiJson;
use crate::services::{branding, idm, sso_events};
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// The partner's IdM configuration, branding and SSO event log.
    Partner,
}

/// Who made a change, as the configuration history records it.
const CHANGED_BY_API: &str = "Partner API";

#[derive(ApiResponse)]
enum IdmConfigResponse {
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
    #[oai(status = 200)]
    Ok(Json<IdmHistory>),
}

#[derive(ApiResponse)]
enum BrandingResponse {
    #[oai(status = 200)]
    Ok(Json<BrandingView>),
}

#[derive(ApiResponse)]
enum SsoEventsResponse {
    #[oai(status = 200)]
    Ok(Json<SsoEventList>),
}

pub struct PartnerApi;

#[OpenApi(tag = "Tag::Partner")]
impl PartnerApi {
    /// Read the IdM configuration (never the client secret), the redirect URI to register
    /// at the IdM and the CTA URL. Caller: a partner app.
    #[oai(path = "/partner/idm", method = "get")]
    async fn get_idm(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        #[oai(name = "App-Id")] _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
    ) -> Result<IdmConfigResponse, ApiError> {
        Ok(IdmConfigResponse::Ok(Json(idm::get(&state, auth.0.app_id).await?.into())))
    }

    /// Set the IdM configuration, of either kind (OpenID Connect or hosted login); validated
    /// (https, no internal addresses) before it is stored as a new version. Caller: a
    /// partner app.
    #[oai(path = "/partner/idm", method = "put")]
    async fn put_idm(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        #[oai(name = "App-Id")] _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        body: ApiJson<IdmConfigBody>,
    ) -> Result<IdmConfigResponse, ApiError> {
        let client_secret = body.value.client_secret.clone().map(SecretString::from);
        let service_key = body.value.service_key.clone().map(SecretString::from);
        let secrets = idm::Secrets { client_secret: client_secret.as_ref(), service_key: service_key.as_ref() };
        let view = idm::put(&state, auth.0.app_id, &body.value.input(), secrets, CHANGED_BY_API).await?;
        Ok(IdmConfigResponse::Ok(Json(view.into())))
    }

    /// Live check of the stored configuration, step by step: for OIDC discovery, issuer,
    /// endpoints, capabilities, userinfo and JWKS; for a hosted login the login page and
    /// the exchange's acceptance of the service key. Caller: a partner app.
    #[oai(path = "/partner/idm/test", method = "post")]
    async fn test_idm(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        #[oai(name = "App-Id")] _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
    ) -> Result<IdmTestResponse, ApiError> {
        Ok(IdmTestResponse::Ok(Json(idm::test(&state, auth.0.app_id).await?.into())))
    }

    /// Earlier versions of the IdM configuration, newest first (secrets redacted).
    /// Caller: a partner app.
    #[oai(path = "/partner/idm/history", method = "get")]
    async fn idm_history(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        #[oai(name = "App-Id")] _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        /// At most this many versions (1–100, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
    ) -> Result<IdmHistoryResponse, ApiError> {
        let versions = idm::history(&state, auth.0.app_id, limit.0.unwrap_or(20)).await?;
        Ok(IdmHistoryResponse::Ok(Json(IdmHistory { versions: versions.into_iter().map(Into::into).collect() })))
    }

    /// Make an earlier version current again (recorded as a new version). Caller: a
    /// partner app.
    #[oai(path = "/partner/idm/history/:version/restore", method = "post")]
    async fn restore_idm(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        #[oai(name = "App-Id")] _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        version: Path<i64>,
    ) -> Result<IdmConfigResponse, ApiError> {
        Ok(IdmConfigResponse::Ok(Json(idm::restore(&state, auth.0.app_id, version.0, CHANGED_BY_API).await?.into())))
    }

    /// Read the Merchant Center branding. Caller: a partner app.
    #[oai(path = "/partner/branding", method = "get")]
    async fn get_branding(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        #[oai(name = "App-Id")] _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
    ) -> Result<BrandingResponse, ApiError> {
        Ok(BrandingResponse::Ok(Json(branding::get(&state, auth.0.app_id).await?.into())))
    }

    /// Set the Merchant Center branding. Caller: a partner app.
    #[oai(path = "/partner/branding", method = "put")]
    async fn put_branding(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        #[oai(name = "App-Id")] _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        body: ApiJson<BrandingBody>,
    ) -> Result<BrandingResponse, ApiError> {
        let b = &body.value;
        let row = branding::put(&state, auth.0.app_id, &b.display_name, b.logo_url.as_deref(), &b.brand_color, b.support_label.as_deref()).await?;
        Ok(BrandingResponse::Ok(Json(row.into())))
    }

    /// Recent SSO attempts of this app, newest first: outcome, error code, detail (never
    /// a token or secret). Caller: a partner app.
    #[oai(path = "/partner/sso_events", method = "get")]
    async fn sso_events(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        #[oai(name = "App-Id")] _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        /// At most this many events (1–200, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
    ) -> Result<SsoEventsResponse, ApiError> {
        let events = sso_events::recent(&state, auth.0.app_id, limit.0.unwrap_or(sso_events::LIMIT_DEFAULT)).await?;
        Ok(SsoEventsResponse::Ok(Json(SsoEventList { events: events.into_iter().map(Into::into).collect() })))
    }
}
