//! Security headers for server-rendered HTML (Partner Center now, Merchant Center later).
//!
//! The policy allows only Causeway's own stylesheet and scripts: no inline script or
//! style, no framing (clickjacking), forms post only back to Causeway.

use poem::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use poem::{Endpoint, IntoResponse, Request, Response};

/// The policy in two parts around the place where `form-action` can name more origins.
macro_rules! policy {
    ($before_form_targets:literal, $after_form_targets:literal) => {
        pub const CONTENT_SECURITY_POLICY: &str = concat!($before_form_targets, $after_form_targets);
        const BEFORE_FORM_TARGETS: &str = $before_form_targets;
        const AFTER_FORM_TARGETS: &str = $after_form_targets;
    };
}
policy!(
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' https: data:; form-action 'self'",
    "; frame-ancestors 'none'; base-uri 'none'"
);

/// The page policy, letting forms also lead to `form_targets` (space-separated origins):
/// browsers check every redirect a form submission follows against `form-action`, and
/// the Merchant Center's sign-out form ends at the partner's IdM and logout page.
pub fn content_security_policy(form_targets: &str) -> String {
    if form_targets.is_empty() {
        return CONTENT_SECURITY_POLICY.to_owned();
    }
    [BEFORE_FORM_TARGETS, " ", form_targets, AFTER_FORM_TARGETS].concat()
}

/// `content_security_policy` as a header value: the compile-time one when no form target
/// is added (no text to build or check per page), `None` when the targets cannot be a
/// header value (then `apply_page_headers` sets the plain policy).
pub fn page_policy(form_targets: &str) -> Option<HeaderValue> {
    if form_targets.is_empty() {
        return Some(POLICY);
    }
    HeaderValue::from_str(&content_security_policy(form_targets)).ok()
}

// Names and values built at compile time: `HeaderName::from_static` at run time looks the
// name up among the standard ones each time (3.5% of a page's instructions, callgrind).
const CROSS_ORIGIN_OPENER_POLICY: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
const PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");
const POLICY: HeaderValue = HeaderValue::from_static(CONTENT_SECURITY_POLICY);
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const PAGE_HEADERS: [(HeaderName, HeaderValue); 5] = [
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    (CROSS_ORIGIN_OPENER_POLICY, HeaderValue::from_static("same-origin")),
    (PERMISSIONS_POLICY, HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()")),
];

/// Sets the page headers on `headers`, keeping a Content-Security-Policy the page chose. `Cache-Control: no-store` is added unless the
/// response chose its own caching (static assets), since pages show per-partner data.
pub fn apply_page_headers(headers: &mut HeaderMap) {
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, POLICY);
    }
    for (name, value) in PAGE_HEADERS {
        headers.insert(name, value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, NO_STORE);
    }
}

/// Middleware (`.around(page_headers)`): every response of the wrapped routes, errors
/// included, carries the page headers.
pub async fn page_headers<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let mut response = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    apply_page_headers(response.headers_mut());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_keep_their_own_cache_policy() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
        apply_page_headers(&mut headers);
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        let mut page = HeaderMap::new();
        apply_page_headers(&mut page);
        assert_eq!(page[header::CACHE_CONTROL], "no-store");
        assert!(page["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    }

    #[test]
    fn sign_out_targets_extend_only_form_action() {
        let policy = content_security_policy("https://idm.example https://partner.example");
        assert!(policy.contains("form-action 'self' https://idm.example https://partner.example;"));
        assert!(policy.contains("script-src 'self';") && policy.contains("frame-ancestors 'none'"));
        assert_eq!(content_security_policy(""), CONTENT_SECURITY_POLICY);
        assert_eq!(content_security_policy("https://a.example").replace(" https://a.example", ""), CONTENT_SECURITY_POLICY);
    }
}
