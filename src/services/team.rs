//! Who has access to an account: everyone the partner's IdM has signed in to it.

use super::ServiceError;
use crate::state::AppState;
use crate::store::merchant_center::MemberRow;
use crate::store::merchants::MerchantSessionRow;

/// Caller: any signed-in user; only their own account's members are listed.
pub async fn members(state: &AppState, session: &MerchantSessionRow) -> Result<Vec<MemberRow>, ServiceError> {
    Ok(state.store.account_members(session.account_id).await?)
}
