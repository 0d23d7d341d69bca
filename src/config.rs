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
    /// How often the IdM monitor looks at each IdM again (0: never).
    pub idm_monitor_seconds: u64,
    /// How recent a sign-in must be to save KYC or payout details (contract: step-up).
    pub step_up_seconds: i64,
    /// API calls with wrong credentials one client address may make per minute.
    pub api_failed_auth_per_minute: NonZeroU32,
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
    /// A request head must arrive within this (also the keep-alive idle limit).
    pub header_read_timeout_seconds: u64,
    /// A connection with nothing read or written for this long is closed.
    pub idle_timeout_seconds: u64,
    /// A request body must arrive within this.
    pub body_read_timeout_seconds: u64,
    /// Connections one peer address may hold (0: no cap).
    pub max_connections_per_peer: usize,
    /// How long a shutdown waits for requests already accepted.
    pub drain_seconds: u64,
    /// Proxies whose `X-Forwarded-For` names the client (addresses or CIDR blocks).
    pub trusted_proxies: Vec<crate::web::client_ip::IpBlock>,
    /// Sign-ins one client address, or one browser, may start per minute.
    pub cta_rate_per_minute: NonZeroU32,
    /// Sign-ins one partner app's merchants may start per second (twice that at once).
    pub cta_rate_per_app_per_second: NonZeroU32,
    /// How often a replica on PostgreSQL says it is alive (quota shares follow).
    pub replica_heartbeat_seconds: u64,
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

/// The variables holding secrets, each also readable from a file named by its `_FILE`
/// twin (`CAUSEWAY_MASTER_KEY_FILE=/run/secrets/master-key`), as container platforms
/// mount secrets.
const SECRET_FILES: [(&str, &str); 3] = [
    ("CAUSEWAY_DATABASE_URL", "CAUSEWAY_DATABASE_URL_FILE"),
    ("CAUSEWAY_MASTER_KEY", "CAUSEWAY_MASTER_KEY_FILE"),
    ("CAUSEWAY_MASTER_KEY_PREVIOUS", "CAUSEWAY_MASTER_KEY_PREVIOUS_FILE"),
];

