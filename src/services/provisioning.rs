//! From a verified identity to a local user with a role on an account of the same app.

use crate::domain::ids::{AccountId, AppId};
use crate::domain::role::Role;
use crate::domain::sso_error::SsoError;
use crate::federation::oidc::claims::FederatedIdentity;
use crate::state::AppState;
use crate::store::merchants::UserProfile;

pub struct Linked {
    pub user_id: String,
    pub account: AccountId,
    pub role: Role,
}

pub async fn link(state: &AppState, app: AppId, identity: &FederatedIdentity) -> Result<Linked, SsoError> {
    let account: AccountId = identity.account_id.parse().map_err(|_| SsoError::AccountUnknown)?;
    let owner = state.store.account_owner(account).await?.ok_or(SsoError::AccountUnknown)?;
    // A token from partner A naming partner B's account: the worst bug this product
    // could have. The account must belong to the app whose IdM signed the token.
    if owner.app_id != app {
        return Err(SsoError::AccountOtherPartner);
    }
    let role = Role::for_user(&identity.email, &owner.controller_email, owner.controller_email_verified);
    let profile = UserProfile {
        app_id: app,
        issuer: &identity.issuer,
        subject: &identity.subject,
        email: &identity.email,
        given_name: &identity.given_name,
        family_name: &identity.family_name,
    };
    let user_id = state.store.provision_user(&profile, account, role, state.clock.now()).await?;
    Ok(Linked { user_id, account, role })
}
