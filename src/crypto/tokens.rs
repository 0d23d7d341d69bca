//! App tokens: 256 random bits, shown once, stored as SHA-256 plus a visible prefix.
//!
//! A fast hash is enough here: the token is uniformly random, so there is nothing for a
//! slow password hash to protect against, and every API call verifies one.

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::digest::sha256_hex;
use super::random::url_safe_token;

const TOKEN_MARK: &str = "cwt_";
const TOKEN_RANDOM_BYTES: usize = 32;
/// Characters of the token kept in clear so operators can tell tokens apart.
const VISIBLE_PREFIX_CHARS: usize = 12;

/// A newly issued token: the secret goes to the partner once, the rest is stored.
pub struct IssuedToken {
    pub secret: SecretString,
    pub hash: String,
    pub prefix: String,
}

pub fn issue() -> IssuedToken {
    let token = format!("{TOKEN_MARK}{}", url_safe_token(TOKEN_RANDOM_BYTES));
    IssuedToken { hash: hash(&token), prefix: token[..VISIBLE_PREFIX_CHARS].to_owned(), secret: SecretString::from(token) }
}

pub fn hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Whether `presented` is the token whose hash is `stored_hash`, in time independent of
/// where the two differ.
pub fn matches(presented: &SecretString, stored_hash: &str) -> bool {
    let candidate = hash(presented.expose_secret());
    candidate.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_are_long_random_and_verifiable() {
        let a = issue();
        let b = issue();
        let secret = a.secret.expose_secret();
        assert!(secret.starts_with(TOKEN_MARK));
        // 32 bytes of base64url = 43 characters: 256 bits of randomness.
        assert_eq!(secret.len(), TOKEN_MARK.len() + 43);
        assert_ne!(secret, b.secret.expose_secret());
        assert!(secret.starts_with(&a.prefix));
        assert!(!a.hash.contains(secret));
        assert!(matches(&a.secret, &a.hash));
        assert!(!matches(&b.secret, &a.hash));
        assert!(!matches(&SecretString::from(""), &a.hash));
    }
}
