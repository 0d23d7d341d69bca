//! Connector kinds: from a stored configuration to an opened connector.

use std::sync::Arc;

use secrecy::SecretString;

use super::connector::{Connector, FederationError};
use super::http::OutboundClient;
use super::oidc::connector::OidcConnector;
use crate::domain::idm_config::IdmConfig;

/// Opens the connector of `config`'s kind; `secret` is the client secret, opened from its
/// sealed form at this last moment.
pub async fn open(config: &IdmConfig, secret: SecretString, version: i64, client: &OutboundClient) -> Result<Arc<dyn Connector>, FederationError> {
    Ok(Arc::new(OidcConnector::open(config, secret, version, client).await?))
}