const KNOWN: &[&str] = &[
    "CAUSEWAY_DATABASE_URL_FILE",
    "CAUSEWAY_MASTER_KEY_FILE",
    "CAUSEWAY_MASTER_KEY_PREVIOUS_FILE",
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
    "CAUSEWAY_API_FAILED_AUTH_PER_MINUTE",
    "CAUSEWAY_IDM_MONITOR_SECONDS",
    "CAUSEWAY_STEP_UP_SECONDS",
    "CAUSEWAY_MAX_BODY_BYTES",
    "CAUSEWAY_IDEMPOTENCY_TTL_SECONDS",
    "CAUSEWAY_DB_POOL_SIZE",
    "CAUSEWAY_DEMO_IDM_LISTEN",
    "CAUSEWAY_HEADER_READ_TIMEOUT_SECONDS",
    "CAUSEWAY_IDLE_TIMEOUT_SECONDS",
    "CAUSEWAY_BODY_READ_TIMEOUT_SECONDS",
    "CAUSEWAY_MAX_CONNECTIONS_PER_PEER",
    "CAUSEWAY_DRAIN_SECONDS",
    "CAUSEWAY_TRUSTED_PROXIES",
    "CAUSEWAY_CTA_RATE_PER_MINUTE",
    "CAUSEWAY_CTA_RATE_PER_APP_PER_SECOND",
    "CAUSEWAY_REPLICA_HEARTBEAT_SECONDS",
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

    pub fn server_limits(&self) -> crate::web::server::ServerLimits {
        use std::time::Duration;
        crate::web::server::ServerLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_seconds),
            idle_timeout: Duration::from_secs(self.idle_timeout_seconds),
            max_connections_per_peer: self.max_connections_per_peer,
            drain: Duration::from_secs(self.drain_seconds),
        }
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
        let [database_url, master_key, master_key_previous] = SECRET_FILES.map(|(name, file)| secret(vars, name, file));
        Ok(Self {
            database_url: database_url?.unwrap_or_else(|| SecretString::from(DEFAULT_DATABASE_URL)),
            listen,
            public_url,
            master_key: master_key?,
            master_key_previous: master_key_previous?,
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
            idm_monitor_seconds: parse(get("CAUSEWAY_IDM_MONITOR_SECONDS"), "CAUSEWAY_IDM_MONITOR_SECONDS", Some(300))?,
            step_up_seconds: positive(get("CAUSEWAY_STEP_UP_SECONDS"), "CAUSEWAY_STEP_UP_SECONDS", 600)? as i64,
            api_failed_auth_per_minute: parse(get("CAUSEWAY_API_FAILED_AUTH_PER_MINUTE"), "CAUSEWAY_API_FAILED_AUTH_PER_MINUTE", NonZeroU32::new(30))?,
            max_body_bytes: parse(get("CAUSEWAY_MAX_BODY_BYTES"), "CAUSEWAY_MAX_BODY_BYTES", Some(1024 * 1024))?,
            idempotency_ttl_seconds: parse(get("CAUSEWAY_IDEMPOTENCY_TTL_SECONDS"), "CAUSEWAY_IDEMPOTENCY_TTL_SECONDS", Some(24 * 3600))?,
            db_pool_size: parse(get("CAUSEWAY_DB_POOL_SIZE"), "CAUSEWAY_DB_POOL_SIZE", Some(8))?,
            idm_timeout: std::time::Duration::from_millis(parse(get("CAUSEWAY_IDM_TIMEOUT_MS"), "CAUSEWAY_IDM_TIMEOUT_MS", Some(5000))?),
            sso_events_kept: parse(get("CAUSEWAY_SSO_EVENTS_KEPT"), "CAUSEWAY_SSO_EVENTS_KEPT", Some(1000))?,
            session_idle_seconds: parse(get("CAUSEWAY_SESSION_IDLE_SECONDS"), "CAUSEWAY_SESSION_IDLE_SECONDS", Some(30 * 60))?,
            session_absolute_seconds: parse(get("CAUSEWAY_SESSION_ABSOLUTE_SECONDS"), "CAUSEWAY_SESSION_ABSOLUTE_SECONDS", Some(12 * 3600))?,
            demo_idm_listen: parse(get("CAUSEWAY_DEMO_IDM_LISTEN"), "CAUSEWAY_DEMO_IDM_LISTEN", "127.0.0.1:0".parse().ok())?,
            header_read_timeout_seconds: positive(get("CAUSEWAY_HEADER_READ_TIMEOUT_SECONDS"), "CAUSEWAY_HEADER_READ_TIMEOUT_SECONDS", 10)?,
            idle_timeout_seconds: positive(get("CAUSEWAY_IDLE_TIMEOUT_SECONDS"), "CAUSEWAY_IDLE_TIMEOUT_SECONDS", 60)?,
            body_read_timeout_seconds: positive(get("CAUSEWAY_BODY_READ_TIMEOUT_SECONDS"), "CAUSEWAY_BODY_READ_TIMEOUT_SECONDS", 30)?,
            max_connections_per_peer: parse(get("CAUSEWAY_MAX_CONNECTIONS_PER_PEER"), "CAUSEWAY_MAX_CONNECTIONS_PER_PEER", Some(256))?,
            drain_seconds: parse(get("CAUSEWAY_DRAIN_SECONDS"), "CAUSEWAY_DRAIN_SECONDS", Some(25))?,
            trusted_proxies: match get("CAUSEWAY_TRUSTED_PROXIES") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(|item| {
                        crate::web::client_ip::IpBlock::parse(item).ok_or_else(|| ConfigError {
                            variable: "CAUSEWAY_TRUSTED_PROXIES",
                            problem: format!("{item:?} is not an address or CIDR block"),
                        })
                    })
                    .collect::<Result<_, _>>()?,
            },
            cta_rate_per_minute: parse(get("CAUSEWAY_CTA_RATE_PER_MINUTE"), "CAUSEWAY_CTA_RATE_PER_MINUTE", NonZeroU32::new(30))?,
            cta_rate_per_app_per_second: parse(get("CAUSEWAY_CTA_RATE_PER_APP_PER_SECOND"), "CAUSEWAY_CTA_RATE_PER_APP_PER_SECOND", NonZeroU32::new(100))?,
            replica_heartbeat_seconds: positive(get("CAUSEWAY_REPLICA_HEARTBEAT_SECONDS"), "CAUSEWAY_REPLICA_HEARTBEAT_SECONDS", 5)?,
        })
    }

    /// `CAUSEWAY_*` variables this build does not know: most likely typos worth a warning.
    pub fn unknown_variables(vars: impl IntoIterator<Item = String>) -> Vec<String> {
        vars.into_iter()
            .filter(|name| name.starts_with("CAUSEWAY_") && !KNOWN.contains(&name.as_str()))
            .collect()
    }
}

