//! From a person an IdM vouched for to a local user and a Merchant Center session: the
//! user keyed by (app, issuer, subject), their sign-in on the account, the session, the
//! partner's event — one write.

use secrecy::SecretString;

use super::access::Access;
use super::{merchant_sessions, sso_events};
use crate::domain::identity::Person;
use crate::domain::ids::AppId;
use crate::domain::sso_error::SsoError;
use crate::state::AppState;
use crate::store::merchants::{Membership, SignIn, UsedState, UserProfile};
use crate::store::StoreError;

/// What the new session keeps of the login, besides the person and the account.
pub struct SessionFacts<'a> {
    /// What sign-out hands back to the IdM (the ID token, as `id_token_hint`).
    pub logout_hint: Option<&'a SecretString>,
    pub sign_out_origins: &'a str,
    /// The IdM's session (`sid`), for back-channel logout.
    pub idm_sid: Option<String>,
    /// When the person authenticated at the IdM, for step-up.
    pub authenticated_at: i64,
    /// The login's state, recorded used by the sign-in's write.
    pub used_state: &'a UsedState,
}

pub struct SignedIn {
    pub session_id: String,
    /// Whether the person must choose an account first.
    pub choosing: bool,
}

/// Provisions the user and opens the session — bound to the one account the person
/// reaches, or waiting for a choice among several — and logs the sign-in in the partner's
/// event log, in one write.
pub async fn sign_in(
    state: &AppState,
    app: AppId,
    person: &Person,
    access: Access,
    facts: &SessionFacts<'_>,
    correlation_id: &str,
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
    let (membership, reachable_accounts, summary) = match &access {
        Access::One(reach) => (
            Some(Membership { account: reach.account, role: reach.role, source: reach.source }),
            1,
            format!("{} signed in to account {} as {} ({}).", person.label(), reach.account, reach.role.label(), reach.source.as_str()),
        ),
        Access::Several(reached) => (None, reached.len(), format!("{} signed in and chooses among {} accounts.", person.label(), reached.len())),
    };
    let now = state.clock.now();
    let session = merchant_sessions::new_session(state, facts.logout_hint, now);
    let written = state
        .store
        .sign_in(&SignIn {
            profile,
            membership,
            session_id_hash: &session.id_hash,
            csrf_token: &session.csrf_token,
            logout_hint_sealed: session.logout_hint_sealed.as_deref(),
            sign_out_origins: facts.sign_out_origins,
            reachable_accounts: reachable_accounts as i64,
            expires_at: session.expires_at,
            idm_sid: facts.idm_sid.as_deref(),
            authenticated_at: facts.authenticated_at,
            event_id: &sso_events::new_event_id(),
            event_detail: &summary,
            correlation_id,
            signed_in_at: now,
            used_state: facts.used_state,
        })
        .await;
    // A refused write whose state is now recorded used lost to another callback with that
    // state; any other refusal is an error of ours.
    if let Err(StoreError::Conflict { .. }) = &written {
        let used = facts.used_state;
        if let Ok(Some(now_known)) = state.store.callback_facts(app, &used.hash, used.expires_at).await
            && now_known.used
        {
            return Err(SsoError::StateReplayed);
        }
    }
    written?;
    Ok(SignedIn { session_id: session.id, choosing: membership.is_none() })
}
