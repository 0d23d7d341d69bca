//! Validated newtypes: constructing one is the validation.

use std::net::IpAddr;

use super::field_error::Reason;

/// A value refused by a constructor below, with the reason code the API reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub reason: Reason,
    pub message: String,
}

/// Characters that must not reach the database or a page from an IdM's claim: controls
/// (a NUL is refused by PostgreSQL's text type) and the bidirectional overrides and
/// isolates that make text read differently from what it is (Unicode TR #9; CVE-2021-42574).
pub fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `raw` without hidden characters, trimmed, at most `max` characters: text from outside
/// (a claim, an IdM's error) made fit to store and show.
pub fn visible(raw: &str, max: usize) -> String {
    raw.chars().filter(|c| !hidden(*c)).take(max).collect::<String>().trim().to_owned()
}

fn invalid(reason: Reason, message: impl Into<String>) -> Invalid {
    Invalid { reason, message: message.into() }
}

/// ISO 3166-1 alpha-2 country code, upper case (`US`, `DE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        // Lower case is refused rather than folded: the contract's codes are upper case,
        // and silently rewriting partner input hides their bugs.
        let known = raw.len() == 2
            && raw.bytes().all(|b| b.is_ascii_uppercase())
            && isocountry::CountryCode::for_alpha2(raw).is_ok();
        if known {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid(Reason::InvalidCountry, "must be an ISO 3166-1 alpha-2 country code in upper case, such as \"US\""))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address as RFC 5321/5322 allow it for a mailbox, at most 254 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let fail = || invalid(Reason::InvalidEmail, "must be a valid e-mail address, such as \"owner@example.com\"");
        if raw.len() > 254 || raw.trim() != raw {
            return Err(fail());
        }
        let options = email_address::Options::default().without_display_text().without_domain_literal();
        let parsed = email_address::EmailAddress::parse_with_options(raw, options).map_err(|_| fail())?;
        // A bare host ("user@localhost") is a valid mailbox syntactically but not a
        // deliverable address for a merchant's controller.
        if !parsed.domain().contains('.') {
            return Err(fail());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IPv4 or IPv6 address in its textual form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAddress(IpAddr);

impl IpAddress {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.parse()
            .map(Self)
            .map_err(|_| invalid(Reason::InvalidIp, "must be an IPv4 or IPv6 address, such as \"203.0.113.7\""))
    }

    pub fn to_text(&self) -> String {
        self.0.to_string()
    }
}

/// When terms were accepted: a positive Unix time, not after `now` plus a small leeway
/// for clock skew between the partner and us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptanceTime(i64);

pub const CLOCK_SKEW_LEEWAY_SECONDS: i64 = 60;

impl AcceptanceTime {
    pub fn parse(raw: i64, now: i64) -> Result<Self, Invalid> {
        if raw <= 0 {
            Err(invalid(Reason::InvalidTime, "must be a positive Unix time in seconds"))
        } else if raw > now + CLOCK_SKEW_LEEWAY_SECONDS {
            Err(invalid(Reason::TimeInFuture, "must not be in the future"))
        } else {
            Ok(Self(raw))
        }
    }

    pub fn seconds(self) -> i64 {
        self.0
    }
}

/// Free text bounded in characters (not bytes) after trimming, free of control
/// characters (NUL cannot even be stored in PostgreSQL text); `multiline` allows line
/// breaks and tabs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundedText(String);

impl BoundedText {
    pub fn parse(raw: &str, min: usize, max: usize) -> Result<Self, Invalid> {
        Self::parse_with(raw, min, max, false)
    }

    pub fn parse_multiline(raw: &str, min: usize, max: usize) -> Result<Self, Invalid> {
        Self::parse_with(raw, min, max, true)
    }