/// A secret from its variable or from the file its `_FILE` twin names (never both: which
/// one wins would be a guess). The file's content is trimmed: files usually end in a newline.
fn secret(vars: &HashMap<String, String>, name: &'static str, file_var: &'static str) -> Result<Option<SecretString>, ConfigError> {
    let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    match (get(name), get(file_var)) {
        (Some(_), Some(_)) => Err(ConfigError { variable: file_var, problem: format!("set {name} or {file_var}, not both") }),
        (Some(value), None) => Ok(Some(SecretString::from(value))),
        (None, None) => Ok(None),
        (None, Some(path)) => {
            // The error names the path, never the content.
            let text = std::fs::read_to_string(path).map_err(|err| ConfigError { variable: file_var, problem: format!("cannot read {path}: {err}") })?;
            match text.trim() {
                "" => Err(ConfigError { variable: file_var, problem: format!("{path} is empty") }),
                value => Ok(Some(SecretString::from(value))),
            }
        }
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

/// A number of seconds that must be at least 1: a zero timeout would refuse everything.
fn positive(raw: Option<&str>, variable: &'static str, default: u64) -> Result<u64, ConfigError> {
    match parse(raw, variable, Some(default))? {
        0 => Err(ConfigError { variable, problem: "must be at least 1".into() }),
        n => Ok(n),
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
    fn secrets_may_come_from_files() {
        use secrecy::ExposeSecret;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("master-key");
        std::fs::write(&key, "a-key-from-a-file\n").unwrap();
        let path = key.to_str().unwrap();
        let s = Settings::from_map(&vars(&[("CAUSEWAY_MASTER_KEY_FILE", path)])).unwrap();
        assert_eq!(s.master_key.as_ref().map(|k| k.expose_secret().to_owned()).as_deref(), Some("a-key-from-a-file"));
        let err = Settings::from_map(&vars(&[("CAUSEWAY_MASTER_KEY_FILE", path), ("CAUSEWAY_MASTER_KEY", "x")])).unwrap_err();
        assert_eq!(err.variable, "CAUSEWAY_MASTER_KEY_FILE");
        let missing = dir.path().join("absent");
        let err = Settings::from_map(&vars(&[("CAUSEWAY_DATABASE_URL_FILE", missing.to_str().unwrap())])).unwrap_err();
        assert!(err.problem.contains("cannot read"), "{}", err.problem);
        std::fs::write(&key, "\n").unwrap();
        assert!(Settings::from_map(&vars(&[("CAUSEWAY_MASTER_KEY_PREVIOUS_FILE", path)])).unwrap_err().problem.contains("empty"));
    }

    #[test]
    fn unknown_variables_are_reported() {
        let unknown = Settings::unknown_variables(["CAUSEWAY_LISTN".to_string(), "CAUSEWAY_LISTEN".to_string(), "HOME".to_string()]);
        assert_eq!(unknown, vec!["CAUSEWAY_LISTN".to_string()]);
    }
}
