//! A merchant user's role on an account.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The legal entity's controller: may edit KYC and payout details.
    FinancialAdmin,
    /// Anyone else the partner's IdM vouches for on the account.
    Moderator,
}

impl Role {
    pub const ALL: [Self; 2] = [Self::FinancialAdmin, Self::Moderator];

    /// The contract's rule: the controller (same e-mail, case-insensitively, and verified
    /// by the partner at onboarding) is the financial admin; everyone else a moderator.
    pub fn for_user(user_email: &str, controller_email: &str, controller_verified: bool) -> Self {
        if controller_verified && user_email.eq_ignore_ascii_case(controller_email) {
            Self::FinancialAdmin
        } else {
            Self::Moderator
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FinancialAdmin => "financial_admin",
            Self::Moderator => "moderator",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::FinancialAdmin => "Financial admin",
            Self::Moderator => "Moderator",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "financial_admin" => Ok(Self::FinancialAdmin),
            "moderator" => Ok(Self::Moderator),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verified_controller_is_the_financial_admin() {
        assert_eq!(Role::for_user("Owner@Shop.example", "owner@shop.example", true), Role::FinancialAdmin);
        assert_eq!(Role::for_user("owner@shop.example", "owner@shop.example", false), Role::Moderator);
        assert_eq!(Role::for_user("clerk@shop.example", "owner@shop.example", true), Role::Moderator);
    }
}
