//! The receiving end of OpenID Connect Back-Channel Logout 1.0: the partner's IdM ended a
//! user's session there, and every Merchant Center session of that IdM session (`sid`) or
//! user (`sub`) ends here, on every replica (sessions live in the database only).

use super::{audit, idm, login};
use crate::crypto::digest::sha256_hex;
use crate::domain::audit::actor;
use crate::domain::ids::AppId;
use crate::federation::connector::Context;
use crate::state::AppState;
use crate::store::session_lifecycle::IdmLogout;
use crate::store::StoreError;

/// Why a logout token was not acted on.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// §2.8: 400 `invalid_request`, with this sentence.
    Invalid(&'static str),
    /// Causeway could not act now; the IdM may send the token again.
    Unavailable,
}

impl From<StoreError> for Refused {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "back-channel logout failed on Causeway's side");
        Refused::Unavailable
    }
}

/// Checks `logout_token` for `app` (§2.6) and ends the sessions it names (§2.7); returns how
/// many ended. A suspended app's logouts are still honoured: ending sessions is always safe.
pub async fn receive(state: &AppState, app_raw: &str, logout_token: &str) -> Result<u64, Refused> {
    let app: AppId = app_raw.parse().map_err(|_| Refused::Invalid("no such app"))?;
    let Some((_status, config)) = state.store.app_with_current_idm(app).await? else { return Err(Refused::Invalid("no such app")) };
    let connector = login::connector_for(state, app, config).await.map_err(|_| Refused::Invalid("the app's IdM is not configured or cannot be reached"))?;
    let redirect_uri = idm::redirect_uri(state, app);
    let now = state.clock.now();
    let ctx = Context { client: &state.outbound, jwks: &state.jwks, app, now, redirect_uri: &redirect_uri };
    let notice = connector.backchannel_logout(ctx, logout_token).await.map_err(Refused::Invalid)?;
    let jti_hash = sha256_hex(notice.jti.as_bytes());
    let logout = IdmLogout { issuer: &notice.issuer, sid: notice.sid.as_deref(), sub: notice.sub.as_deref(), jti_hash: &jti_hash, keep_until: notice.valid_until };
    let ended = state.store.end_idm_sessions(app, &logout).await?.ok_or(Refused::Invalid("this logout token's jti was used already"))?;
    state.metrics.backchannel_logouts.inc();
    if ended > 0 {
        let target = [notice.sid.as_deref().map(|sid| format!("sid {sid}")), notice.sub.as_deref().map(|sub| format!("sub {sub}"))]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        let detail = format!("{ended} session(s) ended by the IdM's back-channel logout");
        let chain = app.to_string();
        audit::record(&state.store, &state.clock, audit::Action { chain: &chain, actor: actor::IDM, action: "sessions.idm_logout", target: &target, detail: &detail }).await;
    }
    Ok(ended)
}
