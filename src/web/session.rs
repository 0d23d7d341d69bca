//! Session cookies of the Partner Center and the Merchant Center: the cookie carries a
//! random id (`crypto::session_ids`), the database keeps only its SHA-256.
//!
//! Cookies use the `__Host-` prefix (no Domain, Path=/, Secure: a sibling subdomain cannot
//! plant or shadow them), HttpOnly (no script access) and SameSite=Lax (not sent on
//! cross-site POSTs). Browsers treat http://127.0.0.1 and localhost as secure contexts, so
//! the same attributes work in local development.

use poem::Request;

/// A cookie value longer than this is not one Causeway issued.
const MAX_COOKIE_VALUE: usize = 128;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies() {
        let req = Request::builder().header("cookie", "a=1; __Host-x=abc_DEF-9; b=2").finish();
        assert_eq!(read_cookie(&req, "__Host-x"), Some("abc_DEF-9"));
        assert_eq!(read_cookie(&req, "missing"), None);
        let bad = Request::builder().header("cookie", "__Host-x=<script>").finish();
        assert_eq!(read_cookie(&bad, "__Host-x"), None);
        assert_eq!(set_cookie("__Host-x", "v", SameSite::Lax), "__Host-x=v; Path=/; Secure; HttpOnly; SameSite=Lax");
        assert!(clear_cookie("__Host-x", SameSite::Lax).contains("Max-Age=0"));
    }
}
