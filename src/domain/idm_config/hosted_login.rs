//! A partner's hosted-login IdM (seed 000's model): the user signs in on the IdM's own
//! page, which returns a single-use code; Causeway exchanges it server to server with the
//! site's service key. Not OpenID Connect: no discovery, no tokens, no signatures.

use super::{required, IdmConfigInput};
use crate::domain::field_error::{FieldError, Reason, Verdicts};
use crate::domain::urls::{PartnerUrl, UrlPolicy};
use crate::domain::values::{BoundedText, Invalid};

/// Where the hosted login and the exchange live under the base URL unless configured.
pub const DEFAULT_LOGIN_PATH: &str = "/connect/login";
pub const DEFAULT_EXCHANGE_PATH: &str = "/api/service/exchange";
pub const SERVICE_KEY_MAX: usize = 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedLoginConfig {
    pub base_url: PartnerUrl,
    pub login_url: PartnerUrl,
    pub exchange_url: PartnerUrl,
    /// The site's key at the IdM (its `site_key`), sent with every login.
    pub site_key: String,
    /// The member of the exchange's `data` that holds the user's id.
    pub user_id_field: String,
    pub logout_url: PartnerUrl,
    /// Whether login and exchange URLs were set rather than derived from the base URL.
    login_url_set: bool,
    exchange_url_set: bool,
}

/// `{base}{path}`, without doubling the slash between them.
fn under(base: &PartnerUrl, path: &str, policy: UrlPolicy) -> Result<PartnerUrl, Invalid> {
    PartnerUrl::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')), policy)
}

/// A site key: what an admin would type, visible ASCII, at most 128 characters.
fn site_key(raw: &str) -> Result<String, Invalid> {
    if raw.is_empty() || raw.len() > 128 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Invalid { reason: Reason::InvalidValue, message: "must be 1 to 128 visible ASCII characters".into() });
    }
    Ok(raw.to_owned())
}

impl HostedLoginConfig {
    pub fn parse(input: &IdmConfigInput, policy: UrlPolicy) -> Result<Self, Vec<FieldError>> {
        let mut v = Verdicts::default();
        let base_url = v.check(&["base_url"], required(&input.base_url).and_then(|raw| PartnerUrl::parse(raw, policy)));
        let set = |raw: &Option<String>| raw.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        let (login_set, exchange_set) = (set(&input.login_url), set(&input.exchange_url));
        let mut derived = |field: &str, configured: &Option<String>, path: &str| match (configured, &base_url) {
            (Some(raw), _) => v.check(&[field], PartnerUrl::parse(raw, policy)),
            (None, Some(base)) => v.check(&[field], under(base, path, policy)),
            (None, None) => None,
        };
        let login_url = derived("login_url", &login_set, DEFAULT_LOGIN_PATH);
        let exchange_url = derived("exchange_url", &exchange_set, DEFAULT_EXCHANGE_PATH);
        let site_key = v.check(&["site_key"], required(&input.site_key).and_then(site_key));
        let user_id_field = v.check(&["user_id_field"], required(&input.user_id_field).and_then(|raw| BoundedText::parse(raw, 1, 255)));
        let logout_url = v.check(&["logout_url"], required(&input.logout_url).and_then(|raw| PartnerUrl::parse(raw, policy)));
        v.finish(|| {
            Some(Self {
                base_url: base_url?,
                login_url: login_url?,
                exchange_url: exchange_url?,
                site_key: site_key?,
                user_id_field: user_id_field?.into_string(),
                logout_url: logout_url?,
                login_url_set: login_set.is_some(),
                exchange_url_set: exchange_set.is_some(),
            })
        })
    }

    pub fn to_input(&self) -> IdmConfigInput {
        IdmConfigInput {
            kind: Some("hosted_login".into()),
            base_url: Some(self.base_url.as_str().to_owned()),
            login_url: self.login_url_set.then(|| self.login_url.as_str().to_owned()),
            exchange_url: self.exchange_url_set.then(|| self.exchange_url.as_str().to_owned()),
            site_key: Some(self.site_key.clone()),
            user_id_field: Some(self.user_id_field.clone()),
            logout_url: Some(self.logout_url.as_str().to_owned()),
            ..IdmConfigInput::default()
        }
    }

    /// URLs Causeway itself calls: the exchange (the login page is the browser's, but the
    /// live check calls it too).
    pub fn server_side_urls(&self) -> Vec<(&'static str, &PartnerUrl)> {
        vec![("login_url", &self.login_url), ("exchange_url", &self.exchange_url)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> IdmConfigInput {
        IdmConfigInput {
            kind: Some("hosted_login".into()),
            base_url: Some("https://id.partner.example/".into()),
            site_key: Some("atp".into()),
            user_id_field: Some("wesb_user_id".into()),
            logout_url: Some("https://partner.example/after-logout".into()),
            ..IdmConfigInput::default()
        }
    }

    #[test]
    fn the_login_and_exchange_urls_default_under_the_base_url() {
        let config = HostedLoginConfig::parse(&input(), UrlPolicy::Strict).unwrap();
        assert_eq!(config.login_url.as_str(), "https://id.partner.example/connect/login");
        assert_eq!(config.exchange_url.as_str(), "https://id.partner.example/api/service/exchange");
        assert_eq!(config.to_input().login_url, None, "a derived URL is not stored as if it were set");
        assert_eq!(HostedLoginConfig::parse(&config.to_input(), UrlPolicy::Strict).unwrap(), config);
        let custom = IdmConfigInput { exchange_url: Some("https://api.partner.example/exchange".into()), ..input() };
        let config = HostedLoginConfig::parse(&custom, UrlPolicy::Strict).unwrap();
        assert_eq!(config.exchange_url.as_str(), "https://api.partner.example/exchange");
        assert_eq!(config.to_input().exchange_url.as_deref(), Some("https://api.partner.example/exchange"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = IdmConfigInput {
            base_url: Some("http://id.partner.example".into()),
            site_key: Some("a b".into()),
            user_id_field: None,
            logout_url: Some("https://10.0.0.1/bye".into()),
            ..input()
        };
        let errors = HostedLoginConfig::parse(&bad, UrlPolicy::Strict).unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.target[0].as_str(), e.reason)).collect();
        assert_eq!(got, vec![
            ("base_url", Reason::InsecureUrl),
            ("site_key", Reason::InvalidValue),
            ("user_id_field", Reason::MissingField),
            ("logout_url", Reason::ForbiddenAddress),
        ]);
    }
}
