//! Deep links (contract: "Deep links"): a partner sends a merchant straight to one task.
//! Each link is random, shown once, stored only as its hash, usable once and for five
//! minutes; opening it signs the merchant in through the partner's IdM (or reuses their
//! session on that account) and lands on the page.

use super::apps::AppPrincipal;
use super::ServiceError;
use crate::crypto::digest::sha256_hex;
use crate::crypto::random::url_safe_token;
use crate::domain::field_error::{FieldError, Reason};
use crate::domain::ids::{AccountId, AppId};
use crate::domain::landing::Target;
use crate::state::AppState;
use crate::store::session_lifecycle::NewLink;

/// How long a link may wait to be opened.
pub const LINK_SECONDS: i64 = 300;

pub struct IssuedLink {
    pub url: String,
    pub expires_at: i64,
}

/// A new link to `target` on the caller's account `account` (another app's is not found).
pub async fn create(state: &AppState, caller: &AppPrincipal, account: &str, target: &str) -> Result<IssuedLink, ServiceError> {
    let account: AccountId = account.parse().map_err(|_| ServiceError::NotFound { field: None })?;
    let Some(target) = Target::parse(target) else {
        let names = Target::ALL.map(Target::as_str).join(", ");
        return Err(ServiceError::Invalid(vec![FieldError::new(&["target"], Reason::InvalidValue, format!("must be one of {names}"))]));
    };
    state.store.find_account(caller.app_id, account).await?;
    let token = url_safe_token(32);
    let now = state.clock.now();
    let link = NewLink { token_hash: &sha256_hex(token.as_bytes()), app: caller.app_id, account, target: target.as_str(), created_at: now, expires_at: now + LINK_SECONDS };
    state.store.insert_account_link(&link).await?;
    Ok(IssuedLink { url: format!("{}/sso/oidc/{}/links/{token}", state.settings.public_url, caller.app_id), expires_at: link.expires_at })
}

/// What a link leads to, once: `None` when it was used, expired or never made.
pub async fn open(state: &AppState, app: AppId, token: &str) -> Result<Option<(AccountId, Target)>, ServiceError> {
    let claimed = state.store.claim_account_link(app, &sha256_hex(token.as_bytes()), state.clock.now()).await?;
    Ok(claimed.and_then(|(account, target)| Target::parse(&target).map(|t| (account, t))))
}
