//! Client secrets are sealed with the master key: never in the database in clear,
//! still usable after the master key is rotated.

use causeway::crypto::keyring::Keyring;
use causeway::crypto::sealed;
use causeway::services::idm::secret_context;
use reqwest::StatusCode;
use secrecy::ExposeSecret;

use crate::helpers::*;
use crate::partner_idm::{idm_body, put_idm};

async fn stored_secret(app: &TestApp, keyring: &Keyring) -> String {
    let app_id = app.partner.app_id.parse().unwrap();
    let row = app.store.current_idm_version(app_id).await.unwrap().unwrap();
    let sealed_value = row.client_secret_sealed.unwrap();
    sealed::open(keyring, &secret_context(app_id, causeway::domain::idm_config::Kind::Oidc), &sealed_value).unwrap().expose_secret().to_owned()
}

#[tokio::test]
async fn the_client_secret_is_sealed_in_the_database() {
    let app = spawn_app().await;
    let secret = format!("plain-{}", uuid::Uuid::new_v4().simple());
    assert_eq!(put_idm(&app, &app.partner, &idm_body(Some(&secret))).await.status(), StatusCode::OK);
    let text = app.database_text(&["idm_config_versions"]).await;
    assert!(text.contains("idm.partner.example"), "the search does see stored data");
    assert!(!text.contains(&secret), "the secret is in the database in clear");
    assert_eq!(stored_secret(&app, &app.state.keyring).await, secret);
}

#[tokio::test]
async fn rotating_the_master_key_reseals_every_secret() {
    let app = spawn_app().await;
    let secret = "rotate-me-please";
    put_idm(&app, &app.partner, &idm_body(Some(secret))).await;
    let old_id = app.state.keyring.current().id.clone();

    let Rotated { report, keyring, env } = rotate_master_key(&app);
    assert_eq!(report["resealed"], 1);
    assert_ne!(report["key_id"].as_str().unwrap(), old_id);

    // Only the new key is needed from now on.
    assert_eq!(keyring.ids(), vec![report["key_id"].as_str().unwrap()]);
    assert_eq!(stored_secret(&app, &keyring).await, secret);
    // A second rotation of the environment setup has nothing left to do.
    if !app.db.is_sqlite() {
        let again = causeway_json_env(&app.db.url, &env, &["rotate-master-key", "--json"]);
        assert_eq!(again["resealed"], 0);
    }
}

pub struct Rotated {
    pub report: serde_json::Value,
    /// Holds only the new key.
    pub keyring: Keyring,
    /// The environment the rotation ran with.
    pub env: Vec<(String, String)>,
}

/// `causeway rotate-master-key --json` as an operator runs it on this backend: a key
/// file is rotated in place; with keys from the environment the new key goes in
/// CAUSEWAY_MASTER_KEY and the old one in CAUSEWAY_MASTER_KEY_PREVIOUS.
pub fn rotate_master_key(app: &TestApp) -> Rotated {
    let (env, new_key) = if app.db.is_sqlite() {
        (app.db.env.clone(), None)
    } else {
        let (_, new_key) = causeway::crypto::keyring::MasterKey::generate();
        let old = app.db.env.iter().find(|(k, _)| k == "CAUSEWAY_MASTER_KEY").unwrap().1.clone();
        let env = vec![("CAUSEWAY_MASTER_KEY".into(), new_key.expose_secret().to_owned()), ("CAUSEWAY_MASTER_KEY_PREVIOUS".into(), old)];
        (env, Some(new_key))
    };
    let report = causeway_json_env(&app.db.url, &env, &["rotate-master-key", "--json"]);
    let keyring = match new_key {
        None => Keyring::load(None, None, Some(&std::path::PathBuf::from(format!("{}.master-key", app.db.sqlite_path().unwrap().display())))).unwrap().0,
        Some(key) => Keyring::load(Some(&key), None, None).unwrap().0,
    };
    Rotated { report, keyring, env }
}

fn causeway_json_env(db_url: &str, env: &[(String, String)], args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args(args)
        .env("CAUSEWAY_DATABASE_URL", db_url)
        .env("CAUSEWAY_LOG", "warn")
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_master_key_comes_from_a_private_key_file_or_must_be_given() {
    let db = TestDatabase::new().await;
    if let Some(path) = db.sqlite_path() {
        let _app = spawn_app_on(db, &[]).await;
        let key_file = std::path::PathBuf::from(format!("{}.master-key", path.display()));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_causeway"))
        .arg("serve")
        .env("CAUSEWAY_DATABASE_URL", &db.url)
        .env("CAUSEWAY_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CAUSEWAY_MASTER_KEY is required"));
}
