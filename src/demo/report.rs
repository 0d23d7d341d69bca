//! What `causeway demo` prints once it is ready: where to click, the partner's
//! credentials, the people to sign in as. One JSON object with `--json`.

use std::io::Write;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::people::PEOPLE;
use super::seed::ACCOUNT_NAME;
use crate::domain::ids::{AccountId, AppId};

pub struct Report<'a> {
    pub public_url: &'a str,
    pub cta_url: String,
    pub app_id: AppId,
    pub app_token: &'a SecretString,
    pub account_id: AccountId,
    pub idm_issuer: &'a str,
    pub data_dir: &'a Path,
    pub hosted: HostedReport<'a>,
}

/// The second partner, whose IdM is a hosted login.
pub struct HostedReport<'a> {
    pub cta_url: String,
    pub app_id: AppId,
    pub app_token: &'a SecretString,
    pub account_id: AccountId,
    pub base_url: &'a str,
}

impl Report<'_> {
    fn partner_center_url(&self) -> String {
        format!("{}{}", self.public_url, crate::partner_center::BASE_PATH)
    }

    pub fn to_json(&self) -> Value {
        let people: Vec<Value> =
            PEOPLE.iter().map(|p| json!({ "login": p.login, "name": p.name(), "email": p.email, "role": p.role.as_str() })).collect();
        json!({
            "cta_url": self.cta_url,
            "partner_center_url": self.partner_center_url(),
            "app_id": self.app_id.to_string(),
            "app_token": self.app_token.expose_secret(),
            "idm_issuer": self.idm_issuer,
            "account_id": self.account_id.to_string(),
            "data_dir": self.data_dir.display().to_string(),
            "people": people,
            "hosted_login": {
                "cta_url": self.hosted.cta_url,
                "app_id": self.hosted.app_id.to_string(),
                "app_token": self.hosted.app_token.expose_secret(),
                "account_id": self.hosted.account_id.to_string(),
                "base_url": self.hosted.base_url,
            },
        })
    }

    pub fn to_text(&self) -> String {
        let people: String = PEOPLE
            .iter()
            .map(|p| format!("    {:<18} {:<28} {}\n", p.name(), p.email, p.role.label()))
            .collect();
        format!(
            "Causeway demo is running. Ctrl-C stops it and deletes its data.\n\
             \n\
             Sign in to the Merchant Center as a merchant (open this in a browser):\n  \
             {cta}\n\
             \n  \
             The demo IdM lets you choose one of two people (no password):\n\
             {people}\
             \n\
             Partner Center, the platform's side (sign in with these):\n  \
             {pc}\n  \
             App-Id:    {app_id}\n  \
             App-Token: {token}\n\
             \n\
             Account:   {account} ({account_id})\n\
             Demo IdM:  {issuer}\n\
             \n\
             A second partner, {hosted_partner}, signs merchants in through a hosted login\n\
             (a one-time code exchanged with a service key, not OpenID Connect):\n  \
             {hosted_cta}\n  \
             App-Id:    {hosted_app_id}\n  \
             App-Token: {hosted_token}\n  \
             Account:   {hosted_account} ({hosted_account_id}); the moderator has access by a grant\n\
             \n\
             Data:      {data_dir}\n",
            cta = self.cta_url,
            pc = self.partner_center_url(),
            app_id = self.app_id,
            token = self.app_token.expose_secret(),
            account = ACCOUNT_NAME,
            account_id = self.account_id,
            issuer = self.idm_issuer,
            hosted_partner = super::seed::HOSTED_PARTNER_NAME,
            hosted_cta = self.hosted.cta_url,
            hosted_app_id = self.hosted.app_id,
            hosted_token = self.hosted.app_token.expose_secret(),
            hosted_account = super::seed::HOSTED_ACCOUNT_NAME,
            hosted_account_id = self.hosted.account_id,
            data_dir = self.data_dir.display(),
        )
    }

    /// Prints and flushes at once: whoever reads the pipe (a test, a script) waits for it.
    pub fn print(&self, json: bool) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        if json {
            writeln!(out, "{}", self.to_json())?;
        } else {
            write!(out, "{}", self.to_text())?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_name_the_cta_and_the_people() {
        let token = SecretString::from("cwt_token");
        let hosted_token = SecretString::from("cwt_hosted");
        let app_id = AppId::new();
        let hosted_app = AppId::new();
        let report = Report {
            public_url: "http://127.0.0.1:8080",
            cta_url: format!("http://127.0.0.1:8080/sso/oidc/{app_id}"),
            app_id,
            app_token: &token,
            account_id: AccountId::new(),
            idm_issuer: "http://127.0.0.1:9090",
            data_dir: Path::new("/tmp/causeway-demo-x"),
            hosted: HostedReport {
                cta_url: format!("http://127.0.0.1:8080/sso/oidc/{hosted_app}"),
                app_id: hosted_app,
                app_token: &hosted_token,
                account_id: AccountId::new(),
                base_url: "http://127.0.0.1:9090/directory",
            },
        };
        let json = report.to_json();
        assert_eq!(
            json["cta_url"],
            format!("http://127.0.0.1:8080/sso/oidc/{}", report.app_id)
        );
        assert_eq!(
            json["partner_center_url"],
            "http://127.0.0.1:8080/partner-center"
        );
        assert_eq!(json["people"][0]["role"], "financial_admin");
        assert_eq!(json["people"][1]["login"], "moderator");
        assert_eq!(json["hosted_login"]["app_token"], "cwt_hosted");
        assert!(!json.to_string().contains('\n'), "one line");
        let text = report.to_text();
        for wanted in [
            json["cta_url"].as_str().unwrap(),
            "cwt_token",
            "casey@demo-coffee.example",
            "Moderator",
            "cwt_hosted",
            "Demo Directory",
            "/tmp/causeway-demo-x",
        ] {
            assert!(text.contains(wanted), "{wanted} in {text}");
        }
    }
}
