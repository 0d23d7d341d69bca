//! Know-your-customer details a financial admin gives for an account's business.

use time::{Date, Month};

use super::field_error::{FieldError, Reason, Verdicts};
use super::values::{BoundedText, Invalid};

fn invalid(reason: Reason, message: impl Into<String>) -> Invalid {
    Invalid { reason, message: message.into() }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusinessType {
    SoleProprietorship,
    Llc,
    Corporation,
    Partnership,
    Nonprofit,
}

impl BusinessType {
    pub const ALL: [Self; 5] = [Self::SoleProprietorship, Self::Llc, Self::Corporation, Self::Partnership, Self::Nonprofit];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SoleProprietorship => "sole_proprietorship",
            Self::Llc => "llc",
            Self::Corporation => "corporation",
            Self::Partnership => "partnership",
            Self::Nonprofit => "nonprofit",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::SoleProprietorship => "Sole proprietorship",
            Self::Llc => "Limited liability company (LLC)",
            Self::Corporation => "Corporation",
            Self::Partnership => "Partnership",
            Self::Nonprofit => "Non-profit organization",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw.trim())
            .ok_or_else(|| invalid(Reason::InvalidValue, "choose one of the listed business types"))
    }
}

/// A tax identification number, digits only. US numbers (EIN or SSN) have nine digits;
/// elsewhere 5 to 20 letters and digits. Separators people type are dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct TaxId(String);

impl TaxId {
    pub fn parse(raw: &str, country: &str) -> Result<Self, Invalid> {
        let kept: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '/')).collect();
        if kept.is_empty() {
            return Err(invalid(Reason::MissingField, "is required"));
        }
        if country == "US" {
            if kept.len() != 9 || !kept.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(Reason::InvalidValue, "must have 9 digits (EIN or SSN), such as 12-3456789"));
            }
        } else if !(5..=20).contains(&kept.len()) || !kept.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(Reason::InvalidValue, "must have 5 to 20 letters and digits"));
        }
        Ok(Self(kept.to_ascii_uppercase()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What pages show afterwards.
    pub fn last4(&self) -> String {
        self.0[self.0.len() - 4..].to_owned()
    }
}

impl std::fmt::Debug for TaxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TaxId(…{})", self.last4())
    }
}

/// A representative's date of birth as `YYYY-MM-DD` (what `<input type="date">` sends):
/// an adult, and not implausibly old.
pub fn parse_birth_date(raw: &str, today: Date) -> Result<Date, Invalid> {
    // The date box shows the browser's own format (10/31/1980, 31.10.1980): the message
    // names the parts, not the wire format.
    let bad = || invalid(Reason::InvalidValue, "must be a full date: day, month and year");
    let mut parts = raw.trim().splitn(3, '-');
    let mut next = |len: usize| parts.next().filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit())).and_then(|p| p.parse::<u16>().ok());
    let (year, month, day) = (next(4).ok_or_else(bad)?, next(2).ok_or_else(bad)?, next(2).ok_or_else(bad)?);
    let month = Month::try_from(month as u8).map_err(|_| bad())?;
    let date = Date::from_calendar_date(i32::from(year), month, day as u8).map_err(|_| bad())?;
    let age = years_between(date, today);
    if date > today {
        Err(invalid(Reason::TimeInFuture, "must not be in the future"))
    } else if age < 18 {
        Err(invalid(Reason::InvalidValue, "the representative must be at least 18 years old"))
    } else if age > 120 {
        Err(invalid(Reason::InvalidValue, "must be a real date of birth"))
    } else {
        Ok(date)
    }
}

fn years_between(from: Date, to: Date) -> i32 {
    let had_birthday = (to.month() as u8, to.day()) >= (from.month() as u8, from.day());
    to.year() - from.year() - i32::from(!had_birthday)
}

/// Postal codes: US ZIP or ZIP+4; elsewhere 2 to 12 letters, digits, spaces and dashes.
fn parse_postal_code(raw: &str, country: &str) -> Result<String, Invalid> {
    let code = raw.trim();
    let ok = if country == "US" {
        let bytes = code.as_bytes();
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        match bytes.len() {
            5 => digits(bytes),
            10 => digits(&bytes[..5]) && bytes[5] == b'-' && digits(&bytes[6..]),
            _ => false,
        }
    } else {
        (2..=12).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
    };
    if code.is_empty() {
        Err(invalid(Reason::MissingField, "is required"))
    } else if ok {
        Ok(code.to_ascii_uppercase())
    } else if country == "US" {
        Err(invalid(Reason::InvalidValue, "must be a ZIP code such as 94107 or 94107-1234"))
    } else {
        Err(invalid(Reason::InvalidValue, "must have 2 to 12 letters, digits, spaces or dashes"))
    }
}

/// What the KYC form posts. `tax_id` empty means "keep the one on file".
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct KycInput {
    pub legal_name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub business_type: String,
    pub tax_id: String,
    pub representative_dob: String,
}

/// Validated KYC details. The address is in the legal entity's country.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KycDetails {
    pub legal_name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub business_type: BusinessType,
    /// `None`: keep the tax id already on file.
    pub tax_id: Option<TaxId>,
    pub representative_dob: Date,
}

