//! AES-256-GCM sealing of secrets at rest, tagged with the id of the key that sealed them.
//!
//! Stored form: `v1.<key id>.<base64(nonce ‖ ciphertext ‖ tag)>`. The caller's context
//! (e.g. `idm-client-secret:<app id>`) is bound as associated data, so a ciphertext
//! copied into another row or field does not open. Values that travel in a URL (a login's
//! `state`) use the URL-safe alphabet without padding (RFC 4648 §5) instead.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::engine::GeneralPurpose;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use super::keyring::Keyring;

const VERSION: &str = "v1";
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed with key {0}, which is not in the keyring")]
    UnknownKey(String),
    #[error("sealed value does not open (wrong key or context, or tampered)")]
    Tampered,
}

pub fn seal(keyring: &Keyring, context: &str, secret: &SecretString) -> String {
    seal_as(&STANDARD, keyring, context, secret)
}

pub fn open(keyring: &Keyring, context: &str, sealed: &str) -> Result<SecretString, SealError> {
    open_as(&STANDARD, keyring, context, sealed)
}

/// `seal` in characters that need no escaping in a URL's query.
pub fn seal_for_url(keyring: &Keyring, context: &str, secret: &SecretString) -> String {
    seal_as(&URL_SAFE_NO_PAD, keyring, context, secret)
}

/// Opens what `seal_for_url` sealed. The decoder refuses non-canonical encodings, so one
/// sealed value has exactly one spelling (a single-use check may key on the text).
pub fn open_from_url(keyring: &Keyring, context: &str, sealed: &str) -> Result<SecretString, SealError> {
    open_as(&URL_SAFE_NO_PAD, keyring, context, sealed)
}

fn seal_as(encoding: &GeneralPurpose, keyring: &Keyring, context: &str, secret: &SecretString) -> String {
    let key = keyring.current();
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.material.expose_secret()));
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut nonce);
    let payload = Payload { msg: secret.expose_secret().as_bytes(), aad: context.as_bytes() };
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), payload)
        .unwrap_or_else(|_| unreachable!("AES-GCM encryption of a short secret cannot fail"));
    format!("{VERSION}.{}.{}", key.id, encoding.encode([nonce.as_slice(), &ciphertext].concat()))
}

fn open_as(encoding: &GeneralPurpose, keyring: &Keyring, context: &str, sealed: &str) -> Result<SecretString, SealError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SealError::Malformed);
    };
    let key = keyring.find(key_id).ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?;
    let bytes = encoding.decode(body).map_err(|_| SealError::Malformed)?;
    if bytes.len() <= NONCE_BYTES {
        return Err(SealError::Malformed);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.material.expose_secret()));
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
        .map_err(|_| SealError::Tampered)?;
    String::from_utf8(plain).map(SecretString::from).map_err(|_| SealError::Tampered)
}

/// The id of the key a sealed value names, to find values a rotation must re-seal.
pub fn key_id(sealed: &str) -> Option<&str> {
    sealed.split('.').nth(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keyring::{KeySource, MasterKey};

    fn ring() -> Keyring {
        Keyring::new(MasterKey::generate().0, vec![], KeySource::Environment)
    }

    #[test]
    fn sealed_secrets_open_only_in_their_context() {
        let ring = ring();
        let secret = SecretString::from("s3cr3t-value");
        let sealed = seal(&ring, "ctx:a", &secret);
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(key_id(&sealed), Some(ring.current().id.as_str()));
        assert_eq!(open(&ring, "ctx:a", &sealed).unwrap().expose_secret(), "s3cr3t-value");
        assert!(matches!(open(&ring, "ctx:b", &sealed), Err(SealError::Tampered)));
        assert_ne!(sealed, seal(&ring, "ctx:a", &secret), "fresh nonce each time");
    }

    #[test]
    fn tampering_and_unknown_keys_are_detected() {
        let ring = ring();
        let sealed = seal(&ring, "ctx", &SecretString::from("x"));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(open(&ring, "ctx", std::str::from_utf8(&tampered).unwrap()).is_err());
        assert!(matches!(open(&self::ring(), "ctx", &sealed), Err(SealError::UnknownKey(_))));
        assert!(matches!(open(&ring, "ctx", "garbage"), Err(SealError::Malformed)));
    }

    #[test]
    fn values_sealed_for_a_url_need_no_escaping_and_open_only_that_way() {
        let ring = ring();
        // Long enough that the standard alphabet would need '+', '/' or '=' somewhere.
        let secret = SecretString::from("state of a login ".repeat(20));
        let sealed = seal_for_url(&ring, "ctx", &secret);
        assert!(sealed.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{sealed}");
        assert_eq!(open_from_url(&ring, "ctx", &sealed).unwrap().expose_secret(), secret.expose_secret());
        assert!(open_from_url(&ring, "other", &sealed).is_err());
    }

    #[test]
    fn previous_keys_still_open_after_rotation() {
        let old = MasterKey::generate();
        let old_ring = Keyring::new(MasterKey::from_base64(old.1.expose_secret()).unwrap(), vec![], KeySource::Environment);
        let sealed = seal(&old_ring, "ctx", &SecretString::from("kept"));
        let new_ring = Keyring::new(MasterKey::generate().0, vec![old.0], KeySource::Environment);
        assert_eq!(open(&new_ring, "ctx", &sealed).unwrap().expose_secret(), "kept");
        let resealed = seal(&new_ring, "ctx", &SecretString::from("kept"));
        assert_eq!(key_id(&resealed), Some(new_ring.current().id.as_str()));
    }
}
