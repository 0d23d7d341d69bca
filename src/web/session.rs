//! Server-side browser sessions: the cookie carries a random id, the database keeps only
//! its SHA-256. Shared by the Partner Center and (later) the Merchant Center.
//!
//! Cookies use the `__Host-` prefix (no Domain, Path=/, Secure: a sibling subdomain cannot
//! plant or shadow them), HttpOnly (no script access) and SameSite=Lax (not sent on
//! cross-site POSTs). Browsers treat http://127.0.0.1 and localhost as secure contexts, so
//! the same attributes work in local development.

use poem::Request;

use crate::crypto::digest::sha256_hex;
use crate::crypto::random::url_safe_token;

/// Random bytes in a session id: 256 bits.
const SESSION_ID_BYTES: usize = 32;
/// A cookie value longer than this is not one Causeway issued.
const MAX_COOKIE_VALUE: usize = 128;

/// A fresh session id for a cookie; never reuse one across sign-ins (session fixation).
pub fn new_session_id() -> String {
    url_safe_token(SESSION_ID_BYTES)
}

/// What the database stores instead of the id.
pub fn id_hash(id: &str) -> String {
    sha256_hex(id.as_bytes())
}

/// `Set-Cookie` value for a session-lifetime cookie (no Max-Age: it ends with the
/// browser; the server enforces the idle and absolute timeouts).
pub fn set_cookie(name: &str, value: &str, same_site: SameSite) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite={}", same_site.as_str())
}

/// `Set-Cookie` value that deletes the cookie.
pub fn clear_cookie(name: &str, same_site: SameSite) -> String {
    format!("{name}=; Path=/; Secure; HttpOnly; SameSite={}; Max-Age=0", same_site.as_str())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::Strict => "Strict",
        }
    }
}

/// The value of cookie `name`, if it looks like one Causeway issued (base64url, bounded).
pub fn read_cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty() && v.len() <= MAX_COOKIE_VALUE && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// Idle and absolute lifetimes of a session, in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub idle: i64,
    pub absolute: i64,
    /// How stale `last_seen_at` may get before a request refreshes it: writing it on
    /// every page view would turn each read into a write.
    pub touch_after: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Valid; record the activity.
    Touch,
    Expired,
}

impl Lifetimes {
    pub fn judge(&self, now: i64, last_seen_at: i64, expires_at: i64) -> Freshness {
        if now >= expires_at || now - last_seen_at >= self.idle {
            Freshness::Expired
        } else if now - last_seen_at >= self.touch_after {
            Freshness::Touch
        } else {
            Freshness::Fresh
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        let l = Lifetimes { idle: 1800, absolute: 43200, touch_after: 60 };
        let start = 1_000_000;
        let expires = start + l.absolute;
        assert_eq!(l.judge(start + 10, start, expires), Freshness::Fresh);
        assert_eq!(l.judge(start + 61, start, expires), Freshness::Touch);
        assert_eq!(l.judge(start + 1800, start, expires), Freshness::Expired);
        // Active all along, but past the absolute lifetime.
        assert_eq!(l.judge(expires, expires - 5, expires), Freshness::Expired);
    }

    #[test]
    fn cookies() {
        let req = Request::builder().header("cookie", "a=1; __Host-x=abc_DEF-9; b=2").finish();
        assert_eq!(read_cookie(&req, "__Host-x"), Some("abc_DEF-9"));
        assert_eq!(read_cookie(&req, "missing"), None);
        let bad = Request::builder().header("cookie", "__Host-x=<script>").finish();
        assert_eq!(read_cookie(&bad, "__Host-x"), None);
        assert_eq!(set_cookie("__Host-x", "v", SameSite::Lax), "__Host-x=v; Path=/; Secure; HttpOnly; SameSite=Lax");
        assert!(clear_cookie("__Host-x", SameSite::Lax).contains("Max-Age=0"));
        assert_ne!(new_session_id(), new_session_id());
        assert_eq!(id_hash("x").len(), 64);
    }
}
