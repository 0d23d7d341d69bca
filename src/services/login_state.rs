//! A started login, sealed into the `state` Causeway sends to the IdM, instead of a row
//! written at the CTA (the IdM returns `state` unchanged: RFC 6749 §4.1.1–4.1.2, OIDC Core
//! §3.1.2.1). Sealed with the keyring (AES-256-GCM) and bound to its app as associated
//! data, it carries what the callback needs: the browser that started it, the IdM
//! configuration it started with, its expiry, its purpose and the connector's secrets (the
//! PKCE verifier is never readable outside Causeway: RFC 7636 §7.1 only needs it kept from
//! whoever sees the redirect). The browser-binding cookie must match at the callback
//! (RFC 6749 §10.12), and the callback's write records the state used, so it works once.

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::keyring::Keyring;
use crate::crypto::sealed;
use crate::domain::ids::AppId;

/// What a login's `state` carries.
#[derive(Debug)]
pub struct StartedLogin {
    /// Hash of the browser-binding cookie of the browser that started the login.
    pub browser_hash: String,
    /// The IdM configuration version the login started with: it finishes with it.
    pub config_version: i64,
    pub expires_at: i64,
    /// The purpose and the connector's private state (`login::Purpose::sealed_with`).
    pub private: SecretString,
}

fn context(app: AppId) -> String {
    format!("sso-state:{app}")
}

/// The `state` of a login of `app`.
pub fn seal(keyring: &Keyring, app: AppId, login: &StartedLogin) -> String {
    let text = format!("{}\n{}\n{}\n{}", login.browser_hash, login.config_version, login.expires_at, login.private.expose_secret());
    sealed::seal_for_url(keyring, &context(app), &SecretString::from(text))
}

/// The login a callback's `state` started, if Causeway sealed it for `app`; `None` for a
/// made-up, altered or other app's state.
pub fn open(keyring: &Keyring, app: AppId, state: &str) -> Option<StartedLogin> {
    let text = sealed::open_from_url(keyring, &context(app), state).ok()?;
    let mut lines = text.expose_secret().splitn(4, '\n');
    let browser_hash = lines.next()?.to_owned();
    let config_version = lines.next()?.parse().ok()?;
    let expires_at = lines.next()?.parse().ok()?;
    let private = SecretString::from(lines.next()?.to_owned());
    Some(StartedLogin { browser_hash, config_version, expires_at, private })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keyring::{KeySource, MasterKey};

    fn ring() -> Keyring {
        Keyring::new(MasterKey::generate().0, vec![], KeySource::Environment)
    }

    fn login() -> StartedLogin {
        StartedLogin {
            browser_hash: "b".repeat(64),
            config_version: 3,
            expires_at: 1_800_000_000,
            private: SecretString::from("landing:x\n{\"nonce\":\"n\",\"verifier\":\"v\"}"),
        }
    }

    #[test]
    fn a_state_opens_for_its_app_only_and_keeps_every_field() {
        let ring = ring();
        let app: AppId = "0191c7a4-0000-7000-8000-000000000001".parse().unwrap();
        let other: AppId = "0191c7a4-0000-7000-8000-000000000002".parse().unwrap();
        let state = seal(&ring, app, &login());
        assert!(!state.contains("verifier") && !state.contains(&"b".repeat(8)), "{state}");
        let opened = open(&ring, app, &state).expect("opens");
        assert_eq!((opened.browser_hash.as_str(), opened.config_version, opened.expires_at), (login().browser_hash.as_str(), 3, 1_800_000_000));
        assert_eq!(opened.private.expose_secret(), login().private.expose_secret());
        assert!(open(&ring, other, &state).is_none(), "another app's callback");
        assert!(open(&self::ring(), app, &state).is_none(), "another deployment's key");
        let mut altered = state.clone().into_bytes();
        let middle = altered.len() / 2;
        altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
        assert!(open(&ring, app, std::str::from_utf8(&altered).unwrap()).is_none());
        assert!(open(&ring, app, "made-up").is_none());
    }
}
