//! Migrations embedded in the binary, from one folder: `NNNN_name.sql` for both backends,
//! or `NNNN_name.sqlite.sql` and `NNNN_name.postgres.sql` where their SQL differs.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Backend;

struct Embedded {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! embedded {
    // One file for both backends.
    ($version:expr, $description:expr, $stem:literal) => {{
        const SQL: &str = include_str!(concat!("../../migrations/", $stem, ".sql"));
        Embedded { version: $version, description: $description, sqlite: SQL, postgres: SQL }
    }};
    // A file per backend.
    ($version:expr, $description:expr, $stem:literal, per_backend) => {
        Embedded {
            version: $version,
            description: $description,
            sqlite: include_str!(concat!("../../migrations/", $stem, ".sqlite.sql")),
            postgres: include_str!(concat!("../../migrations/", $stem, ".postgres.sql")),
        }
    };
}

const MIGRATIONS: &[Embedded] = &[
    embedded!(1, "foundation", "0001_foundation"),
    embedded!(2, "partner center", "0002_partner_center"),
    embedded!(3, "partner sessions", "0003_partner_sessions"),
    embedded!(4, "sso flows", "0004_sso_flows"),
    embedded!(5, "merchant users", "0005_merchant_users"),
    embedded!(6, "merchant center", "0006_merchant_center"),
    // SQLite cannot drop NOT NULL or rename a column in place: it rebuilds the table.
    embedded!(7, "identity breadth", "0007_identity_breadth", per_backend),
    embedded!(8, "shared limits", "0008_shared_limits"),
    embedded!(9, "sliding throttles", "0009_sliding_throttles"),
    // One statement for a sign-in's writes: an SQL trigger on SQLite, PL/pgSQL on PostgreSQL.
    embedded!(10, "one write sign-in", "0010_one_write_sign_in", per_backend),
    embedded!(11, "audit trail", "0011_audit_trail"),
    embedded!(12, "test sign-ins", "0012_test_sign_ins"),
    embedded!(13, "health counts", "0013_health_counts"),
    embedded!(14, "idm monitor", "0014_idm_monitor"),
    embedded!(15, "session lifecycle", "0015_session_lifecycle", per_backend),
    embedded!(16, "sid index partial", "0016_sid_index_partial"),
    // Apps are never deleted; on PostgreSQL onboarding rows name their app without a row lock.
    embedded!(17, "apps never deleted", "0017_apps_never_deleted", per_backend),
    // A login's flow travels sealed in its state; the sign-in records the state used.
    embedded!(18, "flow in state", "0018_flow_in_state", per_backend),
    // A sign-in writes fewer B-trees: the event log keyed by app and time, one session index.
    embedded!(19, "sign-in pages", "0019_sign_in_pages", per_backend),
];

pub fn for_backend(backend: Backend) -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|m| {
                let sql = match backend {
                    Backend::Sqlite => m.sqlite,
                    Backend::Postgres => m.postgres,
                };
                Migration::new(m.version, Cow::Borrowed(m.description), MigrationType::Simple, sqlx::SqlStr::from_static(sql), false)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sso_events::PruneScope;
    use crate::store::{scratch_app, scratch_store};

    /// 0019 rebuilds SQLite's event log in its new key order: an upgrade keeps every event,
    /// value for value, the list reads them newest first as before (ties within a second
    /// by id), the retention sweep finds them by the new key, and the sign-in trigger,
    /// left as it was, writes into the new table.
    #[tokio::test]
    async fn an_upgrade_to_the_event_key_keeps_every_event_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = scratch_store(&dir, "upgrade.db").await;
        let mut before = for_backend(store.backend());
        before.migrations = before.migrations.iter().filter(|m| m.version < 19).cloned().collect();
        before.run(store.writer()).await.unwrap();

        let app = scratch_app(&store).await;
        // Written as the code before 0019 did: two events share each second.
        let ids: Vec<String> = (0..5).map(|_| uuid::Uuid::now_v7().to_string()).collect();
        for (i, id) in ids.iter().enumerate() {
            sqlx::query("INSERT INTO sso_events (id, app_id, occurred_at, outcome, error_code, detail, correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(id)
                .bind(app.to_string())
                .bind(100 + i as i64 / 2)
                .bind(if i % 2 == 0 { "failed" } else { "succeeded" })
                .bind((i % 2 == 0).then_some("state_expired"))
                .bind(format!("event {i}"))
                .bind(format!("c-{i}"))
                .execute(store.writer())
                .await
                .unwrap();
        }

        store.migrate().await.unwrap();
        let listed = store.recent_sso_events(app, 10).await.unwrap();
        let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
        assert_eq!(listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), newest_first);
        for event in &listed {
            let i = ids.iter().position(|id| *id == event.id).unwrap();
            assert_eq!((event.occurred_at, event.detail.as_str(), event.correlation_id.as_str()), (100 + i as i64 / 2, format!("event {i}").as_str(), format!("c-{i}").as_str()));
            assert_eq!(event.error_code.is_some(), i % 2 == 0, "a NULL stays NULL");
        }

        assert_eq!(store.prune_sso_events(2, PruneScope::Everywhere).await.unwrap(), 3);
        let kept = store.recent_sso_events(app, 10).await.unwrap();
        assert_eq!(kept.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), newest_first[..2]);

        // A sign-in (no account chosen yet) through the trigger 0018 left as it was.
        let event = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO sign_ins (new_user_id, app_id, issuer, subject, email, email_key, given_name, family_name, session_id_hash, csrf_token, sign_out_origins,
                reachable_accounts, expires_at, event_id, event_detail, correlation_id, signed_in_at, state_hash, state_expires_at)
             VALUES ($1, $2, 'https://idm.example', 'sub-1', 'a@shop.example', 'a@shop.example', 'Ada', 'Shop', 'session-hash', 'csrf', '', 1, 9000, $3,
                'signed in', 'c-new', 200, 'state-hash', 9000)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(app.to_string())
        .bind(&event)
        .execute(store.writer())
        .await
        .unwrap();
        let newest = store.recent_sso_events(app, 1).await.unwrap();
        assert_eq!((newest[0].id.as_str(), newest[0].correlation_id.as_str()), (event.as_str(), "c-new"), "the trigger writes into the new table");
        let (legacy,): (i64,) = sqlx::query_as("PRAGMA legacy_alter_table").fetch_one(store.writer()).await.unwrap();
        assert_eq!(legacy, 0, "the migration leaves SQLite's rename rules as it found them");
    }

    #[test]
    fn every_file_is_embedded_once_for_each_backend() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut versions: Vec<(i64, bool)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                let shared = !name.ends_with(".sqlite.sql") && !name.ends_with(".postgres.sql");
                (name[..4].parse().unwrap(), shared)
            })
            .collect();
        versions.sort();
        versions.dedup();
        // A version is one shared file, or exactly a pair (deduplicated above) of backend files.
        let embedded: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(versions.iter().map(|(v, _)| *v).collect::<Vec<_>>(), embedded);
        for m in MIGRATIONS {
            let split = versions.iter().any(|(v, shared)| *v == m.version && !shared);
            assert_eq!(split, m.sqlite != m.postgres, "version {}: files per backend only where the SQL differs", m.version);
        }
    }
}
