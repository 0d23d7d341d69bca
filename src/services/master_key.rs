//! `causeway rotate-master-key`: re-seal every stored secret under the current key.

use secrecy::SecretString;

use super::ServiceError;
use crate::crypto::keyring::{write_key_file, KeySource, Keyring, MasterKey};
use crate::crypto::sealed;
use crate::store::merchant_center::SealedColumn;
use crate::store::Store;

pub struct RotationReport {
    pub resealed: usize,
    pub key_id: String,
}

/// With a key file, a new key is generated first (the old one stays in the file until
/// every secret is re-sealed, so an interruption loses nothing). With keys from the
/// environment, the operator has already put the new key in CAUSEWAY_MASTER_KEY and the
/// old one in CAUSEWAY_MASTER_KEY_PREVIOUS.
pub async fn rotate(store: &Store, keyring: Keyring) -> Result<RotationReport, ServiceError> {
    let internal = |e: crate::crypto::keyring::KeyringError| ServiceError::Internal(e.into());
    let keyring = match &keyring.source {
        KeySource::File(path) => {
            let old = std::fs::read_to_string(path).map_err(|e| ServiceError::Internal(e.into()))?;
            let (_, new_text) = MasterKey::generate();
            let mut keys = vec![new_text];
            keys.extend(old.lines().filter(|l| !l.trim().is_empty()).map(SecretString::from));
            write_key_file(path, &keys).map_err(internal)?;
            Keyring::load(None, None, Some(path)).map_err(internal)?.0
        }
        KeySource::Environment => keyring,
    };
    let current = keyring.current().id.clone();
    // The value under the current key, or `None` when it already is.
    let reseal = |context: &str, value: &str| -> Result<Option<String>, ServiceError> {
        if sealed::key_id(value) == Some(current.as_str()) {
            return Ok(None);
        }
        let secret = sealed::open(&keyring, context, value).map_err(|e| ServiceError::Internal(e.into()))?;
        Ok(Some(sealed::seal(&keyring, context, &secret)))
    };
    let mut resealed = 0;
    for row in store.idm_versions_with_secrets().await? {
        let (Some(value), Ok(kind)) = (row.client_secret_sealed.as_deref(), super::idm::stored_kind(&row)) else { continue };
        let (app, version) = (row.app_id, row.version);
        if let Some(new) = reseal(&super::idm::secret_context(app, kind), value)? {
            store.reseal_idm_secret(app, version, &new).await?;
            resealed += 1;
        }
    }
    for col in SealedColumn::ALL {
        for (key, value) in store.sealed_values(col).await? {
            if let Some(new) = reseal(&context_of(col, &key)?, &value)? {
                store.reseal_value(col, &key, &new).await?;
                resealed += 1;
            }
        }
    }
    if let KeySource::File(path) = &keyring.source {
        // Everything is sealed under the new key: the old ones can go.
        let text = std::fs::read_to_string(path).map_err(|e| ServiceError::Internal(e.into()))?;
        let newest = text.lines().next().unwrap_or_default().to_owned();
        write_key_file(path, &[SecretString::from(newest)]).map_err(internal)?;
    }
    Ok(RotationReport { resealed, key_id: current })
}

/// The context a value of `col` was sealed to, from its row key.
fn context_of(col: SealedColumn, key: &str) -> Result<String, ServiceError> {
    let account = || key.parse().map_err(|_| ServiceError::Internal(anyhow::anyhow!("malformed account id in {col:?}")));
    Ok(match col {
        SealedColumn::KycTaxId => super::kyc::tax_id_context(account()?),
        SealedColumn::PayoutBank => super::payout::bank_context(account()?),
        SealedColumn::SessionIdToken => super::merchant_sessions::hint_context(key),
    })
}
