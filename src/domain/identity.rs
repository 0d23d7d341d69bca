//! From what a partner IdM said to a person Causeway can decide access for: the partner's
//! identity policy (which claims, which are required, which e-mails count as verified),
//! the same for every connector kind. Connectors know protocols; this module knows what
//! the product needs from an identity (contract, "Connectors and identity").

use serde_json::{Map, Value};

use super::sso_error::SsoError;
use super::values::{hidden, visible, PhoneNumber};

/// What a connector delivers once the IdM's answer passed every protocol rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FederatedIdentity {
    /// The IdM's issuer (OIDC `iss`) or the hosted-login base URL.
    pub issuer: String,
    /// Possibly pairwise: unique per (IdM, client), so identities are keyed by (app, issuer, subject).
    pub subject: String,
    /// The verified ID token's claims (or the hosted-login directory record, in standard names).
    pub primary: Map<String, Value>,
    /// Claims from the userinfo endpoint, when it was called (its `sub` already matched).
    pub userinfo: Option<Map<String, Value>>,
}

impl FederatedIdentity {
    /// Where `name` was found: the ID token wins over userinfo (contract).
    fn source_of(&self, name: &str) -> Option<&Map<String, Value>> {
        if self.primary.contains_key(name) {
            Some(&self.primary)
        } else {
            self.userinfo.as_ref().filter(|u| u.contains_key(name))
        }
    }

    /// A display value (a name): invisible and control characters dropped, bounded.
    fn text(&self, name: &str) -> Option<String> {
        let value = display_text(self.source_of(name)?.get(name)?.as_str()?);
        (!value.is_empty()).then_some(value)
    }

    /// An address (e-mail, phone number) with its verification flag read from the same
    /// source, so an e-mail from userinfo is never vouched for by an `email_verified` that
    /// the ID token said of another. An address with a hidden character is no address: it
    /// would be stored and shown as something other than what it looks like.
    fn verified_text(&self, name: &str, flag: &str) -> Option<(String, bool)> {
        let source = self.source_of(name)?;
        let value = source.get(name)?.as_str()?.trim();
        if value.is_empty() || value.chars().count() > MAX_ADDRESS_CHARS || value.chars().any(hidden) {
            return None;
        }
        // Only the JSON boolean true counts: "true" as a string is a misconfigured IdM.
        Some((value.to_owned(), source.get(flag) == Some(&Value::Bool(true))))
    }
}

/// Names longer than this are cut: nobody's name is, and a page must not carry megabytes.
const MAX_NAME_CHARS: usize = 200;
/// RFC 5321's limit for a path, which bounds an e-mail address; phone numbers are shorter.
const MAX_ADDRESS_CHARS: usize = 254;
/// OIDC Core §2: `sub` is at most 255 ASCII characters.
const MAX_SUBJECT_CHARS: usize = 255;

fn display_text(raw: &str) -> String {
    visible(raw, MAX_NAME_CHARS)
}

/// The standard claims a partner may require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StandardClaim {
    Email,
    GivenName,
    FamilyName,
    PhoneNumber,
}

impl StandardClaim {
    pub const ALL: [Self; 4] = [Self::Email, Self::GivenName, Self::FamilyName, Self::PhoneNumber];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::GivenName => "given_name",
            Self::FamilyName => "family_name",
            Self::PhoneNumber => "phone_number",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// Which e-mails Causeway may use for an access decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailTrust {
    /// Only with `email_verified: true` from the IdM.
    Required,
    /// The IdM sends no `email_verified` (Entra ID, directories): the partner vouches for its e-mails.
    TrustedIdm,
}

impl EmailTrust {
    pub const ALL: [Self; 2] = [Self::Required, Self::TrustedIdm];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TrustedIdm => "trusted_idm",
        }
    }
}

/// The names of the claims Causeway reads, as the partner's IdM calls them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimNames {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub phone_number: String,
    /// The claim naming the merchant account (`https://{domain}/wepay_account_id` by default).
    pub account: String,
}

