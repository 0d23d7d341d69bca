//! The audit trail's rules: every entry of a chain (one per app) carries the hash of the one
//! before it, `hash = SHA-256(prev_hash ‖ canonical entry)`, so that an entry altered, removed
//! or moved breaks every hash after it — and `verify` names the first place it breaks.

use sha2::{Digest, Sha256};

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain of actions on no app (a master-key rotation).
pub const OPERATOR_CHAIN: &str = "operator";

/// Who acted (also what the IdM configuration history says changed a version).
pub mod actor {
    /// A call with the app's App-Token.
    pub const API: &str = "Partner API";
    /// A signed-in Partner Center session of the app.
    pub const PARTNER_CENTER: &str = "Partner Center";
    /// The `causeway` command line.
    pub const OPERATOR: &str = "operator";
    /// The partner's IdM, by a back-channel logout token.
    pub const IDM: &str = "IdM";
}

/// One entry, as it is hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub chain: String,
    pub seq: i64,
    pub occurred_at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// What changed, never a secret.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The entry's fields in one unambiguous text: a JSON array (its strings escaped, its order
/// fixed), so that no two different entries share a canonical form.
fn canonical(e: &AuditEntry) -> String {
    serde_json::json!([e.chain, e.seq, e.occurred_at, e.actor, e.action, e.target, e.detail]).to_string()
}

/// `SHA-256(prev_hash ‖ canonical entry)`, lower-case hex.
pub fn chain_hash(prev_hash: &str, entry: &AuditEntry) -> String {
    let mut digest = Sha256::new();
    digest.update(prev_hash.as_bytes());
    digest.update(canonical(entry).as_bytes());
    base16ct::lower::encode_string(&digest.finalize())
}

/// Where a chain stops holding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    pub chain: String,
    /// The first entry that does not hold (or, for a missing one, the number expected).
    pub seq: i64,
    pub problem: &'static str,
}

/// Checks one chain, given in `seq` order: numbers from 1 without a gap, each `prev_hash` the
/// hash before it, each `hash` its own. (Entries cut off the end leave a shorter chain that
/// still holds: only a copy kept elsewhere of the last hash can tell.)
pub fn verify(entries: &[AuditEntry]) -> Result<(), Break> {
    let mut prev = GENESIS;
    for (i, e) in entries.iter().enumerate() {
        let expected = i as i64 + 1;
        let fail = |seq, problem| Err(Break { chain: e.chain.clone(), seq, problem });
        if e.seq != expected {
            return fail(expected, "missing: the entries are not numbered without a gap (removed or reordered)");
        }
        if e.prev_hash != prev {
            return fail(e.seq, "prev_hash is not the hash of the entry before (an entry before it was removed or replaced)");
        }
        if chain_hash(&e.prev_hash, e) != e.hash {
            return fail(e.seq, "hash does not match the entry (it was altered)");
        }
        prev = &e.hash;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev_hash = out.last().map_or(GENESIS.to_owned(), |e| e.hash.clone());
            let mut e = AuditEntry {
                chain: "app-1".into(),
                seq,
                occurred_at: 1_700_000_000 + seq,
                actor: actor::API.into(),
                action: "branding.set".into(),
                target: "branding".into(),
                detail: format!("change {seq}"),
                prev_hash,
                hash: String::new(),
            };
            e.hash = chain_hash(&e.prev_hash, &e);
            out.push(e);
        }
        out
    }

    #[test]
    fn an_intact_chain_holds_and_every_kind_of_tampering_is_named() {
        assert_eq!(verify(&chain(5)), Ok(()));
        let mut altered = chain(5);
        altered[2].detail = "something else".into();
        assert_eq!(verify(&altered).unwrap_err().seq, 3);
        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(verify(&removed).unwrap_err().seq, 2);
        let mut swapped = chain(5);
        swapped.swap(1, 2);
        assert_eq!(verify(&swapped).unwrap_err().seq, 2);
        // Renumbering after a removal does not help: the next prev_hash no longer matches.
        let mut renumbered = chain(5);
        renumbered.remove(1);
        for (i, e) in renumbered.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
        }
        assert_eq!(verify(&renumbered).unwrap_err().seq, 2);
        // Rehashing an altered entry breaks the one after it.
        let mut rehashed = chain(5);
        rehashed[2].detail = "forged".into();
        rehashed[2].hash = chain_hash(&rehashed[2].prev_hash, &rehashed[2]);
        assert_eq!(verify(&rehashed).unwrap_err().seq, 4);
    }

    #[test]
    fn fields_cannot_trade_characters() {
        let mut a = chain(1).remove(0);
        let mut b = a.clone();
        (a.action, a.target) = ("x,y".into(), "z".into());
        (b.action, b.target) = ("x".into(), "y,z".into());
        assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
    }
}