impl KycDetails {
    pub fn parse(input: &KycInput, country: &str, today: Date, tax_id_on_file: bool) -> Result<Self, Vec<FieldError>> {
        let mut v = Verdicts::default();
        let text = |raw: &str, min, max| BoundedText::parse(raw, min, max).map(BoundedText::into_string);
        let legal_name = v.check(&["legal_name"], text(&input.legal_name, 2, 200));
        let address_line1 = v.check(&["address_line1"], text(&input.address_line1, 3, 200));
        let address_line2 = v.check(&["address_line2"], text(&input.address_line2, 0, 200));
        let city = v.check(&["city"], text(&input.city, 2, 100));
        let region = v.check(&["region"], text(&input.region, 2, 100));
        let postal_code = v.check(&["postal_code"], parse_postal_code(&input.postal_code, country));
        let business_type = v.check(&["business_type"], BusinessType::parse(&input.business_type));
        let tax_id = if input.tax_id.trim().is_empty() && tax_id_on_file {
            Some(None)
        } else {
            v.check(&["tax_id"], TaxId::parse(&input.tax_id, country)).map(Some)
        };
        let representative_dob = v.check(&["representative_dob"], parse_birth_date(&input.representative_dob, today));
        v.finish(|| {
            Some(Self {
                legal_name: legal_name?,
                address_line1: address_line1?,
                address_line2: address_line2?,
                city: city?,
                region: region?,
                postal_code: postal_code?,
                business_type: business_type?,
                tax_id: tax_id?,
                representative_dob: representative_dob?,
            })
        })
    }
}

/// What the KYC page asks for, in form order, with the names the overview lists as missing.
pub const REQUIRED: [(&str, &str); 5] = [
    ("legal_name", "business legal name"),
    ("address_line1", "business address"),
    ("business_type", "business type"),
    ("tax_id", "tax id"),
    ("representative_dob", "representative's date of birth"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn input() -> KycInput {
        KycInput {
            legal_name: "Corner Shop LLC".into(),
            address_line1: "1 Market St".into(),
            address_line2: String::new(),
            city: "San Francisco".into(),
            region: "CA".into(),
            postal_code: "94105".into(),
            business_type: "llc".into(),
            tax_id: "12-3456789".into(),
            representative_dob: "1980-02-29".into(),
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<(String, Reason)> {
        errors.into_iter().map(|e| (e.target.join("."), e.reason)).collect()
    }

    #[test]
    fn a_complete_form_is_accepted() {
        let details = KycDetails::parse(&input(), "US", TODAY, false).unwrap();
        assert_eq!(details.tax_id.as_ref().unwrap().expose(), "123456789");
        assert_eq!(details.tax_id.unwrap().last4(), "6789");
        assert_eq!(details.business_type, BusinessType::Llc);
        assert_eq!(details.representative_dob, date!(1980 - 02 - 29));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let bad = KycInput {
            legal_name: " ".into(),
            postal_code: "9410".into(),
            business_type: "empire".into(),
            tax_id: "12345".into(),
            representative_dob: "2010-01-01".into(),
            ..input()
        };
        let names: Vec<String> = fields(KycDetails::parse(&bad, "US", TODAY, false).unwrap_err()).into_iter().map(|f| f.0).collect();
        assert_eq!(names, ["legal_name", "postal_code", "business_type", "tax_id", "representative_dob"]);
    }

    #[test]
    fn a_blank_tax_id_keeps_the_one_on_file_but_is_required_the_first_time() {
        let blank = KycInput { tax_id: String::new(), ..input() };
        assert_eq!(KycDetails::parse(&blank, "US", TODAY, true).unwrap().tax_id, None);
        assert_eq!(fields(KycDetails::parse(&blank, "US", TODAY, false).unwrap_err()), [("tax_id".to_owned(), Reason::MissingField)]);
    }

    #[test]
    fn birth_dates() {
        assert!(parse_birth_date("2008-11-23", TODAY).is_ok(), "18 today");
        assert!(parse_birth_date("2008-11-24", TODAY).is_err(), "18 tomorrow");
        assert_eq!(parse_birth_date("2027-01-01", TODAY).unwrap_err().reason, Reason::TimeInFuture);
        for bad in ["1900-01-01", "1981-02-29", "1980-13-01", "80-01-01", "1980/01/01", "", "1980-01-01x"] {
            assert!(parse_birth_date(bad, TODAY).is_err(), "{bad}");
        }
    }

    #[test]
    fn tax_ids_and_postal_codes_follow_the_country() {
        assert!(TaxId::parse("123456789", "US").is_ok());
        assert!(TaxId::parse("12345678", "US").is_err());
        assert!(TaxId::parse("DE123456789", "DE").is_ok());
        assert!(TaxId::parse("12<b>", "DE").is_err());
        assert_eq!(parse_postal_code("94105-1234", "US").unwrap(), "94105-1234");
        assert!(parse_postal_code("9410A", "US").is_err());
        assert_eq!(parse_postal_code("sw1a 1aa", "GB").unwrap(), "SW1A 1AA");
        assert!(format!("{:?}", TaxId::parse("123456789", "US").unwrap()).contains("6789"));
        assert!(!format!("{:?}", TaxId::parse("123456789", "US").unwrap()).contains("12345"));
    }
}
