//! Security headers for server-rendered HTML (Partner Center now, Merchant Center later).
//!
//! The policy allows only Causeway's own stylesheet and scripts: no inline script or
//! style, no framing (clickjacking), forms post only back to Causeway.

use poem::http::header::{self, HeaderMap, HeaderValue};
use poem::{Endpoint, IntoResponse, Request, Response};

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' https: data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page policy, letting forms also lead to `form_targets` (space-separated origins):
/// browsers check every redirect a form submission follows against `form-action`, and
/// the Merchant Center's sign-out form ends at the partner's IdM and logout page.
pub fn content_security_policy(form_targets: &str) -> String {
    if form_targets.is_empty() {
        return CONTENT_SECURITY_POLICY.to_owned();
    }
    CONTENT_SECURITY_POLICY.replace("form-action 'self'", &format!("form-action 'self' {form_targets}"))
}

/// Sets the page headers on `headers`, keeping a Content-Security-Policy the page chose. `Cache-Control: no-store` is added unless the
/// response chose its own caching (static assets), since pages show per-partner data.
pub fn apply_page_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    if !headers.contains_key("content-security-policy") {
        set(headers, "content-security-policy", CONTENT_SECURITY_POLICY);
    }
    set(headers, "x-frame-options", "DENY");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(headers, "permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
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
    }
}
