//! The demo's partner, set up the way an operator and a partner would: the app, its IdM
//! configuration and branding, then a legal entity and an account through onboarding.

use secrecy::SecretString;

use super::idp::{self, Client};
use super::people::{CONTROLLER, MODERATOR};
use crate::crypto::random::url_safe_token;
use crate::domain::field_error::FieldError;
use crate::domain::grant::NewGrant;
use crate::domain::idm_config::{ClaimDomain, IdmConfigInput};
use crate::domain::ids::{AccountId, AppId};
use crate::domain::onboarding::{LegalEntityInput, NewAccount, NewLegalEntity};
use crate::services::apps::{self, AppPrincipal};
use crate::services::{ServiceError, branding, grants, idm, onboarding};
use crate::state::AppState;

pub const PARTNER_NAME: &str = "Demo Platform";
pub const ACCOUNT_NAME: &str = "Demo Coffee Roasters";
/// The second partner, whose IdM is a hosted login (seed 000's model).
pub const HOSTED_PARTNER_NAME: &str = "Demo Directory";
pub const HOSTED_ACCOUNT_NAME: &str = "Demo Tea House";
pub const HOSTED_SITE_KEY: &str = "causeway-demo";
/// Namespaces the account claim; `.test` is reserved (RFC 2606), so it is nobody's.
const CLAIM_DOMAIN: &str = "demo.causeway.test";
const BRAND_COLOR: &str = "#7C3AED";
const SUPPORT_LABEL: &str =
    "Questions? Demo Platform support is here for you (not really: this is a demo).";
const ACCOUNT_DESCRIPTION: &str =
    "Small-batch coffee, roasted to order. Created by causeway demo.";
/// Who the IdM history names as the author of the configuration.
const CHANGED_BY: &str = "causeway demo";

pub struct Seeded {
    pub app_id: AppId,
    pub app_token: SecretString,
    pub account_id: AccountId,
    /// Causeway as registered at the demo IdM.
    pub client: Client,
    pub account_claim: String,
}

fn claim_domain() -> Result<ClaimDomain, ServiceError> {
    ClaimDomain::parse(CLAIM_DOMAIN).map_err(|invalid| {
        ServiceError::Invalid(vec![FieldError::new(
            &["domain"],
            invalid.reason,
            invalid.message,
        )])
    })
}

pub async fn seed(state: &AppState, issuer: &str) -> Result<Seeded, ServiceError> {
    let credential = apps::create(&state.store, &state.clock, PARTNER_NAME).await?;
    let app_id = credential.app_id;
    // Random, as a partner's IdM would issue them: nothing of one demo works in another.
    let client = Client {
        client_id: format!("causeway-demo-{}", url_safe_token(9)),
        client_secret: SecretString::from(url_safe_token(32)),
        redirect_uri: idm::redirect_uri(state, app_id),
        post_logout_redirect_uri: format!("{issuer}{}", idp::SIGNED_OUT_PATH),
    };
    let config = IdmConfigInput {
        issuer: Some(issuer.to_owned()),
        client_id: Some(client.client_id.clone()),
        token_endpoint_auth_method: Some("client_secret_basic".into()),
        domain: Some(CLAIM_DOMAIN.into()),
        logout_url: Some(client.post_logout_redirect_uri.clone()),
        ..IdmConfigInput::default()
    };
    let secrets = idm::Secrets { client_secret: Some(&client.client_secret), service_key: None };
    idm::put(state, app_id, &config, secrets, CHANGED_BY).await?;
    branding::put(
        state,
        app_id,
        CHANGED_BY,
        PARTNER_NAME,
        None,
        BRAND_COLOR,
        Some(SUPPORT_LABEL),
    )
    .await?;

    // The demo acts as the partner it has just registered, as the Onboarding API would
    // after checking the App-Token.
    let partner = AppPrincipal::checked(app_id, PARTNER_NAME.into());
    let account = onboarding_account(state, &partner, ACCOUNT_NAME, ACCOUNT_DESCRIPTION).await?;
    Ok(Seeded {
        app_id,
        app_token: credential.app_token,
        account_id: account,
        client,
        account_claim: claim_domain()?.account_claim(),
    })
}

/// A legal entity whose controller is the demo's controller, and an account under it.
async fn onboarding_account(state: &AppState, partner: &AppPrincipal, name: &str, description: &str) -> Result<AccountId, ServiceError> {
    let now = state.clock.now();
    let legal_entity = NewLegalEntity::parse(
        LegalEntityInput { country: "US", controller_email: CONTROLLER.email, controller_email_verified: true, terms: Some((now, "127.0.0.1")) },
        now,
    )
    .map_err(ServiceError::Invalid)?;
    let legal_entity = onboarding::create_legal_entity(state, partner, legal_entity, None).await?.row;
    let account = NewAccount::parse(&legal_entity.id.to_string(), name, Some(description)).map_err(ServiceError::Invalid)?;
    Ok(onboarding::create_account(state, partner, account, None).await?.row.id)
}

pub struct SeededHosted {
    pub app_id: AppId,
    pub app_token: SecretString,
    pub account_id: AccountId,
    pub service_key: SecretString,
}

/// The second partner: its IdM is the demo's hosted-login directory at `base_url`. The
/// controller reaches the account by the controller rule; the moderator by a grant on
/// their directory id, as a partner would make it with `POST /accounts/{id}/users`.
pub async fn seed_hosted(state: &AppState, base_url: &str) -> Result<SeededHosted, ServiceError> {
    let credential = apps::create(&state.store, &state.clock, HOSTED_PARTNER_NAME).await?;
    let app_id = credential.app_id;
    let service_key = SecretString::from(format!("demo-key-{}", url_safe_token(24)));
    let config = IdmConfigInput {
        kind: Some("hosted_login".into()),
        base_url: Some(base_url.to_owned()),
        site_key: Some(HOSTED_SITE_KEY.into()),
        user_id_field: Some("user_id".into()),
        logout_url: Some(format!("{base_url}{}", super::hosted::SIGNED_OUT_PATH)),
        ..IdmConfigInput::default()
    };
    idm::put(state, app_id, &config, idm::Secrets { client_secret: None, service_key: Some(&service_key) }, CHANGED_BY).await?;
    branding::put(state, app_id, CHANGED_BY, HOSTED_PARTNER_NAME, None, "#0E7490", Some("Demo Directory support (a demo, too).")).await?;
    let partner = AppPrincipal::checked(app_id, HOSTED_PARTNER_NAME.into());
    let account_id = onboarding_account(state, &partner, HOSTED_ACCOUNT_NAME, "Loose-leaf tea by the gram. Created by causeway demo.").await?;
    let grant = NewGrant::parse(None, None, Some(&MODERATOR.directory_id.to_string()), None).map_err(ServiceError::Invalid)?;
    grants::grant(state, &partner, &account_id.to_string(), &grant, None).await?;
    Ok(SeededHosted { app_id, app_token: credential.app_token, account_id, service_key })
}