    fn parse_with(raw: &str, min: usize, max: usize, multiline: bool) -> Result<Self, Invalid> {
        let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
        if !raw.chars().all(allowed) {
            return Err(invalid(Reason::InvalidCharacters, "must not contain control characters"));
        }
        let text = raw.trim();
        let count = text.chars().count();
        if count < min || count > max {
            Err(invalid(Reason::InvalidLength, format!("must have {min} to {max} characters")))
        } else {
            Ok(Self(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A phone number in E.164: `+`, a country code and at most 15 digits in all (ITU-T
/// E.164 §6). Spaces, dots, dashes and parentheses people type are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let fail = || invalid(Reason::InvalidPhone, "must be a phone number in E.164 form, such as \"+4799999999\"");
        let compact: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
        let digits = compact.strip_prefix('+').ok_or_else(fail)?;
        let well_formed = (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if well_formed { Ok(Self(compact)) } else { Err(fail()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        assert_eq!(PhoneNumber::parse("+47 999 99 999").unwrap().as_str(), "+4799999999");
        assert_eq!(PhoneNumber::parse("+1 (415) 555-0100").unwrap().as_str(), "+14155550100");
        for bad in ["", "4799999999", "+0799999999", "+47", "+47abc99999", "+1234567890123456", "+47 999\n99"] {
            assert_eq!(PhoneNumber::parse(bad).unwrap_err().reason, Reason::InvalidPhone, "{bad:?}");
        }
    }

    #[test]
    fn country_codes() {
        for ok in ["US", "DE", "GB", "JP", "BR"] {
            assert!(CountryCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["us", "USA", "XX", "", "U", "ZZ", "1A"] {
            assert_eq!(CountryCode::parse(bad).unwrap_err().reason, Reason::InvalidCountry, "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["owner@example.com", "a.b+tag@sub.example.co.uk"] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "plain", "@example.com", "a@", "a@localhost", " a@example.com", "A <a@example.com>", "a@[127.0.0.1]"] {
            assert_eq!(EmailAddress::parse(bad).unwrap_err().reason, Reason::InvalidEmail, "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn ip_addresses() {
        assert!(IpAddress::parse("203.0.113.7").is_ok());
        assert!(IpAddress::parse("2001:db8::1").is_ok());
        for bad in ["", "203.0.113", "256.1.1.1", "example.com", "2001:db8::g"] {
            assert_eq!(IpAddress::parse(bad).unwrap_err().reason, Reason::InvalidIp, "{bad}");
        }
    }

    #[test]
    fn acceptance_time() {
        let now = 1_700_000_000;
        assert!(AcceptanceTime::parse(now, now).is_ok());
        assert!(AcceptanceTime::parse(now + CLOCK_SKEW_LEEWAY_SECONDS, now).is_ok());
        assert_eq!(AcceptanceTime::parse(now + CLOCK_SKEW_LEEWAY_SECONDS + 1, now).unwrap_err().reason, Reason::TimeInFuture);
        assert_eq!(AcceptanceTime::parse(0, now).unwrap_err().reason, Reason::InvalidTime);
    }

    #[test]
    fn bounded_text_counts_characters() {
        assert!(BoundedText::parse(&"é".repeat(255), 1, 255).is_ok());
        assert!(BoundedText::parse(&"é".repeat(256), 1, 255).is_err());
        assert!(BoundedText::parse("   ", 1, 255).is_err());
        assert_eq!(BoundedText::parse("  Shop  ", 1, 255).unwrap().as_str(), "Shop");
    }

    #[test]
    fn bounded_text_refuses_control_characters() {
        for bad in ["a\0b", "a\u{1b}[31m", "line\nbreak"] {
            assert_eq!(BoundedText::parse(bad, 1, 255).unwrap_err().reason, Reason::InvalidCharacters, "{bad:?}");
        }
        assert!(BoundedText::parse_multiline("two\nlines\tand a tab", 0, 255).is_ok());
        assert!(BoundedText::parse_multiline("nul\0", 0, 255).is_err());
    }
}
