//! Which accounts a signed-in person reaches, by the contract's order: the IdM's account
//! claim, else the partner's grants and the controller rule, else none.

use crate::domain::access::{self, Reach};
use crate::domain::identity::Person;
use crate::domain::ids::{AccountId, AppId};
use crate::domain::sso_error::SsoError;
use crate::state::AppState;
use crate::store::grants::PersonKeys;

pub enum Access {
    One(Reach),
    /// The person chooses on `/merchant-center/accounts`.
    Several(Vec<Reach>),
}

pub async fn resolve(state: &AppState, app: AppId, person: &Person) -> Result<Access, SsoError> {
    let email_key = person.verified_email_key();
    let keys = PersonKeys { email_key: email_key.as_deref(), phone_key: person.verified_phone(), subject: &person.subject };
    if let Some(claimed) = &person.account_claim {
        // A token from partner A naming partner B's account: the worst bug this product
        // could have. The account must belong to the app whose IdM signed the token.
        let found = state.store.claimed_account(claimed, keys).await?;
        return match found.first() {
            None => Err(SsoError::AccountUnknown),
            Some((owner, _)) if *owner != app => Err(SsoError::AccountOtherPartner),
            Some(_) => {
                let candidates: Vec<_> = found.into_iter().map(|(_, c)| c).collect();
                access::by_claim(&candidates).map(Access::One).ok_or(SsoError::AccountUnknown)
            }
        };
    }
    let mut reached = access::by_grants(state.store.granted_accounts(app, keys).await?);
    match reached.len() {
        0 => Err(SsoError::AccountNotGranted),
        1 => Ok(Access::One(reached.remove(0))),
        _ => Ok(Access::Several(reached)),
    }
}

/// A deep link's or step-up's account out of what the person reaches: the usual
/// `account_not_granted` when it is not among them.
pub fn only(access: Access, account: AccountId) -> Result<Access, SsoError> {
    let reached = match access {
        Access::One(reach) => vec![reach],
        Access::Several(reached) => reached,
    };
    reached.into_iter().find(|r| r.account == account).map(Access::One).ok_or(SsoError::AccountNotGranted)
}

/// The accounts a user already signed in (by grant or controller) may switch between,
/// read again from the current grants: a removed grant is gone at once.
pub async fn switchable(state: &AppState, app: AppId, keys: PersonKeys<'_>) -> Result<Vec<Reach>, crate::services::ServiceError> {
    Ok(access::by_grants(state.store.granted_accounts(app, keys).await?))
}
