//! The audit trail's rows: appended at the next number of their chain, read back in order.

use sqlx::any::AnyRow;

use super::error::{column, retry_on_conflict};
use super::{Store, StoreError};
use crate::domain::audit::{chain_hash, AuditEntry, GENESIS};

/// What an append is given; the number and the hashes are the chain's.
pub struct NewAuditEntry<'a> {
    pub chain: &'a str,
    pub occurred_at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
}

macro_rules! columns {
    () => {
        "chain, seq, occurred_at, actor, action, target, detail, prev_hash, hash"
    };
}

fn from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        chain: column(row, "chain")?,
        seq: column(row, "seq")?,
        occurred_at: column(row, "occurred_at")?,
        actor: column(row, "actor")?,
        action: column(row, "action")?,
        target: column(row, "target")?,
        detail: column(row, "detail")?,
        prev_hash: column(row, "prev_hash")?,
        hash: column(row, "hash")?,
    })
}

impl Store {
    /// Appends `new` after the last entry of its chain. The hash needs the last entry's, so
    /// it is read first; a concurrent append of the same number is refused by the primary
    /// key (the chain cannot fork) and this one reads the new last entry and tries again.
    pub async fn append_audit(&self, new: &NewAuditEntry<'_>) -> Result<AuditEntry, StoreError> {
        retry_on_conflict(|| async {
            let last = sqlx::query("SELECT seq, hash FROM audit_events WHERE chain = $1 ORDER BY seq DESC LIMIT 1")
                .bind(new.chain)
                .fetch_optional(self.writer())
                .await?;
            let (seq, prev_hash) = match last {
                Some(row) => (column::<i64>(&row, "seq")? + 1, column::<String>(&row, "hash")?),
                None => (1, GENESIS.to_owned()),
            };
            let mut entry = AuditEntry {
                chain: new.chain.to_owned(),
                seq,
                occurred_at: new.occurred_at,
                actor: new.actor.to_owned(),
                action: new.action.to_owned(),
                target: new.target.to_owned(),
                detail: new.detail.to_owned(),
                prev_hash,
                hash: String::new(),
            };
            entry.hash = chain_hash(&entry.prev_hash, &entry);
            sqlx::query(concat!("INSERT INTO audit_events (", columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                .bind(&entry.chain)
                .bind(entry.seq)
                .bind(entry.occurred_at)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(&entry.target)
                .bind(&entry.detail)
                .bind(&entry.prev_hash)
                .bind(&entry.hash)
                .execute(self.writer())
                .await?;
            Ok(entry)
        })
        .await
    }

    /// A chain's newest entries, newest first.
    pub async fn recent_audit(&self, chain: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM audit_events WHERE chain = $1 ORDER BY seq DESC LIMIT $2"))
            .bind(chain)
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Every chain's name.
    pub async fn audit_chains(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT chain FROM audit_events ORDER BY chain").fetch_all(self.reader()).await?;
        rows.iter().map(|r| column(r, "chain")).collect()
    }

    /// One whole chain, in order.
    pub async fn audit_chain(&self, chain: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM audit_events WHERE chain = $1 ORDER BY seq"))
            .bind(chain)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }
}
