//! Migrations embedded in the binary, one folder per backend with the same versions.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Backend;

struct Embedded {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// One migration: the same file stem under both backend folders.
macro_rules! embedded {
    ($version:expr, $description:expr, $stem:literal) => {
        Embedded {
            version: $version,
            description: $description,
            sqlite: include_str!(concat!("../../migrations/sqlite/", $stem, ".sql")),
            postgres: include_str!(concat!("../../migrations/postgres/", $stem, ".sql")),
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
    embedded!(7, "identity breadth", "0007_identity_breadth"),
    embedded!(8, "shared limits", "0008_shared_limits"),
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

    fn stems(backend: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn both_backends_have_the_same_migrations_and_all_are_embedded() {
        let sqlite = stems("sqlite");
        assert_eq!(sqlite, stems("postgres"));
        let versions: Vec<i64> = sqlite.iter().map(|name| name[..4].parse().unwrap()).collect();
        assert_eq!(versions, MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>());
    }
}
