use std::fmt;
use std::str::FromStr;

/// Whether a partner app may call the APIs and start SSO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppStatus {
    Active,
    Suspended,
}

impl AppStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

impl fmt::Display for AppStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AppStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            other => Err(format!("unknown app status {other:?}")),
        }
    }
}

/// An app's name as the operator typed it: 1–255 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        match name.chars().count() {
            1..=255 => Ok(Self(name.to_owned())),
            _ => Err("an app name has 1 to 255 characters".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
