//! Connector kinds: from a stored configuration to an opened connector.

use std::sync::Arc;

use secrecy::SecretString;

use super::connector::{Connector, FederationError};
use super::hosted_login::HostedLoginConnector;
use super::http::OutboundClient;
use super::oidc::connector::OidcConnector;
use crate::domain::idm_config::ConnectorConfig;

/// Opens the connector of `config`'s kind; `secret` is its client secret or service key,
/// opened from its sealed form at this last moment.
pub async fn open(config: &ConnectorConfig, secret: SecretString, version: i64, client: &OutboundClient) -> Result<Arc<dyn Connector>, FederationError> {
    Ok(match config {
        ConnectorConfig::Oidc(oidc) => Arc::new(OidcConnector::open(oidc, secret, version, client).await?),
        ConnectorConfig::HostedLogin(hosted) => Arc::new(HostedLoginConnector::new(hosted.clone(), secret, version)),
    })
}
