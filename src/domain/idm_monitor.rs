//! What the IdM monitor remembers of an IdM between two looks, and the notices a change
//! between them gives (contract, "Go-live and health").

use serde::{Deserialize, Serialize};

/// One look at an IdM's discovery document and JWKS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Why discovery or the JWKS could not be read; `None` when both were.
    pub unreachable: Option<String>,
    pub issuer: Option<String>,
    /// (name, URL) of every endpoint discovery names, in a fixed order.
    pub endpoints: Vec<(String, String)>,
    /// `id_token_signing_alg_values_supported`.
    pub algorithms: Vec<String>,
    /// The `kid`s of the signing keys in the JWKS (a key without one counts as `""`).
    pub kids: Vec<String>,
}

/// A notice's kind, as the health API names it.
pub mod kind {
    pub const UNREACHABLE: &str = "unreachable";
    pub const REACHABLE_AGAIN: &str = "reachable_again";
    pub const KEYS_ADDED: &str = "keys_added";
    pub const KEYS_REMOVED: &str = "keys_removed";
    pub const ONE_KEY_LEFT: &str = "one_signing_key_left";
    pub const ALGORITHMS_CHANGED: &str = "algorithms_changed";
    pub const ENDPOINT_CHANGED: &str = "endpoint_changed";
    pub const ISSUER_CHANGED: &str = "issuer_changed";
}

/// What changed from `before` to `after` (both of the same configuration version).
pub fn notices(before: &Snapshot, after: &Snapshot) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match (&before.unreachable, &after.unreachable) {
        (None, Some(why)) => out.push((kind::UNREACHABLE, format!("Causeway could not read your IdM: {why}. Sign-ins fail while it lasts."))),
        (Some(_), None) => out.push((kind::REACHABLE_AGAIN, "Your IdM answers again.".to_owned())),
        _ => {}
    }
    // What an unreachable look did not see is not a change.
    if after.unreachable.is_some() || before.unreachable.is_some() && before.kids.is_empty() {
        return out;
    }
    if before.issuer != after.issuer {
        out.push((kind::ISSUER_CHANGED, format!("Discovery now names the issuer {:?} (was {:?}); sign-ins fail until they match.", after.issuer, before.issuer)));
    }
    for (name, url) in &after.endpoints {
        let was = before.endpoints.iter().find(|(n, _)| n == name).map(|(_, u)| u);
        if was != Some(url) {
            out.push((kind::ENDPOINT_CHANGED, format!("{name} is now {url} (was {}).", was.map_or("absent", String::as_str))));
        }
    }
    for (name, url) in &before.endpoints {
        if !after.endpoints.iter().any(|(n, _)| n == name) {
            out.push((kind::ENDPOINT_CHANGED, format!("{name} ({url}) is no longer published.")));
        }
    }
    if before.algorithms != after.algorithms {
        out.push((kind::ALGORITHMS_CHANGED, format!("Signing algorithms are now {} (were {}).", after.algorithms.join(", "), before.algorithms.join(", "))));
    }
    let added: Vec<&str> = after.kids.iter().filter(|k| !before.kids.contains(k)).map(String::as_str).collect();
    let removed: Vec<&str> = before.kids.iter().filter(|k| !after.kids.contains(k)).map(String::as_str).collect();
    if !added.is_empty() {
        out.push((kind::KEYS_ADDED, format!("New signing key(s) in the JWKS: {}.", added.join(", "))));
    }
    if !removed.is_empty() {
        out.push((kind::KEYS_REMOVED, format!("Signing key(s) removed from the JWKS: {}; ID tokens signed with them no longer verify.", removed.join(", "))));
    }
    if after.kids.len() == 1 && before.kids.len() > 1 {
        out.push((kind::ONE_KEY_LEFT, "Only one signing key is left: a rotation now needs the new key published before it signs.".to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(kids: &[&str], algs: &[&str]) -> Snapshot {
        Snapshot {
            unreachable: None,
            issuer: Some("https://idm.example".into()),
            endpoints: vec![("token_endpoint".into(), "https://idm.example/token".into())],
            algorithms: algs.iter().map(|a| a.to_string()).collect(),
            kids: kids.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn each_change_is_one_notice() {
        assert!(notices(&snap(&["a"], &["RS256"]), &snap(&["a"], &["RS256"])).is_empty());
        let kinds = |b: &Snapshot, a: &Snapshot| notices(b, a).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(kinds(&snap(&["a", "b"], &["RS256"]), &snap(&["b", "c"], &["ES256"])), [kind::ALGORITHMS_CHANGED, kind::KEYS_ADDED, kind::KEYS_REMOVED]);
        assert_eq!(kinds(&snap(&["a", "b"], &["RS256"]), &snap(&["b"], &["RS256"])), [kind::KEYS_REMOVED, kind::ONE_KEY_LEFT]);
        let down = Snapshot { unreachable: Some("no answer".into()), ..Snapshot::default() };
        assert_eq!(kinds(&snap(&["a"], &["RS256"]), &down), [kind::UNREACHABLE]);
        assert_eq!(kinds(&down, &down), Vec::<&str>::new(), "still down: nothing new");
        assert_eq!(kinds(&down, &snap(&["a"], &["RS256"])), [kind::REACHABLE_AGAIN]);
        let mut moved = snap(&["a"], &["RS256"]);
        moved.endpoints[0].1 = "https://other.example/token".into();
        moved.issuer = Some("https://idm.example/".into());
        assert_eq!(kinds(&snap(&["a"], &["RS256"]), &moved), [kind::ISSUER_CHANGED, kind::ENDPOINT_CHANGED]);
    }
}
