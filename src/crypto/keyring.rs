//! Master keys that seal partner secrets at rest.
//!
//! The current key seals; every key in the ring can open what it sealed, so the master
//! key can be rotated (`causeway rotate-master-key`) without a flag day. Keys come from
//! `CAUSEWAY_MASTER_KEY` (+ `CAUSEWAY_MASTER_KEY_PREVIOUS` while rotating), or — for the
//! embedded SQLite default only — from a 0600 key file generated beside the database.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use super::digest::sha256_hex;

pub const KEY_BYTES: usize = 32;

/// One 256-bit key and the short id stored beside everything it sealed.
pub struct MasterKey {
    pub id: String,
    pub material: SecretSlice<u8>,
}

impl MasterKey {
    pub fn from_base64(text: &str) -> Result<Self, KeyringError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| KeyringError::Malformed)?;
        if bytes.len() != KEY_BYTES {
            return Err(KeyringError::Malformed);
        }
        // The id is derived from the key, so it needs no storage of its own and cannot
        // drift from the material it names.
        let id = sha256_hex(&[b"causeway-master-key-id:".as_slice(), &bytes].concat())[..16].to_owned();
        Ok(Self { id, material: SecretSlice::from(bytes) })
    }

    pub fn generate() -> (Self, SecretString) {
        let mut bytes = vec![0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let text = STANDARD.encode(&bytes);
        let key = Self::from_base64(&text).unwrap_or_else(|_| unreachable!("32 fresh bytes always decode"));
        (key, SecretString::from(text))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("a master key must be 32 bytes, base64-encoded")]
    Malformed,
    #[error("CAUSEWAY_MASTER_KEY is required with PostgreSQL (several replicas must share one key)")]
    Required,
    #[error("master key file {path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
}

/// Where the ring's keys came from, which decides how rotation stores the new key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
}

pub struct Keyring {
    /// Non-empty; the first key is the current one.
    keys: Vec<MasterKey>,
    pub source: KeySource,
}

impl Keyring {
    pub fn new(current: MasterKey, previous: Vec<MasterKey>, source: KeySource) -> Self {
        let mut keys = vec![current];
        keys.extend(previous);
        Self { keys, source }
    }

    pub fn current(&self) -> &MasterKey {
        &self.keys[0]
    }

    pub fn find(&self, id: &str) -> Option<&MasterKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// Loads the ring from the environment values, or from (creating it if needed) the
    /// key file when `key_file` is given and no key is set. Returns whether a key file
    /// was created, so the caller can say so in the log.
    pub fn load(
        env_current: Option<&SecretString>,
        env_previous: Option<&SecretString>,
        key_file: Option<&Path>,
    ) -> Result<(Self, bool), KeyringError> {
        let previous = env_previous
            .map(|list| list.expose_secret().split(',').filter(|k| !k.trim().is_empty()).map(MasterKey::from_base64).collect())
            .transpose()?
            .unwrap_or_default();
        if let Some(current) = env_current {
            return Ok((Self::new(MasterKey::from_base64(current.expose_secret())?, previous, KeySource::Environment), false));
        }
        let Some(path) = key_file else { return Err(KeyringError::Required) };
        let file_err = |source| KeyringError::File { path: path.to_owned(), source };
        let created = if path.exists() {
            false
        } else {
            let (_, text) = MasterKey::generate();
            write_key_file(path, &[text])?;
            true
        };
        let text = std::fs::read_to_string(path).map_err(file_err)?;
        let mut keys = text.lines().filter(|l| !l.trim().is_empty()).map(MasterKey::from_base64);
        let current = keys.next().ok_or(KeyringError::Malformed)??;
        let mut older: Vec<MasterKey> = keys.collect::<Result<_, _>>()?;
        older.extend(previous);
        Ok((Self::new(current, older, KeySource::File(path.to_owned())), created))
    }
}

/// Writes keys (current first) to `path` with mode 0600, replacing it atomically.
pub fn write_key_file(path: &Path, keys: &[SecretString]) -> Result<(), KeyringError> {
    let file_err = |source| KeyringError::File { path: path.to_owned(), source };
    let tmp = path.with_extension("key.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(file_err)?;
    for key in keys {
        writeln!(file, "{}", key.expose_secret()).map_err(file_err)?;
    }
    file.sync_all().map_err(file_err)?;
    std::fs::rename(&tmp, path).map_err(file_err)
}

/// The key file beside a SQLite database file (`causeway.db` → `causeway.db.master-key`).
pub fn key_file_for_sqlite_url(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(PathBuf::from(format!("{path}.master-key")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_stable_and_distinct() {
        let (a, text) = MasterKey::generate();
        let again = MasterKey::from_base64(text.expose_secret()).unwrap();
        assert_eq!(a.id, again.id);
        let (b, _) = MasterKey::generate();
        assert_ne!(a.id, b.id);
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn a_key_file_is_created_once_with_owner_only_access() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.master-key");
        let (first, created) = Keyring::load(None, None, Some(&path)).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (second, created) = Keyring::load(None, None, Some(&path)).unwrap();
        assert!(!created);
        assert_eq!(first.current().id, second.current().id);
    }

    #[test]
    fn without_a_key_file_a_key_is_required() {
        assert!(matches!(Keyring::load(None, None, None), Err(KeyringError::Required)));
    }

    #[test]
    fn key_file_paths() {
        assert_eq!(key_file_for_sqlite_url("sqlite://causeway.db?mode=rwc"), Some(PathBuf::from("causeway.db.master-key")));
        assert_eq!(key_file_for_sqlite_url("sqlite:///var/lib/c.db"), Some(PathBuf::from("/var/lib/c.db.master-key")));
        assert_eq!(key_file_for_sqlite_url("sqlite::memory:"), None);
        assert_eq!(key_file_for_sqlite_url("postgres://x/y"), None);
    }
}
