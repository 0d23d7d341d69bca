//! What the demo IdM publishes about itself: the discovery document (OIDC Discovery §3)
//! and its signing key (RFC 7517).

use std::sync::Arc;

use poem::handler;
use poem::web::{Data, Json};
use serde_json::{Value, json};

use super::{AUTHORIZE_PATH, END_SESSION_PATH, JWKS_PATH, Provider, TOKEN_PATH};

/// Caller: any relying party (Causeway reads it when it opens the partner's connector).
#[handler]
pub fn discovery(provider: Data<&Arc<Provider>>) -> Json<Value> {
    let config = &provider.config;
    Json(json!({
        "issuer": config.issuer,
        "authorization_endpoint": provider.url(AUTHORIZE_PATH),
        "token_endpoint": provider.url(TOKEN_PATH),
        "jwks_uri": provider.url(JWKS_PATH),
        "end_session_endpoint": provider.url(END_SESSION_PATH),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [provider.signer.alg()],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified",
            "given_name", "family_name", "name", config.account_claim],
        "authorization_response_iss_parameter_supported": true,
    }))
}

/// Caller: any relying party verifying an ID token.
#[handler]
pub fn jwks(provider: Data<&Arc<Provider>>) -> Json<Value> {
    Json(json!({ "keys": [provider.signer.jwk] }))
}
