//! Settings from the environment (`CAUSEWAY_*`), as the contract lists them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;

use secrecy::SecretString;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://causeway.db?mode=rwc";

#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: SecretString,
    pub listen: SocketAddr,
    pub public_url: String,
    pub master_key: Option<SecretString>,
    /// Old master keys (comma-separated), still accepted for opening while rotating.
    pub master_key_previous: Option<SecretString>,
    pub allow_insecure_idm: bool,
    pub log_format: LogFormat,
    /// Onboarding/Partner API calls a partner app may make per second, sustained.
    pub api_rate_per_second: NonZeroU32,
    /// How many calls above the sustained rate a partner may burst.
    pub api_rate_burst: NonZeroU32,
    /// Largest request body the API reads (the contract says 1 MiB).
    pub max_body_bytes: usize,
    /// How long a `Unique-Key` keeps replaying its first response.
    pub idempotency_ttl_seconds: i64,
    /// Connections in the database pool (readers, for SQLite).
    pub db_pool_size: u32,
    /// Connect and total timeout of every call to a partner IdM.
    pub idm_timeout: std::time::Duration,
    /// SSO events kept per app; older ones are pruned.
    pub sso_events_kept: i64,
    /// Partner Center and Merchant Center sessions end after this long without a request…
    pub session_idle_seconds: i64,
    /// …and after this long in any case.
    pub session_absolute_seconds: i64,
    /// Where `causeway demo` runs its built-in IdM (any free loopback port by default).
    pub demo_idm_listen: SocketAddr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

const KNOWN: &[&str] = &[
    "CAUSEWAY_DATABASE_URL",
    "CAUSEWAY_LISTEN",
    "CAUSEWAY_PUBLIC_URL",
    "CAUSEWAY_MASTER_KEY",
    "CAUSEWAY_MASTER_KEY_PREVIOUS",
    "CAUSEWAY_IDM_TIMEOUT_MS",
    "CAUSEWAY_SSO_EVENTS_KEPT",
    "CAUSEWAY_SESSION_IDLE_SECONDS",
    "CAUSEWAY_SESSION_ABSOLUTE_SECONDS",
    "CAUSEWAY_ALLOW_INSECURE_IDM",
    "CAUSEWAY_LOG_FORMAT",
    "CAUSEWAY_LOG",
    "CAUSEWAY_API_RATE_PER_SECOND",
    "CAUSEWAY_API_RATE_BURST",
    "CAUSEWAY_MAX_BODY_BYTES",
    "CAUSEWAY_IDEMPOTENCY_TTL_SECONDS",
    "CAUSEWAY_DB_POOL_SIZE",
    "CAUSEWAY_DEMO_IDM_LISTEN",
];

impl Settings {
    pub fn url_policy(&self) -> crate::domain::urls::UrlPolicy {
        if self.allow_insecure_idm {
            crate::domain::urls::UrlPolicy::AllowInsecure
        } else {
            crate::domain::urls::UrlPolicy::Strict
        }
    }

    /// Idle and absolute lifetimes of browser sessions.
    pub fn session_lifetimes(&self) -> crate::domain::session::Lifetimes {
        crate::domain::session::Lifetimes { idle: self.session_idle_seconds, absolute: self.session_absolute_seconds, touch_after: 60 }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_map(&std::env::vars().collect())
    }

