//! Authorization codes: random, short-lived, single-use, bound to the request that
//! earned them (RFC 6749 §4.1.2, §4.1.3) and to its PKCE challenge (RFC 7636 §4.6).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::crypto::random::url_safe_token;
use crate::demo::people::Person;

/// RFC 6749 §4.1.2 recommends at most ten minutes; a login takes seconds.
pub const CODE_SECONDS: i64 = 300;

/// What the person approved, kept until the client redeems the code.
#[derive(Clone)]
pub struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub nonce: String,
    pub code_challenge: String,
    pub person: &'static Person,
}

/// What the client presents at the token endpoint along with the code.
pub struct Redemption<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_verifier: &'a str,
}

/// Why a code was refused. The token endpoint answers `invalid_grant` for all of them
/// (RFC 6749 §5.2); the variant is for the log.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeRejected {
    #[error("unknown or already used code")]
    Unknown,
    #[error("expired code")]
    Expired,
    #[error("code issued to another client")]
    OtherClient,
    #[error("redirect_uri differs from the authorization request's")]
    RedirectMismatch,
    #[error("code_verifier does not match the code_challenge")]
    PkceMismatch,
}

struct Issued {
    grant: Grant,
    expires_at: i64,
}

#[derive(Default)]
pub struct Codes {
    issued: Mutex<HashMap<String, Issued>>,
}

impl Codes {
    pub fn issue(&self, grant: Grant, now: i64) -> String {
        let code = url_safe_token(32);
        let mut issued = self
            .issued
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Abandoned logins leave codes behind; dropping them here keeps the map small
        // without a sweeper task.
        issued.retain(|_, i| i.expires_at > now);
        issued.insert(
            code.clone(),
            Issued {
                grant,
                expires_at: now + CODE_SECONDS,
            },
        );
        code
    }

    /// Takes the code out before any check, so a code is used at most once even when
    /// the first attempt fails (RFC 6749 §4.1.2: a second use must be denied).
    pub fn redeem(
        &self,
        code: &str,
        redemption: &Redemption<'_>,
        now: i64,
    ) -> Result<Grant, CodeRejected> {
        let issued = self
            .issued
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(code);
        let Issued { grant, expires_at } = issued.ok_or(CodeRejected::Unknown)?;
        if now >= expires_at {
            return Err(CodeRejected::Expired);
        }
        if grant.client_id != redemption.client_id {
            return Err(CodeRejected::OtherClient);
        }
        // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
        if grant.redirect_uri != redemption.redirect_uri {
            return Err(CodeRejected::RedirectMismatch);
        }
        if !pkce_s256_matches(redemption.code_verifier, &grant.code_challenge) {
            return Err(CodeRejected::PkceMismatch);
        }
        Ok(grant)
    }
}

/// RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
fn verifier_is_well_formed(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is a base64url SHA-256 digest: exactly 43 characters.
pub fn challenge_is_well_formed(challenge: &str) -> bool {
    challenge.len() == 43
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|digest| digest.len() == 32)
}

/// RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    if !verifier_is_well_formed(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::people::CONTROLLER;

    const NOW: i64 = 1_800_000_000;
    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://127.0.0.1:8080/sso/oidc/app/callback";

    fn grant() -> Grant {
        Grant {
            client_id: "causeway".into(),
            redirect_uri: REDIRECT.into(),
            nonce: "n-1".into(),
            code_challenge: CHALLENGE.into(),
            person: &CONTROLLER,
        }
    }

    fn redemption(verifier: &str) -> Redemption<'_> {
        Redemption {
            client_id: "causeway",
            redirect_uri: REDIRECT,
            code_verifier: verifier,
        }
    }

    #[test]
    fn pkce_s256_follows_the_rfc_example() {
        assert!(pkce_s256_matches(VERIFIER, CHALLENGE));
        assert!(challenge_is_well_formed(CHALLENGE));
        assert!(
            !pkce_s256_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", CHALLENGE),
            "another verifier"
        );
        // `plain` would send the verifier as the challenge; it must not pass as S256.
        assert!(!pkce_s256_matches(CHALLENGE, CHALLENGE));
        assert!(
            !pkce_s256_matches("short", CHALLENGE),
            "verifiers have at least 43 characters"
        );
        assert!(
            !pkce_s256_matches(&format!("{VERIFIER}+"), CHALLENGE),
            "only unreserved characters"
        );
        assert!(!challenge_is_well_formed(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"
        ));
        assert!(!challenge_is_well_formed(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }

    #[test]
    fn a_code_is_redeemed_once() {
        let codes = Codes::default();
        let code = codes.issue(grant(), NOW);
        let redeemed = codes.redeem(&code, &redemption(VERIFIER), NOW + 1).unwrap();
        assert_eq!(
            (redeemed.nonce.as_str(), redeemed.person.login),
            ("n-1", "controller")
        );
        assert_eq!(
            codes.redeem(&code, &redemption(VERIFIER), NOW + 2).err(),
            Some(CodeRejected::Unknown)
        );
    }

    #[test]
    fn a_failed_redemption_uses_the_code_up() {
        let codes = Codes::default();
        let code = codes.issue(grant(), NOW);
        let wrong = "x".repeat(43);
        assert_eq!(
            codes.redeem(&code, &redemption(&wrong), NOW).err(),
            Some(CodeRejected::PkceMismatch)
        );
        assert_eq!(
            codes.redeem(&code, &redemption(VERIFIER), NOW).err(),
            Some(CodeRejected::Unknown),
            "no second try"
        );
    }

    #[test]
    fn the_code_is_bound_to_client_redirect_uri_and_time() {
        let codes = Codes::default();
        let code = codes.issue(grant(), NOW);
        let other_redirect = Redemption {
            redirect_uri: "http://127.0.0.1:8080/elsewhere",
            ..redemption(VERIFIER)
        };
        assert_eq!(
            codes.redeem(&code, &other_redirect, NOW).err(),
            Some(CodeRejected::RedirectMismatch)
        );

        let code = codes.issue(grant(), NOW);
        let other_client = Redemption {
            client_id: "someone-else",
            ..redemption(VERIFIER)
        };
        assert_eq!(
            codes.redeem(&code, &other_client, NOW).err(),
            Some(CodeRejected::OtherClient)
        );

        let code = codes.issue(grant(), NOW);
        assert_eq!(
            codes
                .redeem(&code, &redemption(VERIFIER), NOW + CODE_SECONDS)
                .err(),
            Some(CodeRejected::Expired)
        );
        assert_eq!(
            codes
                .redeem("never-issued", &redemption(VERIFIER), NOW)
                .err(),
            Some(CodeRejected::Unknown)
        );
    }

    #[test]
    fn expired_codes_are_dropped_when_new_ones_are_issued() {
        let codes = Codes::default();
        codes.issue(grant(), NOW);
        codes.issue(grant(), NOW + CODE_SECONDS);
        assert_eq!(codes.issued.lock().unwrap().len(), 1);
    }
}
