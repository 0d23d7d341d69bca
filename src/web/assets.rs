//! Static assets (one stylesheet, one script, an icon), embedded in the binary: no CDN,
//! no external fonts. URLs carry a content hash, so the assets can be cached for a year
//! and a new build is still picked up at once.

use poem::http::header;
use poem::{get, handler, Response, Route};

const CSS: &str = include_str!("../../assets/causeway.css");
const JS: &str = include_str!("../../assets/partner-center.js");
const ICON: &str = include_str!("../../assets/icon.svg");
const SSO_JS: &str = include_str!("../../assets/sso-error.js");

const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// FNV-1a: enough to tell builds apart, computed at compile time.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const CSS_VERSION: u64 = fnv1a(CSS.as_bytes());
const JS_VERSION: u64 = fnv1a(JS.as_bytes());
const ICON_VERSION: u64 = fnv1a(ICON.as_bytes());
const SSO_JS_VERSION: u64 = fnv1a(SSO_JS.as_bytes());

pub fn css_url() -> String {
    format!("/assets/causeway.css?v={CSS_VERSION:016x}")
}

pub fn js_url() -> String {
    format!("/assets/partner-center.js?v={JS_VERSION:016x}")
}

pub fn sso_js_url() -> String {
    format!("/assets/sso-error.js?v={SSO_JS_VERSION:016x}")
}

pub fn icon_url() -> String {
    format!("/assets/icon.svg?v={ICON_VERSION:016x}")
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, CACHE_FOREVER)
        .header("x-content-type-options", "nosniff")
        .body(body)
}

#[handler]
fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

#[handler]
fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

#[handler]
fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

#[handler]
fn sso_js() -> Response {
    asset("text/javascript; charset=utf-8", SSO_JS)
}

/// Mounted at `/assets`.
pub fn routes() -> Route {
    Route::new()
        .at("/causeway.css", get(css))
        .at("/partner-center.js", get(js))
        .at("/sso-error.js", get(sso_js))
        .at("/icon.svg", get(icon))
}