    /// Builds settings from a variable map, so tests need not touch the process environment.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let listen = parse(get("CAUSEWAY_LISTEN"), "CAUSEWAY_LISTEN", "127.0.0.1:8080".parse().ok())?;
        let public_url = get("CAUSEWAY_PUBLIC_URL")
            .unwrap_or("http://127.0.0.1:8080")
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            database_url: SecretString::from(get("CAUSEWAY_DATABASE_URL").unwrap_or(DEFAULT_DATABASE_URL)),
            listen,
            public_url,
            master_key: get("CAUSEWAY_MASTER_KEY").map(SecretString::from),
            master_key_previous: get("CAUSEWAY_MASTER_KEY_PREVIOUS").map(SecretString::from),
            allow_insecure_idm: parse_bool(get("CAUSEWAY_ALLOW_INSECURE_IDM"), "CAUSEWAY_ALLOW_INSECURE_IDM")?,
            log_format: match get("CAUSEWAY_LOG_FORMAT") {
                None | Some("json") => LogFormat::Json,
                Some("pretty") => LogFormat::Pretty,
                Some(other) => {
                    return Err(ConfigError {
                        variable: "CAUSEWAY_LOG_FORMAT",
                        problem: format!("expected json or pretty, got {other:?}"),
                    });
                }
            },
            api_rate_per_second: parse(get("CAUSEWAY_API_RATE_PER_SECOND"), "CAUSEWAY_API_RATE_PER_SECOND", NonZeroU32::new(100))?,
            api_rate_burst: parse(get("CAUSEWAY_API_RATE_BURST"), "CAUSEWAY_API_RATE_BURST", NonZeroU32::new(200))?,
            max_body_bytes: parse(get("CAUSEWAY_MAX_BODY_BYTES"), "CAUSEWAY_MAX_BODY_BYTES", Some(1024 * 1024))?,
            idempotency_ttl_seconds: parse(get("CAUSEWAY_IDEMPOTENCY_TTL_SECONDS"), "CAUSEWAY_IDEMPOTENCY_TTL_SECONDS", Some(24 * 3600))?,
            db_pool_size: parse(get("CAUSEWAY_DB_POOL_SIZE"), "CAUSEWAY_DB_POOL_SIZE", Some(8))?,
            idm_timeout: std::time::Duration::from_millis(parse(get("CAUSEWAY_IDM_TIMEOUT_MS"), "CAUSEWAY_IDM_TIMEOUT_MS", Some(5000))?),
            sso_events_kept: parse(get("CAUSEWAY_SSO_EVENTS_KEPT"), "CAUSEWAY_SSO_EVENTS_KEPT", Some(1000))?,
            session_idle_seconds: parse(get("CAUSEWAY_SESSION_IDLE_SECONDS"), "CAUSEWAY_SESSION_IDLE_SECONDS", Some(30 * 60))?,
            session_absolute_seconds: parse(get("CAUSEWAY_SESSION_ABSOLUTE_SECONDS"), "CAUSEWAY_SESSION_ABSOLUTE_SECONDS", Some(12 * 3600))?,
            demo_idm_listen: parse(get("CAUSEWAY_DEMO_IDM_LISTEN"), "CAUSEWAY_DEMO_IDM_LISTEN", "127.0.0.1:0".parse().ok())?,
        })
    }

    /// `CAUSEWAY_*` variables this build does not know: most likely typos worth a warning.
    pub fn unknown_variables(vars: impl IntoIterator<Item = String>) -> Vec<String> {
        vars.into_iter()
            .filter(|name| name.starts_with("CAUSEWAY_") && !KNOWN.contains(&name.as_str()))
            .collect()
    }
}

fn parse<T: std::str::FromStr>(raw: Option<&str>, variable: &'static str, default: Option<T>) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match raw {
        Some(raw) => raw.parse().map_err(|err: T::Err| ConfigError { variable, problem: err.to_string() }),
        None => default.ok_or_else(|| ConfigError { variable, problem: "is required".into() }),
    }
}

fn parse_bool(raw: Option<&str>, variable: &'static str) -> Result<bool, ConfigError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError { variable, problem: format!("expected true or false, got {other:?}") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = Settings::from_map(&vars(&[])).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert!(!s.allow_insecure_idm);
        assert_eq!(s.max_body_bytes, 1024 * 1024);
        assert_eq!((s.session_lifetimes().idle, s.session_lifetimes().absolute), (1800, 43200));
        let short = Settings::from_map(&vars(&[("CAUSEWAY_SESSION_IDLE_SECONDS", "60")])).unwrap();
        assert_eq!(short.session_lifetimes().idle, 60);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = Settings::from_map(&vars(&[("CAUSEWAY_LISTEN", "nowhere")])).unwrap_err();
        assert_eq!(err.variable, "CAUSEWAY_LISTEN");
        let err = Settings::from_map(&vars(&[("CAUSEWAY_ALLOW_INSECURE_IDM", "maybe")])).unwrap_err();
        assert_eq!(err.variable, "CAUSEWAY_ALLOW_INSECURE_IDM");
    }

    #[test]
    fn unknown_variables_are_reported() {
        let unknown = Settings::unknown_variables(["CAUSEWAY_LISTN".to_string(), "CAUSEWAY_LISTEN".to_string(), "HOME".to_string()]);
        assert_eq!(unknown, vec!["CAUSEWAY_LISTN".to_string()]);
    }
}
