//! The payout bank account: financial admins only; the numbers are sealed at rest and
//! never shown again beyond their last four digits.

use secrecy::{ExposeSecret, SecretString};

use super::ServiceError;
use crate::crypto::sealed;
use crate::domain::ids::AccountId;
use crate::domain::payout::{BankAccount, PayoutInput};
use crate::domain::role::Role;
use crate::state::AppState;
use crate::store::merchant_center::NewPayout;
use crate::store::merchants::MerchantSessionRow;

pub fn bank_context(account: AccountId) -> String {
    format!("payout-bank:{account}")
}

/// Caller: a signed-in user; only a financial admin may see or change the payout method.
pub fn authorize(session: &MerchantSessionRow) -> Result<(), ServiceError> {
    if session.role == Role::FinancialAdmin { Ok(()) } else { Err(ServiceError::Forbidden) }
}

pub async fn save(state: &AppState, session: &MerchantSessionRow, input: &PayoutInput) -> Result<(), ServiceError> {
    authorize(session)?;
    super::merchant_sessions::require_recent_sign_in(state, session)?;
    let bank = BankAccount::parse(input)?;
    let numbers = serde_json::json!({
        "routing_number": bank.routing_number.expose_secret(),
        "account_number": bank.account_number.expose_secret(),
    });
    let sealed = sealed::seal(&state.keyring, &bank_context(session.account_id), &SecretString::from(numbers.to_string()));
    state
        .store
        .save_payout(
            session.account_id,
            &NewPayout {
                account_holder: &bank.account_holder,
                bank_sealed: &sealed,
                routing_last4: &bank.routing_last4(),
                account_last4: &bank.account_last4(),
            },
            &session.user_id,
            state.clock.now(),
        )
        .await?;
    Ok(())
}
