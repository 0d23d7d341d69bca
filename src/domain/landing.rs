//! Where a login lands other than the Merchant Center's front page: a partner's deep link
//! to one task, or the form a step-up sends the person back to (contract: "Deep links",
//! "Step-up before money changes").

use crate::domain::ids::AccountId;

/// A Merchant Center page a deep link may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Overview,
    Kyc,
    Payout,
    Users,
}

impl Target {
    pub const ALL: [Self; 4] = [Self::Overview, Self::Kyc, Self::Payout, Self::Users];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overview => "overview",
            Self::Kyc => "kyc",
            Self::Payout => "payout",
            Self::Users => "users",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// A login that signs in to one account and lands on one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Landing {
    pub account: AccountId,
    pub target: Target,
    /// A step-up: the person must authenticate again at the IdM, and did.
    pub step_up: bool,
}

impl Landing {
    const MARK: &'static str = "land:";

    /// One line, sealed with the login flow.
    pub fn encode(&self) -> String {
        format!("{}{}:{}:{}", Self::MARK, self.account, self.target.as_str(), if self.step_up { "step-up" } else { "link" })
    }

    pub fn decode(line: &str) -> Option<Self> {
        let mut parts = line.strip_prefix(Self::MARK)?.split(':');
        let account = parts.next()?.parse().ok()?;
        let target = Target::parse(parts.next()?)?;
        let step_up = match parts.next()? {
            "step-up" => true,
            "link" => false,
            _ => return None,
        };
        parts.next().is_none().then_some(Self { account, target, step_up })
    }
}

/// Whether a session whose person last authenticated at `authenticated_at` may save money
/// details at `now` without authenticating again.
pub fn recent_enough(authenticated_at: i64, now: i64, step_up_seconds: i64) -> bool {
    now.saturating_sub(authenticated_at) <= step_up_seconds
}

/// When the person authenticated, by the IdM's `auth_time` (OIDC Core §2): absent, 0 (as
/// glewlwyd sends) or not a number counts as the login itself, `now`; a time after `now` is
/// `now` (the token's own `iat` rules already bound the clock skew).
pub fn authenticated_at(auth_time: Option<&serde_json::Value>, now: i64) -> i64 {
    match auth_time.and_then(serde_json::Value::as_f64) {
        Some(t) if t >= 1.0 => (t as i64).min(now),
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_landing_survives_its_line_and_nothing_else_parses() {
        let account: AccountId = "0b6c1f0e-8a5e-4f3e-9d8c-2a1b3c4d5e6f".parse().unwrap();
        for target in Target::ALL {
            for step_up in [true, false] {
                let landing = Landing { account, target, step_up };
                assert_eq!(Landing::decode(&landing.encode()), Some(landing));
            }
        }
        for bad in ["", "land:", "land:nope:kyc:link", &format!("land:{account}:admin:link"), &format!("land:{account}:kyc:maybe"), &format!("land:{account}:kyc:link:x")] {
            assert_eq!(Landing::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn auth_time_zero_or_absent_is_the_login_itself() {
        let now = 1_800_000_000;
        assert_eq!(authenticated_at(None, now), now);
        assert_eq!(authenticated_at(Some(&json!(0)), now), now);
        assert_eq!(authenticated_at(Some(&json!("1700000000")), now), now);
        assert_eq!(authenticated_at(Some(&json!(now - 4000)), now), now - 4000);
        assert_eq!(authenticated_at(Some(&json!(now + 30)), now), now);
        assert!(recent_enough(now - 600, now, 600));
        assert!(!recent_enough(now - 601, now, 600));
    }
}
