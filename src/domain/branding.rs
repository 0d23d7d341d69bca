//! How a partner's Merchant Center looks: name, logo, colour, support label.

use super::field_error::{FieldError, Reason, Verdicts};
use super::urls::{PartnerUrl, UrlPolicy};
use super::values::{BoundedText, Invalid};

/// `#RRGGBB`, stored upper case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrandColor(String);

impl BrandColor {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let hex = raw.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        match hex {
            Some(hex) => Ok(Self(format!("#{}", hex.to_ascii_uppercase()))),
            None => Err(Invalid { reason: Reason::InvalidColor, message: "must be a colour as #RRGGBB, such as #1A73E8".into() }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branding {
    pub display_name: String,
    pub logo_url: Option<PartnerUrl>,
    pub brand_color: BrandColor,
    pub support_label: Option<String>,
}

pub const DEFAULT_BRAND_COLOR: &str = "#1A56DB";

impl Branding {
    /// What an app shows before its partner sets anything: its own name, a neutral colour.
    pub fn default_for(app_name: &str) -> Self {
        Self {
            display_name: app_name.to_owned(),
            logo_url: None,
            brand_color: BrandColor(DEFAULT_BRAND_COLOR.into()),
            support_label: None,
        }
    }

    pub fn parse(
        display_name: &str,
        logo_url: Option<&str>,
        brand_color: &str,
        support_label: Option<&str>,
        policy: UrlPolicy,
    ) -> Result<Self, Vec<FieldError>> {
        let mut v = Verdicts::default();
        let display_name = v.check(&["display_name"], BoundedText::parse(display_name, 1, 80));
        let logo_url = match logo_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Some(None),
            Some(raw) => v.check(&["logo_url"], PartnerUrl::parse(raw, policy)).map(Some),
        };
        let brand_color = v.check(&["brand_color"], BrandColor::parse(brand_color));
        let support_label = match support_label {
            None => Some(None),
            Some(raw) => v.check(&["support_label"], BoundedText::parse(raw, 0, 120)).map(|t| Some(t.into_string()).filter(|s| !s.is_empty())),
        };
        v.finish(|| {
            Some(Self { display_name: display_name?.into_string(), logo_url: logo_url?, brand_color: brand_color?, support_label: support_label? })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        assert_eq!(BrandColor::parse("#1a73e8").unwrap().as_str(), "#1A73E8");
        for bad in ["1A73E8", "#1A73E", "#1A73E8FF", "#GGGGGG", "blue", ""] {
            assert!(BrandColor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn branding_rules() {
        let ok = Branding::parse("Acme Pay", Some("https://cdn.acme.example/logo.png"), "#112233", Some("Help: help.acme.example"), UrlPolicy::Strict).unwrap();
        assert_eq!(ok.display_name, "Acme Pay");
        let errors = Branding::parse("", Some("http://acme.example/logo.png"), "red", Some(&"x".repeat(121)), UrlPolicy::Strict).unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.target[0].as_str(), e.reason)).collect();
        assert_eq!(
            got,
            vec![
                ("display_name", Reason::InvalidLength),
                ("logo_url", Reason::InsecureUrl),
                ("brand_color", Reason::InvalidColor),
                ("support_label", Reason::InvalidLength),
            ]
        );
    }
}
