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

    pub fn default_color() -> Self {
        Self(DEFAULT_BRAND_COLOR.into())
    }

    /// WCAG 2.2 relative luminance (§ "relative luminance": sRGB channels linearised).
    fn luminance(&self) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&self.0[i..i + 2], 16).unwrap_or(0)) / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    /// The text colour on this colour (headers, buttons, avatars): black or white, whichever
    /// contrasts more. One of them always reaches 4.58:1 at least, above the 4.5:1 that
    /// WCAG 2.2 AA asks of normal text.
    pub fn ink(&self) -> &'static str {
        if contrast(self.luminance(), 0.0) >= contrast(self.luminance(), 1.0) { "#000000" } else { "#FFFFFF" }
    }

    /// The contrast of this colour as text on white (links, the active menu entry), which
    /// no choice of ink can fix: below 4.5:1 the Partner Center warns.
    pub fn contrast_on_white(&self) -> f64 {
        contrast(self.luminance(), 1.0)
    }
}

/// WCAG 2.2 contrast ratio of two relative luminances, from 1 to 21.
fn contrast(a: f64, b: f64) -> f64 {
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// WCAG 2.2 AA for normal text (success criterion 1.4.3).
pub const MIN_TEXT_CONTRAST: f64 = 4.5;

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
    fn ink_and_contrast_follow_wcag() {
        let c = |hex: &str| BrandColor::parse(hex).unwrap();
        assert_eq!((c("#000000").ink(), c("#FFFFFF").ink()), ("#FFFFFF", "#000000"));
        // A light brand colour takes black text (white on it would be about 1.5:1).
        assert_eq!(c("#FACC15").ink(), "#000000");
        assert_eq!(c("#1A56DB").ink(), "#FFFFFF");
        assert!((c("#000000").contrast_on_white() - 21.0).abs() < 1e-9);
        // #767676 is the lightest grey that reaches 4.5:1 on white.
        assert!(c("#767676").contrast_on_white() >= MIN_TEXT_CONTRAST && c("#777777").contrast_on_white() < MIN_TEXT_CONTRAST);
        // Whatever the colour, its ink reaches AA.
        for hex in ["#767676", "#777777", "#808080", "#FF0000", "#00FF00", "#0000FF", "#1A56DB", "#FACC15"] {
            let color = c(hex);
            let ink_luminance = if color.ink() == "#000000" { 0.0 } else { 1.0 };
            assert!(contrast(color.luminance(), ink_luminance) >= 4.5, "{hex}");
        }
    }

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