impl ClaimNames {
    pub fn standard(account: String) -> Self {
        Self {
            email: "email".into(),
            given_name: "given_name".into(),
            family_name: "family_name".into(),
            phone_number: "phone_number".into(),
            account,
        }
    }

    fn of(&self, claim: StandardClaim) -> &str {
        match claim {
            StandardClaim::Email => &self.email,
            StandardClaim::GivenName => &self.given_name,
            StandardClaim::FamilyName => &self.family_name,
            StandardClaim::PhoneNumber => &self.phone_number,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityPolicy {
    pub names: ClaimNames,
    pub required: Vec<StandardClaim>,
    pub email_trust: EmailTrust,
}

/// The person behind an identity, with only what the policy lets Causeway rely on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub issuer: String,
    pub subject: String,
    /// The e-mail as the IdM sent it, verified or not (shown, never used for access unless verified).
    pub email: Option<String>,
    pub email_verified: bool,
    /// The phone number in E.164 when the IdM's value is one.
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub given_name: String,
    pub family_name: String,
    /// The account the IdM names; whether it is this partner's is for access to decide.
    pub account_claim: Option<String>,
}

impl Person {
    /// The key that grants by e-mail and the controller rule compare: lower case, verified only.
    pub fn verified_email_key(&self) -> Option<String> {
        self.email.as_deref().filter(|_| self.email_verified).map(email_key)
    }

    pub fn verified_phone(&self) -> Option<&str> {
        self.phone.as_deref().filter(|_| self.phone_verified)
    }

    /// "Ada Lovelace", or what the display-name fallback left.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name).trim().to_owned()
    }

    /// How the partner's event log names who signed in: e-mail, phone, or subject.
    pub fn label(&self) -> &str {
        self.email.as_deref().or(self.phone.as_deref()).unwrap_or(&self.subject)
    }
}

/// E-mail addresses compare case-insensitively for access (the contract; mailbox local
/// parts are case-sensitive in theory, never in practice).
pub fn email_key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

impl IdentityPolicy {
    /// The default policy: WePay's shape, every claim required and verified e-mail.
    pub fn standard(account_claim: String) -> Self {
        Self {
            names: ClaimNames::standard(account_claim),
            required: vec![StandardClaim::Email, StandardClaim::GivenName, StandardClaim::FamilyName],
            email_trust: EmailTrust::Required,
        }
    }

    fn requires(&self, claim: StandardClaim) -> bool {
        self.required.contains(&claim)
    }

    /// Whether `identity` carries a usable `claim`: an address (e-mail, phone) without a
    /// hidden character, or a name that is not empty once they are dropped.
    fn has(&self, identity: &FederatedIdentity, claim: StandardClaim) -> bool {
        let name = self.names.of(claim);
        match claim {
            StandardClaim::Email | StandardClaim::PhoneNumber => identity.verified_text(name, "").is_some(),
            StandardClaim::GivenName | StandardClaim::FamilyName => identity.text(name).is_some(),
        }
    }

    /// Whether a login whose ID token carries `claims` lacks something Causeway needs, so
    /// that userinfo must be asked (`"userinfo": "when_needed"`): a required claim, the
    /// verification flag of a present e-mail or phone number, or the account claim.
    pub fn needs_more_than(&self, claims: &Map<String, Value>) -> bool {
        let has = |name: &str| claims.get(name).is_some_and(|v| !v.is_null());
        let required_missing = self.required.iter().any(|c| !has(self.names.of(*c)));
        let email_flag_missing = self.email_trust == EmailTrust::Required && has(&self.names.email) && !has("email_verified");
        let phone_flag_missing = has(&self.names.phone_number) && !has("phone_number_verified");
        required_missing || email_flag_missing || phone_flag_missing || !has(&self.names.account)
    }

