//! The bank account an account's payouts go to.

use secrecy::{ExposeSecret, SecretString};

use super::field_error::{FieldError, Reason, Verdicts};
use super::values::{BoundedText, Invalid};

fn invalid(reason: Reason, message: impl Into<String>) -> Invalid {
    Invalid { reason, message: message.into() }
}

/// Digits only, after dropping the spaces and dashes people type.
fn digits(raw: &str) -> Option<String> {
    let kept: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    kept.bytes().all(|b| b.is_ascii_digit()).then_some(kept)
}

/// An ABA routing number: nine digits whose weighted sum (3, 7, 1, …) is a multiple of ten.
fn parse_routing_number(raw: &str) -> Result<SecretString, Invalid> {
    let number = digits(raw).filter(|d| d.len() == 9).ok_or_else(|| invalid(Reason::InvalidValue, "must have 9 digits"))?;
    let sum: u32 = number.bytes().zip([3, 7, 1].into_iter().cycle()).map(|(b, w)| u32::from(b - b'0') * w).sum();
    if !sum.is_multiple_of(10) {
        return Err(invalid(Reason::InvalidValue, "is not a valid routing number (check digit mismatch)"));
    }
    Ok(SecretString::from(number))
}

fn parse_account_number(raw: &str) -> Result<SecretString, Invalid> {
    digits(raw)
        .filter(|d| (4..=17).contains(&d.len()))
        .map(SecretString::from)
        .ok_or_else(|| invalid(Reason::InvalidValue, "must have 4 to 17 digits"))
}

/// What the payout form posts.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct PayoutInput {
    pub account_holder: String,
    pub routing_number: String,
    pub account_number: String,
    pub account_number_confirmation: String,
}

impl std::fmt::Debug for PayoutInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayoutInput").field("account_holder", &self.account_holder).finish_non_exhaustive()
    }
}

/// A validated bank account. The numbers stay secret in memory and are sealed at rest;
/// only their last four digits are ever shown.
pub struct BankAccount {
    pub account_holder: String,
    pub routing_number: SecretString,
    pub account_number: SecretString,
}

impl BankAccount {
    pub fn parse(input: &PayoutInput) -> Result<Self, Vec<FieldError>> {
        let mut v = Verdicts::default();
        let holder = v.check(&["account_holder"], BoundedText::parse(&input.account_holder, 2, 100).map(BoundedText::into_string));
        let routing = v.check(&["routing_number"], parse_routing_number(&input.routing_number));
        let account = v.check(&["account_number"], parse_account_number(&input.account_number));
        let confirmed = digits(&input.account_number_confirmation);
        if let Some(account) = &account
            && confirmed.as_deref() != Some(account.expose_secret())
        {
            v.check::<()>(&["account_number_confirmation"], Err(invalid(Reason::InvalidValue, "does not match the account number")));
        }
        v.finish(|| Some(Self { account_holder: holder?, routing_number: routing?, account_number: account? }))
    }

    pub fn routing_last4(&self) -> String {
        last4(self.routing_number.expose_secret())
    }

    pub fn account_last4(&self) -> String {
        last4(self.account_number.expose_secret())
    }
}

fn last4(number: &str) -> String {
    number[number.len().saturating_sub(4)..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(routing: &str, account: &str, confirmation: &str) -> PayoutInput {
        PayoutInput {
            account_holder: "Corner Shop LLC".into(),
            routing_number: routing.into(),
            account_number: account.into(),
            account_number_confirmation: confirmation.into(),
        }
    }

    #[test]
    fn a_valid_bank_account_shows_only_its_last_digits() {
        let bank = BankAccount::parse(&input("011000015", "000123456789", "0001 2345 6789")).unwrap();
        assert_eq!(bank.account_last4(), "6789");
        assert_eq!(bank.routing_last4(), "0015");
        assert_eq!(bank.account_number.expose_secret(), "000123456789");
    }

    #[test]
    fn routing_numbers_carry_a_check_digit() {
        assert!(parse_routing_number("021000021").is_ok());
        assert!(parse_routing_number("021000022").is_err());
        assert!(parse_routing_number("02100002").is_err());
        assert!(parse_routing_number("02100002x").is_err());
    }

    #[test]
    fn mistakes_are_named_per_field() {
        let errors = BankAccount::parse(&input("123456789", "12", "12")).err().unwrap();
        let names: Vec<String> = errors.iter().map(|e| e.target.join(".")).collect();
        assert_eq!(names, ["routing_number", "account_number"]);
        let errors = BankAccount::parse(&input("011000015", "123456789", "123456780")).err().unwrap();
        assert_eq!(errors[0].target, ["account_number_confirmation"]);
        assert!(!format!("{:?}", input("011000015", "123456789", "123456789")).contains("123456789"));
    }
}
