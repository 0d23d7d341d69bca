//! Causeway: a federation broker for hosted merchant portals.
//!
//! Layers (dependencies point down only): the web surfaces (`api`, `web`, `sso`, `portal`,
//! `partner_center`) → `services` → `domain`, with `store`, `federation` and `crypto` as
//! adapters the services call; `state`, `metrics`, `clock` and `config` are shared
//! infrastructure. A test below keeps the lower layers from reaching up.

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
#[cfg(feature = "demo")]
pub mod demo;
pub mod domain;
pub mod federation;
pub mod metrics;
pub mod partner_center;
pub mod portal;
pub mod rate_limit;
pub mod sign_in_health;
pub mod services;
pub mod sso;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;

#[cfg(test)]
mod layering {
    /// Modules the web surfaces are made of; nothing below them may name one.
    const SURFACES: [&str; 5] = ["web", "api", "portal", "sso", "partner_center"];
    const LOWER: [&str; 5] = ["services", "federation", "store", "domain", "crypto"];

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn lower_layers_never_name_a_web_surface() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offences = Vec::new();
        for layer in LOWER {
            let mut files = Vec::new();
            rust_files(&src.join(layer), &mut files);
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                for surface in SURFACES {
                    if text.contains(&format!("crate::{surface}::")) || text.contains(&format!("crate::{surface};")) {
                        offences.push(format!("{} names crate::{surface}", file.strip_prefix(&src).unwrap().display()));
                    }
                }
            }
        }
        assert!(offences.is_empty(), "{offences:#?}");
    }

    #[test]
    fn the_domain_names_nothing_but_itself() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src.join("domain"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let foreign: Vec<&str> = text.match_indices("crate::").map(|(i, _)| &text[i..]).filter(|rest| !rest.starts_with("crate::domain")).collect();
            assert!(foreign.is_empty(), "{} reaches out of the domain: {:?}", file.display(), foreign.iter().map(|r| &r[..r.len().min(40)]).collect::<Vec<_>>());
        }
    }
}
