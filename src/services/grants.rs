//! Access grants (contract, "Access grants"): a partner names who may reach an account
//! when its IdM sends no account claim, sees everyone who has access, removes access, and
//! ends sessions at once.

use super::apps::AppPrincipal;
use super::onboarding::{IdempotencyKey, Stored};
use super::{audit, ServiceError};
use crate::domain::access::Source;
use crate::domain::audit::actor;
use crate::domain::field_error::{FieldError, Reason};
use crate::domain::grant::NewGrant;
use crate::domain::identity::email_key;
use crate::domain::ids::AccountId;
use crate::domain::role::Role;
use crate::state::AppState;
use crate::store::grants::{GrantRow, Granted, ONE_ADMIN};
use crate::store::idempotency::KeyClaim;
use crate::store::merchant_center::MemberRow;
use crate::store::StoreError;

pub enum GrantOutcome {
    Created(GrantRow),
    /// The matcher already had a grant on the account (its role is now the one asked).
    Updated(GrantRow),
}

/// Someone with access to an account: a grant (perhaps not used yet), or a person who
/// signed in by the account claim or as the controller.
#[derive(Clone, Debug)]
pub struct AccountUser {
    /// The grant's id, or the signed-in user's.
    pub id: String,
    pub source: Source,
    pub role: Role,
    /// ("email" | "phone_number" | "idm_subject", value)
    pub matcher: (&'static str, String),
    pub name: Option<String>,
    pub create_time: i64,
    pub last_sign_in_time: Option<i64>,
}

fn account_id(raw: &str) -> Result<AccountId, ServiceError> {
    raw.parse().map_err(|_| ServiceError::NotFound { field: None })
}

fn key_claim(state: &AppState, key: Option<IdempotencyKey>) -> Option<KeyClaim> {
    key.map(|k| KeyClaim { key: k.key, fingerprint: k.fingerprint, expired_before: state.clock.now() - state.settings.idempotency_ttl_seconds })
}

/// Grants `new` on the caller's account, or updates the role of the grant its matcher
/// already has. A changed role ends that person's sessions on the account, so the next
/// sign-in carries the new role.
pub async fn grant(state: &AppState, caller: &AppPrincipal, account: &str, new: &NewGrant, key: Option<IdempotencyKey>) -> Result<Stored<GrantOutcome>, ServiceError> {
    let account = account_id(account)?;
    let granted = state.store.grant(caller.app_id, account, new, key_claim(state, key).as_ref(), state.clock.now()).await;
    match granted {
        Ok(Granted::Created(row)) => {
            audited(state, caller, "grant.create", &row, &format!("{} {} as {}", row.matcher_kind, row.display_value, row.role.as_str())).await;
            Ok(Stored { row: GrantOutcome::Created(row), replayed: false })
        }
        Ok(Granted::Updated { row, role_changed }) => {
            if role_changed {
                state.store.end_sessions_named_by(caller.app_id, &row).await?;
                let detail = format!("{} {} now {}; their sessions on the account ended", row.matcher_kind, row.display_value, row.role.as_str());
                audited(state, caller, "grant.update", &row, &detail).await;
            }
            Ok(Stored { row: GrantOutcome::Updated(row), replayed: false })
        }
        Ok(Granted::Replay { id, status }) => {
            let row = state.store.find_grant(caller.app_id, &id).await?;
            let outcome = if status == 201 { GrantOutcome::Created(row) } else { GrantOutcome::Updated(row) };
            Ok(Stored { row: outcome, replayed: true })
        }
        Ok(Granted::KeyReused) => Err(ServiceError::IdempotencyConflict),
        Err(StoreError::Conflict { constraint }) if constraint == ONE_ADMIN => Err(ServiceError::AlreadyExists(FieldError::new(
            &["role"],
            Reason::AlreadyExists,
            "this legal entity already has a financial-admin grant (it names the controller at your IdM): remove it first",
        ))),
        Err(other) => Err(other.into()),
    }
}

/// Everyone with access to the caller's account: its grants, then the people who signed
/// in by the account claim or as the controller, each once.
pub async fn users(state: &AppState, caller: &AppPrincipal, account: &str) -> Result<Vec<AccountUser>, ServiceError> {
    let account = account_id(account)?;
    state.store.find_account(caller.app_id, account).await?;
    let grants = state.store.account_grants(account).await?;
    let members = state.store.account_members(account).await?;
    let named_by = |g: &GrantRow, m: &MemberRow| match g.matcher_kind.as_str() {
        "email" => m.email_key.as_deref() == Some(g.matcher_value.as_str()),
        "phone_number" => m.phone_key.as_deref() == Some(g.matcher_value.as_str()),
        _ => m.subject == g.matcher_value,
    };
    let mut users: Vec<AccountUser> = grants
        .iter()
        .map(|g| {
            let member = members.iter().find(|m| named_by(g, m));
            AccountUser {
                id: g.id.clone(),
                source: Source::Grant,
                role: g.role,
                matcher: (matcher_kind(&g.matcher_kind), g.display_value.clone()),
                name: member.map(member_name),
                create_time: g.created_at,
                last_sign_in_time: member.map(|m| m.last_sign_in_at),
            }
        })
        .collect();
    for m in members.iter().filter(|m| !grants.iter().any(|g| named_by(g, m))) {
        let matcher = match (m.email.is_empty(), &m.phone_number) {
            (false, _) => ("email", m.email.clone()),
            (true, Some(phone)) => ("phone_number", phone.clone()),
            (true, None) => ("idm_subject", m.subject.clone()),
        };
        users.push(AccountUser {
            id: m.user_id.clone(),
            source: m.source,
            role: m.role,
            matcher,
            name: Some(member_name(m)),
            create_time: m.first_sign_in_at,
            last_sign_in_time: Some(m.last_sign_in_at),
        });
    }
    Ok(users)
}

fn matcher_kind(stored: &str) -> &'static str {
    match stored {
        "email" => "email",
        "phone_number" => "phone_number",
        _ => "idm_subject",
    }
}

