//! Access a partner grants to people its IdM cannot name an account for: by verified
//! e-mail, verified phone number, or the IdM's subject (contract, "Access grants").

use super::field_error::{FieldError, Reason};
use super::identity::{email_key, Person};
use super::role::Role;
use super::values::{EmailAddress, Invalid, PhoneNumber};

/// Whom a grant names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    Email(EmailAddress),
    PhoneNumber(PhoneNumber),
    /// The IdM's `sub`, or the hosted-login user id, compared exactly.
    IdmSubject(String),
}

impl Matcher {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::PhoneNumber(_) => "phone_number",
            Self::IdmSubject(_) => "idm_subject",
        }
    }

    /// What is stored and compared: the e-mail in lower case, the E.164 number, the subject.
    pub fn key(&self) -> String {
        match self {
            Self::Email(e) => email_key(e.as_str()),
            Self::PhoneNumber(p) => p.as_str().to_owned(),
            Self::IdmSubject(s) => s.clone(),
        }
    }

    /// What the partner sent, for display.
    pub fn display(&self) -> &str {
        match self {
            Self::Email(e) => e.as_str(),
            Self::PhoneNumber(p) => p.as_str(),
            Self::IdmSubject(s) => s,
        }
    }

    /// Whether this grant names `person`: only by what the policy let Causeway trust.
    pub fn names(&self, person: &Person) -> bool {
        match self {
            Self::Email(_) => person.verified_email_key().as_deref() == Some(self.key().as_str()),
            Self::PhoneNumber(p) => person.verified_phone() == Some(p.as_str()),
            Self::IdmSubject(s) => &person.subject == s,
        }
    }
}

/// An IdM subject as a partner names one: 1 to 255 characters, exactly as the IdM sends it.
pub fn subject(raw: &str) -> Result<String, Invalid> {
    let fail = |message: &str| Invalid { reason: Reason::InvalidCharacters, message: message.into() };
    if raw.is_empty() || raw.chars().count() > 255 {
        return Err(Invalid { reason: Reason::InvalidLength, message: "must have 1 to 255 characters".into() });
    }
    if raw.chars().any(char::is_control) {
        return Err(fail("must not contain control characters"));
    }
    if raw.trim() != raw {
        return Err(fail("must not start or end with spaces: subjects are compared exactly"));
    }
    Ok(raw.to_owned())
}

/// A grant as a partner asks for it: exactly one matcher and a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewGrant {
    pub matcher: Matcher,
    pub role: Role,
}

impl NewGrant {
    pub fn parse(email: Option<&str>, phone_number: Option<&str>, idm_subject: Option<&str>, role: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let given: Vec<(&str, &str)> = [("email", email), ("phone_number", phone_number), ("idm_subject", idm_subject)]
            .into_iter()
            .filter_map(|(field, value)| value.map(|v| (field, v)))
            .collect();
        let mut errors = Vec::new();
        let role = match role.unwrap_or("moderator") {
            "moderator" => Some(Role::Moderator),
            "financial_admin" => Some(Role::FinancialAdmin),
            _ => {
                errors.push(FieldError::new(&["role"], Reason::InvalidValue, "must be moderator or financial_admin"));
                None
            }
        };
        let matcher = match given.as_slice() {
            [] => {
                errors.push(FieldError::new(&[], Reason::MissingField, "send exactly one of email, phone_number or idm_subject"));
                None
            }
            [(field, raw)] => {
                let parsed = match *field {
                    "email" => EmailAddress::parse(raw).map(Matcher::Email),
                    "phone_number" => PhoneNumber::parse(raw).map(Matcher::PhoneNumber),
                    _ => subject(raw).map(Matcher::IdmSubject),
                };
                parsed.map_err(|invalid| errors.push(FieldError::new(&[field], invalid.reason, invalid.message))).ok()
            }
            several => {
                for (field, _) in &several[1..] {
                    errors.push(FieldError::new(&[field], Reason::InvalidValue, format!("send only one of email, phone_number or idm_subject (already {})", several[0].0)));
                }
                None
            }
        };
        match (matcher, role) {
            (Some(matcher), Some(role)) if errors.is_empty() => Ok(Self { matcher, role }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(result: Result<NewGrant, Vec<FieldError>>) -> Vec<(Vec<String>, Reason)> {
        result.unwrap_err().into_iter().map(|e| (e.target, e.reason)).collect()
    }

    #[test]
    fn exactly_one_matcher_and_a_role() {
        let g = NewGrant::parse(Some("Clerk@Shop.example"), None, None, None).unwrap();
        assert_eq!((g.matcher.kind(), g.matcher.key().as_str(), g.role), ("email", "clerk@shop.example", Role::Moderator));
        let g = NewGrant::parse(None, Some("+47 999 99 999"), None, Some("financial_admin")).unwrap();
        assert_eq!((g.matcher.key().as_str(), g.role), ("+4799999999", Role::FinancialAdmin));
        assert_eq!(NewGrant::parse(None, None, Some("pairwise-abc"), None).unwrap().matcher.key(), "pairwise-abc");

        assert_eq!(reasons(NewGrant::parse(None, None, None, None)), vec![(vec![], Reason::MissingField)]);
        assert_eq!(reasons(NewGrant::parse(Some("a@b.example"), None, Some("x"), None)), vec![(vec!["idm_subject".into()], Reason::InvalidValue)]);
        assert_eq!(reasons(NewGrant::parse(Some("nope"), None, None, Some("owner"))), vec![
            (vec!["role".into()], Reason::InvalidValue),
            (vec!["email".into()], Reason::InvalidEmail),
        ]);
        assert_eq!(reasons(NewGrant::parse(None, Some("99999999"), None, None)), vec![(vec!["phone_number".into()], Reason::InvalidPhone)]);
        assert_eq!(reasons(NewGrant::parse(None, None, Some(" padded"), None)), vec![(vec!["idm_subject".into()], Reason::InvalidCharacters)]);
        assert_eq!(reasons(NewGrant::parse(None, None, Some(""), None)), vec![(vec!["idm_subject".into()], Reason::InvalidLength)]);
    }
}
