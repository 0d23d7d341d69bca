//! Browser session ids: the cookie carries a random id, the database only its SHA-256,
//! so a database leak yields no usable cookie.

use super::digest::sha256_hex;
use super::random::url_safe_token;

/// Random bytes in a session id: 256 bits.
const SESSION_ID_BYTES: usize = 32;

/// A fresh session id for a cookie; never reuse one across sign-ins (session fixation).
pub fn new_session_id() -> String {
    url_safe_token(SESSION_ID_BYTES)
}

/// What the database stores instead of the id.
pub fn id_hash(id: &str) -> String {
    sha256_hex(id.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_and_hashed() {
        assert_ne!(new_session_id(), new_session_id());
        assert_eq!(new_session_id().len(), 43);
        assert_eq!(id_hash("x").len(), 64);
    }
}
