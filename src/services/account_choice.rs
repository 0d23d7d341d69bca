//! A person who reaches several accounts chooses one after sign-in, and may switch later
//! without another round trip through the IdM. Access is read again from the current
//! grants at every choice: a grant removed meanwhile no longer offers its account.

use super::access;
use super::ServiceError;
use crate::crypto::session_ids::id_hash;
use crate::domain::access::Reach;
use crate::state::AppState;
use crate::store::grants::PersonKeys;
use crate::store::merchants::{Membership, SessionRow};

/// The accounts the session's person may choose among, by account name.
pub async fn choices(state: &AppState, session: &SessionRow) -> Result<Vec<Reach>, ServiceError> {
    let (email_key, phone_key, subject) = state.store.user_access_keys(session.user_id()).await?;
    let keys = PersonKeys { email_key: email_key.as_deref(), phone_key: phone_key.as_deref(), subject: &subject };
    access::switchable(state, session.app_id(), keys).await
}

/// Binds the session of `cookie` to `account`, if its person reaches it now; records the
/// sign-in on the account. `NotFound` when they do not.
pub async fn choose(state: &AppState, cookie: &str, session: &SessionRow, account: &str) -> Result<Reach, ServiceError> {
    let reach = choices(state, session)
        .await?
        .into_iter()
        .find(|r| r.account.to_string() == account)
        .ok_or(ServiceError::NotFound { field: None })?;
    let membership = Membership { account: reach.account, role: reach.role, source: reach.source };
    state.store.record_membership(session.user_id(), membership, state.clock.now()).await?;
    state.store.bind_merchant_session(&id_hash(cookie), membership).await?;
    Ok(reach)
}
