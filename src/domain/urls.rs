//! URLs partners give us, and the address rules that keep Causeway from being turned
//! against its own network (SSRF).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::field_error::Reason;
use super::values::Invalid;

fn invalid(reason: Reason, message: impl Into<String>) -> Invalid {
    Invalid { reason, message: message.into() }
}

/// Whether plain `http://` and internal addresses are allowed (tests, demo, local
/// development: `CAUSEWAY_ALLOW_INSECURE_IDM`).
/// Longer URLs are not addresses anyone types; the usual limit of browsers and servers.
pub const MAX_URL_CHARS: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlPolicy {
    Strict,
    AllowInsecure,
}

/// An absolute URL Causeway may send a browser to or call: https (unless insecure is
/// allowed), a host, no credentials, no fragment, and — when the host is an address
/// literal — a public one. The text is kept as the partner wrote it: an issuer is
/// compared character for character with the `iss` of ID tokens, and parsing would
/// add a trailing slash to `https://idm.example`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerUrl {
    text: String,
    url: Url,
}

impl PartnerUrl {
    pub fn parse(raw: &str, policy: UrlPolicy) -> Result<Self, Invalid> {
        let text = raw.trim();
        if text.chars().count() > MAX_URL_CHARS {
            return Err(invalid(Reason::InvalidUrl, format!("must have at most {MAX_URL_CHARS} characters")));
        }
        // The URL Standard drops tabs and newlines while parsing, but the text is what is
        // kept and later sent (a Location header, an issuer compared with `iss`).
        if text.chars().any(char::is_control) {
            return Err(invalid(Reason::InvalidUrl, "must not contain line breaks, tabs or other control characters"));
        }
        let url = Url::parse(text).map_err(|_| invalid(Reason::InvalidUrl, "must be an absolute URL, such as https://idm.example.com/"))?;
        match (url.scheme(), policy) {
            ("https", _) | ("http", UrlPolicy::AllowInsecure) => {}
            _ => return Err(invalid(Reason::InsecureUrl, "must use https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(Reason::InvalidUrl, "must not contain a user name or password"));
        }
        if url.fragment().is_some() {
            return Err(invalid(Reason::InvalidUrl, "must not contain a #fragment"));
        }
        let literal = match url.host() {
            None => return Err(invalid(Reason::InvalidUrl, "must name a host")),
            Some(Host::Domain(_)) => None,
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        };
        if let Some(ip) = literal
            && policy == UrlPolicy::Strict && !is_public(ip) {
                return Err(invalid(Reason::ForbiddenAddress, format!("must not point at an internal address ({ip})")));
            }
        Ok(Self { text: text.to_owned(), url })
    }

    /// An issuer identifier additionally has no query (OIDC Discovery §2).
    pub fn parse_issuer(raw: &str, policy: UrlPolicy) -> Result<Self, Invalid> {
        let url = Self::parse(raw, policy)?;
        if url.url.query().is_some() {
            return Err(invalid(Reason::InvalidUrl, "an issuer must not contain a ?query"));
        }
        Ok(url)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The host name when it is a name rather than an address literal.
    pub fn domain(&self) -> Option<&str> {
        self.url.domain()
    }
}

/// Whether Causeway may connect to `ip` when internal addresses are not allowed:
/// refuses loopback, private (RFC 1918), CGNAT (100.64/10), link-local (incl. the cloud
/// metadata address 169.254.169.254), unique-local (fc00::/7), multicast, unspecified,
/// documentation and other reserved ranges, and IPv4 mapped into IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT, RFC 6598
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, RFC 2544
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || first == 0x0064 // NAT64 well-known prefix 64:ff9b::/96 maps IPv4 space
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4))) // IPv4-compatible ::a.b.c.d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_and_overlong_text_are_refused_not_stripped() {
        for raw in ["https://idm.example/log\r\nout", "https://idm.example/\tx", "https://idm.example/\u{0}"] {
            let err = PartnerUrl::parse(raw, UrlPolicy::Strict).unwrap_err();
            assert_eq!(err.reason, Reason::InvalidUrl, "{raw:?}");
        }
        let long = format!("https://idm.example/{}", "a".repeat(MAX_URL_CHARS));
        assert!(PartnerUrl::parse(&long, UrlPolicy::Strict).is_err());
        // Surrounding white space (a paste) is trimmed, as before.
        assert_eq!(PartnerUrl::parse(" https://idm.example/x\n", UrlPolicy::Strict).unwrap().as_str(), "https://idm.example/x");
    }

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
            "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "::ffff:127.0.0.1",
            "::ffff:10.0.0.1", "ff02::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn partner_urls() {
        let strict = UrlPolicy::Strict;
        assert!(PartnerUrl::parse("https://idm.example.com/", strict).is_ok());
        for (raw, reason) in [
            ("http://idm.example.com/", Reason::InsecureUrl),
            ("ftp://idm.example.com/", Reason::InsecureUrl),
            ("not a url", Reason::InvalidUrl),
            ("https://user:pw@idm.example.com/", Reason::InvalidUrl),
            ("https://idm.example.com/#frag", Reason::InvalidUrl),
            ("https://127.0.0.1/", Reason::ForbiddenAddress),
            ("https://[::1]/", Reason::ForbiddenAddress),
            ("https://169.254.169.254/latest/meta-data", Reason::ForbiddenAddress),
            ("https://10.0.0.5/", Reason::ForbiddenAddress),
        ] {
            assert_eq!(PartnerUrl::parse(raw, strict).unwrap_err().reason, reason, "{raw}");
        }
        assert!(PartnerUrl::parse("http://127.0.0.1:9000/", UrlPolicy::AllowInsecure).is_ok());
        assert_eq!(PartnerUrl::parse(" https://idm.example.com ", strict).unwrap().as_str(), "https://idm.example.com", "kept as written");
        assert_eq!(PartnerUrl::parse_issuer("https://idm.example.com/?tenant=1", strict).unwrap_err().reason, Reason::InvalidUrl);
    }
}
