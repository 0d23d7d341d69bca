//! Causeway: an OpenID Connect federation broker for hosted merchant portals.
//!
//! Layers (dependencies point down only): `api`/`web` → `services` → `domain`,
//! with `store` and `crypto` as adapters the services call.

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod federation;
pub mod partner_center;
pub mod portal;
pub mod services;
pub mod sso;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