fn member_name(m: &MemberRow) -> String {
    format!("{} {}", m.given_name, m.family_name).trim().to_owned()
}

/// Removes a grant (or, for someone who signed in by claim or as controller, their record
/// on the account) and ends that person's sessions on the account at once.
pub async fn remove(state: &AppState, caller: &AppPrincipal, account: &str, id: &str) -> Result<(), ServiceError> {
    let account = account_id(account)?;
    // Grant and user ids are UUIDs: anything else names nothing (and never reaches SQL).
    let id = uuid::Uuid::parse_str(id).map_err(|_| ServiceError::NotFound { field: None })?.to_string();
    let id = id.as_str();
    state.store.find_account(caller.app_id, account).await?;
    match state.store.delete_grant(caller.app_id, account, id).await {
        Ok(grant) => {
            state.store.end_sessions_named_by(caller.app_id, &grant).await?;
            audited(state, caller, "grant.remove", &grant, &format!("{} {}; their sessions on the account ended", grant.matcher_kind, grant.display_value)).await;
            Ok(())
        }
        Err(StoreError::NotFound) if state.store.remove_member(account, id).await? => {
            let (chain, target) = (caller.app_id.to_string(), format!("account {account}"));
            let detail = format!("user {id} removed; their sessions on the account ended");
            audit::record(&state.store, &state.clock, audit::Action { chain: &chain, actor: actor::API, action: "member.remove", target: &target, detail: &detail }).await;
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// A grant's change in the app's audit trail (grants are made through the API only).
async fn audited(state: &AppState, caller: &AppPrincipal, action: &str, row: &GrantRow, detail: &str) {
    let (chain, target) = (caller.app_id.to_string(), format!("account {} grant {}", row.account_id, row.id));
    audit::record(&state.store, &state.clock, audit::Action { chain: &chain, actor: actor::API, action, target: &target, detail }).await;
}

/// Filters of `POST /partner/sessions/revoke`; at least one is set.
pub struct Revocation<'a> {
    pub account_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub idm_subject: Option<&'a str>,
}

/// Ends the caller's Merchant Center sessions matching every filter; returns how many.
pub async fn revoke_sessions(state: &AppState, caller: &AppPrincipal, r: &Revocation<'_>) -> Result<u64, ServiceError> {
    if r.account_id.is_none() && r.email.is_none() && r.idm_subject.is_none() {
        return Err(ServiceError::Invalid(vec![FieldError::new(&[], Reason::MissingField, "send at least one of account_id, email or idm_subject")]));
    }
    let account = match r.account_id {
        Some(raw) => Some(raw.parse::<AccountId>().map_err(|_| ServiceError::Invalid(vec![FieldError::new(&["account_id"], Reason::InvalidId, "must be an account id (a UUID)")]))?),
        None => None,
    };
    if let Some(account) = account {
        // Another partner's account is not found, exactly like a missing one.
        state.store.find_account(caller.app_id, account).await.map_err(|e| match e {
            StoreError::NotFound => ServiceError::NotFound { field: Some(FieldError::new(&["account_id"], Reason::NotFound, "no account of yours has this id")) },
            other => other.into(),
        })?;
    }
    if let Some(Err(invalid)) = r.idm_subject.map(crate::domain::grant::subject) {
        return Err(ServiceError::Invalid(vec![FieldError::new(&["idm_subject"], invalid.reason, invalid.message)]));
    }
    let email = r.email.map(email_key);
    let ended = state.store.revoke_merchant_sessions(caller.app_id, account, email.as_deref(), r.idm_subject).await?;
    let filters: Vec<String> = [("account", account.map(|a| a.to_string())), ("email", email), ("idm_subject", r.idm_subject.map(str::to_owned))]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name} {v}")))
        .collect();
    let (chain, detail) = (caller.app_id.to_string(), format!("{ended} session(s) ended"));
    let target = filters.join(", ");
    audit::record(&state.store, &state.clock, audit::Action { chain: &chain, actor: actor::API, action: "sessions.revoke", target: &target, detail: &detail }).await;
    Ok(ended)
}
