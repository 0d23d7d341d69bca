//! CSRF tokens for HTML forms.
//!
//! Signed-in forms carry the session's token (synchronizer token pattern). Forms shown
//! before a session exists (sign-in) use a double-submit cookie: a random value in a
//! `__Host-` cookie and the same value in the form; a cross-site page can neither read
//! the cookie nor set it, so it cannot produce a matching pair (login CSRF).

use subtle::ConstantTimeEq;

use crate::crypto::random::url_safe_token;

/// Name of the hidden form field that carries the token.
pub const FIELD: &str = "csrf_token";

/// Cookie of the pre-session (double-submit) token.
pub const PRE_SESSION_COOKIE: &str = "__Host-causeway_csrf";

pub fn new_token() -> String {
    url_safe_token(32)
}

/// Whether the presented token equals the expected one, in time independent of where
/// they differ. An empty expected token never matches.
pub fn matches(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        let t = new_token();
        assert!(matches(&t, &t));
        assert!(!matches(&t, ""));
        assert!(!matches(&t, &new_token()));
        assert!(!matches("", ""));
        assert!(!matches(&t, &t[..t.len() - 1]));
    }
}
