//! The onboarding objects a partner creates, and the rules their fields follow.

use super::field_error::{FieldError, Verdicts};
use super::ids::LegalEntityId;
use super::values::{AcceptanceTime, BoundedText, CountryCode, EmailAddress, Invalid, IpAddress};

pub const ACCOUNT_NAME_MAX: usize = 255;
pub const ACCOUNT_DESCRIPTION_MAX: usize = 2000;

/// Terms-of-service acceptance as the partner reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermsAcceptance {
    pub acceptance_time: AcceptanceTime,
    pub original_ip: IpAddress,
}

/// A legal entity whose every field passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLegalEntity {
    pub country: CountryCode,
    pub controller_email: EmailAddress,
    pub controller_email_verified: bool,
    pub terms: Option<TermsAcceptance>,
}

/// The raw fields of a legal entity, before validation.
pub struct LegalEntityInput<'a> {
    pub country: &'a str,
    pub controller_email: &'a str,
    pub controller_email_verified: bool,
    pub terms: Option<(i64, &'a str)>,
}

/// An account whose every field passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub legal_entity_id: LegalEntityId,
    pub name: BoundedText,
    pub description: Option<BoundedText>,
}

impl NewLegalEntity {
    pub fn parse(input: LegalEntityInput<'_>, now: i64) -> Result<Self, Vec<FieldError>> {
        let mut v = Verdicts::default();
        let country = v.check(&["country"], CountryCode::parse(input.country));
        let email = v.check(&["controller", "email"], EmailAddress::parse(input.controller_email));
        let terms = input.terms.map(|(time, ip)| {
            let time = v.check(&["terms_of_service", "acceptance_time"], AcceptanceTime::parse(time, now));
            let ip = v.check(&["terms_of_service", "original_ip"], IpAddress::parse(ip));
            time.zip(ip)
        });
        v.finish(|| {
            let terms = match terms {
                None => None,
                Some(parsed) => Some(parsed.map(|(acceptance_time, original_ip)| TermsAcceptance { acceptance_time, original_ip })?),
            };
            Some(Self {
                country: country?,
                controller_email: email?,
                controller_email_verified: input.controller_email_verified,
                terms,
            })
        })
    }
}

impl NewAccount {
    pub fn parse(legal_entity_id: &str, name: &str, description: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut v = Verdicts::default();
        let legal_entity_id = v.check(
            &["legal_entity_id"],
            legal_entity_id.parse::<LegalEntityId>().map_err(|_| Invalid {
                reason: super::field_error::Reason::InvalidId,
                message: "must be the id (a UUID) of one of your legal entities".into(),
            }),
        );
        let name = v.check(&["name"], BoundedText::parse(name, 1, ACCOUNT_NAME_MAX));
        let description = description.map(|d| v.check(&["description"], BoundedText::parse_multiline(d, 0, ACCOUNT_DESCRIPTION_MAX)));
        v.finish(|| {
            Some(Self {
                legal_entity_id: legal_entity_id?,
                name: name?,
                description: match description {
                    None => None,
                    Some(parsed) => Some(parsed?),
                },
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::field_error::Reason;
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn input<'a>(country: &'a str, email: &'a str, terms: Option<(i64, &'a str)>) -> LegalEntityInput<'a> {
        LegalEntityInput { country, controller_email: email, controller_email_verified: true, terms }
    }

    #[test]
    fn a_valid_legal_entity_parses() {
        let le = NewLegalEntity::parse(input("US", "owner@example.com", Some((NOW - 5, "203.0.113.7"))), NOW).unwrap();
        assert_eq!(le.country.as_str(), "US");
        assert_eq!(le.terms.unwrap().original_ip.to_text(), "203.0.113.7");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = NewLegalEntity::parse(input("XX", "nope", Some((NOW + 3600, "1.2.3"))), NOW).unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.target.join("."), e.reason)).collect();
        assert_eq!(
            got,
            vec![
                ("country".to_string(), Reason::InvalidCountry),
                ("controller.email".to_string(), Reason::InvalidEmail),
                ("terms_of_service.acceptance_time".to_string(), Reason::TimeInFuture),
                ("terms_of_service.original_ip".to_string(), Reason::InvalidIp),
            ]
        );
    }

    #[test]
    fn account_rules() {
        let le = LegalEntityId::new().to_string();
        assert!(NewAccount::parse(&le, "Shop", None).is_ok());
        assert!(NewAccount::parse(&le, "Shop", Some("")).is_ok());
        let errors = NewAccount::parse("abc", "", Some(&"x".repeat(ACCOUNT_DESCRIPTION_MAX + 1))).unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.target.join("."), e.reason)).collect();
        assert_eq!(
            got,
            vec![
                ("legal_entity_id".to_string(), Reason::InvalidId),
                ("name".to_string(), Reason::InvalidLength),
                ("description".to_string(), Reason::InvalidLength),
            ]
        );
    }
}
