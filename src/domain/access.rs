//! Which accounts a person reaches and with which role (contract, "Which account, which
//! role"): the account claim first; otherwise the partner's grants and the controller rule.

use super::ids::AccountId;
use super::role::Role;

/// Where a person's access to an account comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Claim,
    Grant,
    Controller,
}

impl Source {
    pub const ALL: [Self; 3] = [Self::Claim, Self::Grant, Self::Controller];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claim => "claim",
            Self::Grant => "grant",
            Self::Controller => "controller",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// One reason a person may reach an account, as the store found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub account: AccountId,
    pub account_name: String,
    /// The person's verified e-mail is the legal entity's (verified) controller's.
    pub controller: bool,
    /// The role of a grant naming the person on this account, if one does.
    pub grant: Option<Role>,
}

/// An account the person reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    pub account: AccountId,
    pub account_name: String,
    pub role: Role,
    pub source: Source,
}

/// The financial admin is the controller, or whoever the financial-admin grant names;
/// everyone else is a moderator.
pub fn role(controller: bool, grant: Option<Role>) -> Role {
    if controller || grant == Some(Role::FinancialAdmin) { Role::FinancialAdmin } else { Role::Moderator }
}

/// The account named by the IdM's account claim, reached with the role the controller rule
/// and the account's grants give.
pub fn by_claim(candidate: &[Candidate]) -> Option<Reach> {
    let first = candidate.first()?;
    let controller = candidate.iter().any(|c| c.controller);
    let grant = strongest(candidate.iter().filter_map(|c| c.grant));
    Some(Reach { account: first.account, account_name: first.account_name.clone(), role: role(controller, grant), source: Source::Claim })
}

fn strongest(roles: impl Iterator<Item = Role>) -> Option<Role> {
    roles.fold(None, |best, r| match (best, r) {
        (Some(Role::FinancialAdmin), _) | (_, Role::FinancialAdmin) => Some(Role::FinancialAdmin),
        _ => Some(Role::Moderator),
    })
}

/// Every account the candidates reach, one entry each (several grants, or a grant and
/// the controller rule, may name the same account), ordered by account name.
pub fn by_grants(candidates: Vec<Candidate>) -> Vec<Reach> {
    let mut reached: Vec<Reach> = Vec::new();
    let mut sorted = candidates;
    sorted.sort_by(|a, b| (a.account_name.as_str(), a.account).cmp(&(b.account_name.as_str(), b.account)));
    for group in sorted.chunk_by(|a, b| a.account == b.account) {
        let controller = group.iter().any(|c| c.controller);
        let grant = strongest(group.iter().filter_map(|c| c.grant));
        let source = if grant.is_some() { Source::Grant } else { Source::Controller };
        reached.push(Reach { account: group[0].account, account_name: group[0].account_name.clone(), role: role(controller, grant), source });
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(account: AccountId, name: &str, controller: bool, grant: Option<Role>) -> Candidate {
        Candidate { account, account_name: name.into(), controller, grant }
    }

    #[test]
    fn the_controller_or_the_admin_grant_is_the_financial_admin() {
        assert_eq!(role(true, None), Role::FinancialAdmin);
        assert_eq!(role(false, Some(Role::FinancialAdmin)), Role::FinancialAdmin);
        assert_eq!(role(false, Some(Role::Moderator)), Role::Moderator);
        assert_eq!(role(false, None), Role::Moderator);
    }

    #[test]
    fn grants_merge_per_account() {
        let (a, b) = (AccountId::new(), AccountId::new());
        let reached = by_grants(vec![
            candidate(b, "Bakery", false, Some(Role::Moderator)),
            candidate(a, "Atelier", true, None),
            candidate(b, "Bakery", false, Some(Role::FinancialAdmin)),
        ]);
        assert_eq!(reached.len(), 2);
        assert_eq!((reached[0].account, reached[0].role, reached[0].source), (a, Role::FinancialAdmin, Source::Controller));
        assert_eq!((reached[1].account, reached[1].role, reached[1].source), (b, Role::FinancialAdmin, Source::Grant));
        assert!(by_grants(vec![]).is_empty());
        let claimed = by_claim(&[candidate(a, "Atelier", false, None)]).unwrap();
        assert_eq!((claimed.role, claimed.source), (Role::Moderator, Source::Claim));
    }
}
