//! The demo merchant's two people: the controller of its legal entity, who becomes the
//! financial admin, and a colleague, who becomes a moderator.

use crate::domain::role::Role;

pub struct Person {
    /// What the demo IdM's sign-in buttons submit.
    pub login: &'static str,
    /// Stable across runs, so the same person is the same local user at every sign-in.
    pub subject: &'static str,
    /// Their id in the demo's hosted-login directory (a number, as WESB ID's are).
    pub directory_id: u64,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub email: &'static str,
    /// The role Causeway will give them; `seed` makes the controller's e-mail the legal
    /// entity's controller e-mail, which is what decides it.
    pub role: Role,
}

impl Person {
    pub fn name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    pub fn initials(&self) -> String {
        self.given_name
            .chars()
            .take(1)
            .chain(self.family_name.chars().take(1))
            .collect()
    }
}

pub const CONTROLLER: Person = Person {
    login: "controller",
    subject: "demo-person-casey",
    directory_id: 1001,
    given_name: "Casey",
    family_name: "Controller",
    email: "casey@demo-coffee.example",
    role: Role::FinancialAdmin,
};

pub const MODERATOR: Person = Person {
    login: "moderator",
    subject: "demo-person-morgan",
    directory_id: 1002,
    given_name: "Morgan",
    family_name: "Moderator",
    email: "morgan@demo-coffee.example",
    role: Role::Moderator,
};

pub const PEOPLE: [&Person; 2] = [&CONTROLLER, &MODERATOR];

pub fn find(login: &str) -> Option<&'static Person> {
    PEOPLE.into_iter().find(|p| p.login == login)
}