    /// Applies the policy: every required claim present, a required e-mail or phone number
    /// verified, display names filled from what there is.
    pub fn person(&self, identity: &FederatedIdentity) -> Result<Person, SsoError> {
        let n = &self.names;
        // The subject keys the person; one Causeway could not store or compare is none.
        if identity.subject.is_empty() || identity.subject.chars().count() > MAX_SUBJECT_CHARS || identity.subject.chars().any(hidden) {
            return Err(SsoError::ClaimMissing("sub".into()));
        }
        if let Some(claim) = self.required.iter().find(|c| !self.has(identity, **c)) {
            return Err(SsoError::ClaimMissing(n.of(*claim).to_owned()));
        }
        let email = identity.verified_text(&n.email, "email_verified");
        let email_verified = email.as_ref().is_some_and(|(_, flag)| *flag || self.email_trust == EmailTrust::TrustedIdm);
        if self.requires(StandardClaim::Email) && !email_verified {
            return Err(SsoError::EmailUnverified);
        }
        // A number that is not E.164 cannot match a grant; it is kept for display only, and
        // never counts as the verified phone number a policy requires.
        let (phone, phone_verified) = match identity.verified_text(&n.phone_number, "phone_number_verified") {
            Some((raw, flag)) => match PhoneNumber::parse(&raw) {
                Ok(e164) => (Some(e164.as_str().to_owned()), flag),
                Err(_) => (Some(raw), false),
            },
            None => (None, false),
        };
        if self.requires(StandardClaim::PhoneNumber) && !phone_verified {
            return Err(SsoError::PhoneUnverified);
        }
        let email = email.map(|(e, _)| e);
        let given = identity.text(&n.given_name);
        let family = identity.text(&n.family_name);
        // Display-name fallback: `name`, then the e-mail or phone number, then the subject.
        let (given_name, family_name) = match (given, family) {
            (None, None) => {
                let fallback = identity.text("name").or_else(|| email.clone()).or_else(|| phone.clone()).unwrap_or_else(|| identity.subject.clone());
                (fallback, String::new())
            }
            (given, family) => (given.unwrap_or_default(), family.unwrap_or_default()),
        };
        let account_claim = match identity.source_of(&n.account).and_then(|s| s.get(&n.account)) {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(display_text(id)),
            // A number or object names no account Causeway could have issued.
            Some(other) => Some(other.to_string()),
        };
        Ok(Person {
            issuer: identity.issuer.clone(),
            subject: identity.subject.clone(),
            email,
            email_verified,
            phone,
            phone_verified,
            given_name,
            family_name,
            account_claim,
        })
    }
}

/// Where a claim was found and what it was, for a test sign-in's report.
fn observed(identity: &FederatedIdentity, name: &str) -> String {
    let Some(source) = identity.source_of(name) else { return "absent from the ID token and from userinfo".into() };
    let place = if std::ptr::eq(source, &identity.primary) { "ID token" } else { "userinfo" };
    let value = &source[name];
    let json_type = super::test_sign_in::json_type(value);
    match value {
        Value::String(text) => format!("{json_type} {:?} ({place})", visible(text, 80)),
        Value::Bool(_) | Value::Number(_) | Value::Null => format!("{json_type} {value} ({place})"),
        _ => format!("{json_type} ({place})"),
    }
}

impl IdentityPolicy {
    /// Every rule of the policy judged on its own, for a test sign-in (the sign-in itself
    /// uses `person`, which stops at the first).
    pub fn inspect(&self, identity: &FederatedIdentity) -> Vec<super::test_sign_in::Check> {
        use super::test_sign_in::Check;
        let check = |rule: String, passed: bool, observed: String, error: SsoError| Check {
            rule,
            passed,
            observed,
            fix: if passed { String::new() } else { error.fix_hint().to_owned() },
        };
        let n = &self.names;
        let mut checks = Vec::new();
        for claim in &self.required {
            let name = n.of(*claim);
            checks.push(check(format!("required claim {name}"), self.has(identity, *claim), observed(identity, name), SsoError::ClaimMissing(name.to_owned())));
        }
        if identity.source_of(&n.email).is_some() {
            let verified = identity.verified_text(&n.email, "email_verified").is_some_and(|(_, flag)| flag);
            let (passed, seen) = match self.email_trust {
                EmailTrust::TrustedIdm => (true, "not needed: the policy trusts this IdM's e-mails".to_owned()),
                EmailTrust::Required => (verified, observed(identity, "email_verified")),
            };
            let rule = "email_verified is the JSON boolean true".to_owned();
            checks.push(check(rule, passed, seen, SsoError::EmailUnverified));
        }
        if identity.source_of(&n.phone_number).is_some() {
            let verified = identity.verified_text(&n.phone_number, "phone_number_verified").is_some_and(|(raw, flag)| flag && PhoneNumber::parse(&raw).is_ok());
            let rule = "phone_number is E.164 and phone_number_verified is true".to_owned();
            let seen = format!("{}; phone_number_verified: {}", observed(identity, &n.phone_number), observed(identity, "phone_number_verified"));
            checks.push(check(rule, verified, seen, SsoError::PhoneUnverified));
        }
        let account = match identity.source_of(&n.account).map(|s| &s[&n.account]) {
            None | Some(Value::Null) => (true, format!("absent: access comes from grants or the controller rule ({})", n.account)),
            Some(Value::String(_)) => (true, observed(identity, &n.account)),
            Some(_) => (false, observed(identity, &n.account)),
        };
        checks.push(check(format!("account claim {}", n.account), account.0, account.1, SsoError::AccountUnknown));
        checks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CLAIM: &str = "https://partner.example/wepay_account_id";

    fn identity(primary: Value, userinfo: Option<Value>) -> FederatedIdentity {
        let map = |v: Value| v.as_object().unwrap().clone();
        FederatedIdentity { issuer: "https://idm.example".into(), subject: "u-1".into(), primary: map(primary), userinfo: userinfo.map(map) }
    }

    fn full() -> Value {
        json!({"sub": "u-1", "email": "Ada@Shop.example", "email_verified": true, "given_name": "Ada", "family_name": "Lovelace", CLAIM: "acc-1"})
    }

    fn policy() -> IdentityPolicy {
        IdentityPolicy::standard(CLAIM.into())
    }

    #[test]
    fn the_wepay_shape_yields_everything() {
        let p = policy().person(&identity(full(), None)).unwrap();
        assert_eq!(p.verified_email_key().as_deref(), Some("ada@shop.example"));
        assert_eq!((p.display_name().as_str(), p.account_claim.as_deref()), ("Ada Lovelace", Some("acc-1")));
        assert!(!policy().needs_more_than(&identity(full(), None).primary));
    }

    #[test]
    fn the_id_token_wins_and_flags_travel_with_their_value() {
        let id = identity(json!({"sub": "u-1", "email": "a@x.example"}), Some(json!({"sub": "u-1", "email": "b@x.example", "email_verified": true, "given_name": "B", "family_name": "C"})));
        // The ID token's e-mail has no flag of its own; userinfo's flag is about another address.
        assert_eq!(policy().person(&id).unwrap_err(), SsoError::EmailUnverified);
        let id = identity(json!({"sub": "u-1"}), Some(json!({"email": "b@x.example", "email_verified": true, "given_name": "B", "family_name": "C"})));
        let p = policy().person(&id).unwrap();
        assert_eq!((p.email.as_deref(), p.email_verified, p.given_name.as_str()), (Some("b@x.example"), true, "B"));
    }

    #[test]
    fn hidden_characters_never_reach_a_person() {
        let mut claims = full();
        claims["given_name"] = json!("A\u{0}d\u{202E}a");
        claims["family_name"] = json!("L".repeat(10_000));
        let p = policy().person(&identity(claims.clone(), None)).unwrap();
        assert_eq!(p.given_name, "Ada");
        assert_eq!(p.family_name.chars().count(), MAX_NAME_CHARS);
        // An e-mail with a NUL or a bidi override is not taken as an address at all.
        for bad in ["ada\u{0}@shop.example", "ada@shop.example\u{202E}moc", "ada@\r\nshop.example"] {
            claims["email"] = json!(bad);
            assert_eq!(policy().person(&identity(claims.clone(), None)).unwrap_err(), SsoError::ClaimMissing("email".into()), "{bad:?}");
        }
        let mut id = identity(full(), None);
        id.subject = "u\u{0}1".into();
        assert_eq!(policy().person(&id).unwrap_err(), SsoError::ClaimMissing("sub".into()));
    }

    #[test]
    fn required_claims_and_verification() {
        let without = |field: &str| {
            let mut v = full();
            v.as_object_mut().unwrap().remove(field);
            v
        };
        assert_eq!(policy().person(&identity(without("given_name"), None)).unwrap_err(), SsoError::ClaimMissing("given_name".into()));
        assert_eq!(policy().person(&identity(without("email_verified"), None)).unwrap_err(), SsoError::EmailUnverified);
        let mut string_flag = full();
        string_flag["email_verified"] = json!("true");
        assert_eq!(policy().person(&identity(string_flag, None)).unwrap_err(), SsoError::EmailUnverified);
        // The partner vouches for its IdM's e-mails.
        let trusted = IdentityPolicy { email_trust: EmailTrust::TrustedIdm, ..policy() };
        assert!(trusted.person(&identity(without("email_verified"), None)).unwrap().email_verified);
        // Not required: an unverified e-mail is kept for display but never used for access.
        let lax = IdentityPolicy { required: vec![], ..policy() };
        let p = lax.person(&identity(without("email_verified"), None)).unwrap();
        assert_eq!((p.email.is_some(), p.verified_email_key()), (true, None));
    }

    #[test]
    fn phone_only_identities_and_name_fallbacks() {
        let phone_policy = IdentityPolicy { required: vec![StandardClaim::PhoneNumber], ..policy() };
        let p = phone_policy.person(&identity(json!({"sub": "pw-9", "phone_number": "+47 999 99 999", "phone_number_verified": true}), None)).unwrap();
        assert_eq!((p.verified_phone(), p.display_name().as_str(), p.email.as_deref()), (Some("+4799999999"), "+4799999999", None));
        let unverified = json!({"sub": "pw-9", "phone_number": "+4799999999", "phone_number_verified": false});
        assert_eq!(phone_policy.person(&identity(unverified.clone(), None)).unwrap_err(), SsoError::PhoneUnverified);
        let lax = IdentityPolicy { required: vec![], ..policy() };
        assert_eq!(lax.person(&identity(unverified, None)).unwrap().verified_phone(), None);
        let named = lax.person(&identity(json!({"sub": "s", "name": "Grace Hopper"}), None)).unwrap();
        assert_eq!(named.display_name(), "Grace Hopper");
        assert_eq!(lax.person(&identity(json!({"sub": "s"}), None)).unwrap().display_name(), "u-1");
    }

    #[test]
    fn userinfo_is_needed_only_for_what_is_missing() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        assert!(policy().needs_more_than(&obj(json!({"sub": "u-1"}))));
        let mut no_account = full();
        no_account.as_object_mut().unwrap().remove(CLAIM);
        assert!(policy().needs_more_than(&obj(no_account)));
        let mut no_flag = full();
        no_flag.as_object_mut().unwrap().remove("email_verified");
        assert!(policy().needs_more_than(&obj(no_flag.clone())));
        let trusted = IdentityPolicy { email_trust: EmailTrust::TrustedIdm, ..policy() };
        assert!(!trusted.needs_more_than(&obj(no_flag)));
    }

    #[test]
    fn configured_claim_names_are_read() {
        let custom = IdentityPolicy {
            names: ClaimNames { email: "mail".into(), given_name: "first".into(), family_name: "last".into(), phone_number: "tel".into(), account: "acct".into() },
            ..policy()
        };
        let p = custom.person(&identity(json!({"sub": "u", "mail": "m@x.example", "email_verified": true, "first": "F", "last": "L", "acct": "a-9"}), None)).unwrap();
        assert_eq!((p.email.as_deref(), p.display_name().as_str(), p.account_claim.as_deref()), (Some("m@x.example"), "F L", Some("a-9")));
        assert_eq!(custom.person(&identity(json!({"sub": "u", "email": "m@x.example"}), None)).unwrap_err(), SsoError::ClaimMissing("mail".into()));
    }
}
