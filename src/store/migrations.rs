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

const MIGRATIONS: &[Embedded] = &[
    Embedded {
        version: 1,
        description: "foundation",
        sqlite: include_str!("../../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../../migrations/postgres/0001_foundation.sql"),
    },
    Embedded {
        version: 2,
        description: "partner center",
        sqlite: include_str!("../../migrations/sqlite/0002_partner_center.sql"),
        postgres: include_str!("../../migrations/postgres/0002_partner_center.sql"),
    },
    Embedded {
        version: 3,
        description: "partner sessions",
        sqlite: include_str!("../../migrations/sqlite/0003_partner_sessions.sql"),
        postgres: include_str!("../../migrations/postgres/0003_partner_sessions.sql"),
    },
    Embedded {
        version: 4,
        description: "sso flows",
        sqlite: include_str!("../../migrations/sqlite/0004_sso_flows.sql"),
        postgres: include_str!("../../migrations/postgres/0004_sso_flows.sql"),
    },
    Embedded {
        version: 5,
        description: "merchant users",
        sqlite: include_str!("../../migrations/sqlite/0005_merchant_users.sql"),
        postgres: include_str!("../../migrations/postgres/0005_merchant_users.sql"),
    },
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
