//! KYC details: the financial admin submits them; everyone on the account may read them.

use super::ServiceError;
use crate::crypto::sealed;
use crate::domain::ids::AccountId;
use crate::domain::kyc::{KycDetails, KycInput};
use crate::domain::role::Role;
use crate::state::AppState;
use crate::store::merchant_center::NewKyc;
use crate::store::merchants::MerchantSessionRow;

/// What the tax id is sealed to: a sealed value copied to another account will not open.
pub fn tax_id_context(account: AccountId) -> String {
    format!("kyc-tax-id:{account}")
}

/// Validates and stores the session's account's KYC details. Caller: a signed-in user;
/// only a financial admin may submit.
pub async fn submit(state: &AppState, session: &MerchantSessionRow, input: &KycInput) -> Result<(), ServiceError> {
    if session.role != Role::FinancialAdmin {
        return Err(ServiceError::Forbidden);
    }
    super::merchant_sessions::require_recent_sign_in(state, session)?;
    let now = state.clock.now();
    let today = time::OffsetDateTime::from_unix_timestamp(now).map_err(|e| ServiceError::Internal(e.into()))?.date();
    let details = KycDetails::parse(input, &session.country, today, session.kyc.is_some())?;
    let sealed_tax_id = details.tax_id.as_ref().map(|tax_id| {
        let secret = secrecy::SecretString::from(tax_id.expose());
        (sealed::seal(&state.keyring, &tax_id_context(session.account_id), &secret), tax_id.last4())
    });
    let dob = details.representative_dob.to_string();
    state
        .store
        .save_kyc(
            session.account_id,
            &NewKyc {
                legal_name: &details.legal_name,
                address_line1: &details.address_line1,
                address_line2: &details.address_line2,
                city: &details.city,
                region: &details.region,
                postal_code: &details.postal_code,
                business_type: details.business_type.as_str(),
                tax_id: sealed_tax_id.as_ref().map(|(sealed, last4)| (sealed.as_str(), last4.as_str())),
                representative_dob: &dob,
            },
            &session.user_id,
            now,
        )
        .await?;
    Ok(())
}
