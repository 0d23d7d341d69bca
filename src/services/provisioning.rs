//! From a person an IdM vouched for to a local user and a Merchant Center session: the
//! user keyed by (app, issuer, subject), their sign-in on the account, the session.

use secrecy::SecretString;

use super::access::Access;
use super::merchant_sessions::{self, Opening};
use crate::domain::identity::Person;
use crate::domain::ids::AppId;
use crate::domain::sso_error::SsoError;
use crate::state::AppState;
use crate::store::merchants::{Membership, UserProfile};

pub struct SignedIn {
    pub session_id: String,
    /// Who signed in where, for the partner's event log (no token, no code).
    pub summary: String,
    /// Whether the person must choose an account first.
    pub choosing: bool,
}

/// Provisions the user and opens the session: bound to the one account the person
/// reaches, or waiting for a choice among several.
pub async fn sign_in(
    state: &AppState,
    app: AppId,
    person: &Person,
    access: Access,
    logout_hint: Option<&SecretString>,
    sign_out_origins: &str,
) -> Result<SignedIn, SsoError> {
    let email_key = person.verified_email_key();
    let profile = UserProfile {
        app_id: app,
        issuer: &person.issuer,
        subject: &person.subject,
        email: person.email.as_deref(),
        email_key: email_key.as_deref(),
        phone_number: person.phone.as_deref(),
        phone_key: person.verified_phone(),
        given_name: &person.given_name,
        family_name: &person.family_name,
    };
    let now = state.clock.now();
    let user_id = state.store.upsert_user(&profile, now).await?;
    let reachable_accounts = match &access {
        Access::One(_) => 1,
        Access::Several(reached) => reached.len(),
    };
    let (membership, summary) = match &access {
        Access::One(reach) => {
            let membership = Membership { account: reach.account, role: reach.role, source: reach.source };
            // The membership is the record of who signed in where; a user whose membership
            // write failed holds no session either (it is opened after).
            state.store.record_membership(&user_id, membership, now).await?;
            (Some(membership), format!("{} signed in to account {} as {} ({}).", person.label(), reach.account, reach.role.label(), reach.source.as_str()))
        }
        Access::Several(reached) => (None, format!("{} signed in and chooses among {} accounts.", person.label(), reached.len())),
    };
    let opening = Opening { membership, reachable_accounts, logout_hint, sign_out_origins };
    let session_id = merchant_sessions::open(state, app, &user_id, opening).await.map_err(|e| {
        tracing::error!(error = %e, "could not open a merchant session");
        SsoError::Internal
    })?;
    Ok(SignedIn { session_id, summary, choosing: membership.is_none() })
}
