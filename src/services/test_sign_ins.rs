//! Test sign-ins (contract, "Go-live and health"): the partner's staff signs in at its IdM
//! exactly like a merchant, and instead of a Merchant Center session gets a report of every
//! rule — protocol, identity policy, access.

use super::access::{self, Access};
use super::{audit, ServiceError};
use crate::domain::access::Source;
use crate::domain::field_error::{FieldError, Reason};
use crate::domain::identity::IdentityPolicy;
use crate::domain::ids::AppId;
use crate::domain::sso_error::SsoError;
use crate::domain::test_sign_in::{claims_seen, Check, Report, REPORT_SECONDS};
use crate::federation::connector::Inspection;
use crate::state::AppState;
use crate::store::test_sign_ins::TestSignInRow;
use crate::store::StoreError;

pub struct Started {
    pub id: String,
    /// Where the partner's browser starts the sign-in.
    pub url: String,
    pub expires_at: i64,
}

pub async fn start(state: &AppState, app: AppId, actor: &str) -> Result<Started, ServiceError> {
    if state.store.current_idm_version(app).await?.is_none() {
        return Err(ServiceError::NotFound { field: Some(FieldError::new(&[], Reason::NotFound, "no IdM is configured yet: PUT /partner/idm first")) });
    }
    let now = state.clock.now();
    let row = TestSignInRow {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: app,
        status: "pending".into(),
        report_json: None,
        created_at: now,
        expires_at: now + REPORT_SECONDS,
    };
    state.store.insert_test_sign_in(&row).await?;
    audit::record(&state.store, &state.clock, audit::Action { chain: &app.to_string(), actor, action: "test_sign_in.start", target: &format!("test sign-in {}", row.id), detail: "" }).await;
    let url = format!("{}/sso/oidc/{app}/test/{}", state.settings.public_url, row.id);
    Ok(Started { id: row.id, url, expires_at: row.expires_at })
}

/// Ids are UUIDs: anything else names nothing (and never reaches SQL, where PostgreSQL
/// would refuse a NUL as a 500).
fn parse_id(id: &str) -> Option<String> {
    uuid::Uuid::parse_str(id).ok().map(|id| id.to_string())
}

/// Whether `id` is a pending test sign-in of `app` (a start for anything else is refused).
pub async fn is_pending(state: &AppState, app: AppId, id: &str) -> Result<bool, StoreError> {
    let Some(id) = parse_id(id) else { return Ok(false) };
    match state.store.find_test_sign_in(app, &id, state.clock.now()).await {
        Ok(row) => Ok(row.status == "pending"),
        Err(StoreError::NotFound) => Ok(false),
        Err(err) => Err(err),
    }
}

pub struct Found {
    pub id: String,
    pub status: String,
    pub expires_at: i64,
    pub report: Option<Report>,
}

pub async fn find(state: &AppState, app: AppId, id: &str) -> Result<Found, ServiceError> {
    let id = parse_id(id).ok_or(ServiceError::NotFound { field: None })?;
    let row = state.store.find_test_sign_in(app, &id, state.clock.now()).await?;
    let report = row.report_json.as_deref().map(serde_json::from_str).transpose().map_err(|e| ServiceError::Internal(e.into()))?;
    Ok(Found { id: row.id, status: row.status, expires_at: row.expires_at, report })
}

/// Judges what the IdM answered by every rule and stores the report; nothing else happens
/// (no user, no session). Each protocol failure's fix is the SSO catalog's.
pub async fn finish(state: &AppState, app: AppId, id: &str, inspection: Inspection, policy: &IdentityPolicy) -> Result<(), StoreError> {
    let mut report = Report {
        alg: inspection.alg,
        kid: inspection.kid,
        clock_offset_seconds: inspection.issued_at.map(|iat| state.clock.now().saturating_sub(iat)),
        ..Report::default()
    };
    for rule in inspection.rules {
        let fix = rule.verdict.as_ref().err().map(|err| super::login::catalog(err.clone()).fix_hint().to_owned()).unwrap_or_default();
        report.checks.push(Check { rule: rule.rule.to_owned(), passed: rule.verdict.is_ok(), observed: rule.observed, fix });
    }
    match &inspection.identity {
        None => report.access = "No identity to decide access for: the IdM's answer could not be read.".into(),
        Some(identity) => {
            let shown: Vec<&str> = [policy.names.email.as_str(), &policy.names.given_name, &policy.names.family_name, &policy.names.phone_number, &policy.names.account].into();
            report.id_token_claims = claims_seen(&identity.primary, &shown);
            report.userinfo_claims = identity.userinfo.as_ref().map(|u| claims_seen(u, &shown));
            report.checks.extend(policy.inspect(identity));
            decide_access(state, app, policy, identity, &mut report).await;
        }
    }
    let status = if report.passed() { "passed" } else { "failed" };
    let json = serde_json::to_string(&report).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    state.store.finish_test_sign_in(app, id, status, &json, state.clock.now()).await?;
    Ok(())
}

/// Which account and role the identity would get, and why — or why none.
async fn decide_access(state: &AppState, app: AppId, policy: &IdentityPolicy, identity: &crate::domain::identity::FederatedIdentity, report: &mut Report) {
    let check = |passed: bool, observed: String, error: Option<SsoError>| Check {
        rule: "access to an account".into(),
        passed,
        observed,
        fix: error.map(|e| e.fix_hint().to_owned()).unwrap_or_default(),
    };
    let person = match policy.person(identity) {
        Ok(person) => person,
        Err(err) => {
            report.access = format!("None: the identity policy refuses this identity first ({}).", err.code());
            report.checks.push(check(false, report.access.clone(), Some(err)));
            return;
        }
    };
    let why = |source: Source| match source {
        Source::Claim => "the account claim names it",
        Source::Grant => "a grant names this person",
        Source::Controller => "this person's verified e-mail is the legal entity's controller's",
    };
    match access::resolve(state, app, &person).await {
        Ok(Access::One(reach)) => {
            report.access = format!("{} as {}: {}.", reach.account_name, reach.role.as_str(), why(reach.source));
            report.account_id = Some(reach.account.to_string());
            report.role = Some(reach.role.as_str().to_owned());
            report.checks.push(check(true, report.access.clone(), None));
        }
        Ok(Access::Several(reached)) => {
            let names: Vec<String> = reached.iter().map(|r| format!("{} as {} ({})", r.account_name, r.role.as_str(), why(r.source))).collect();
            report.access = format!("{} accounts, chosen after sign-in: {}.", reached.len(), names.join("; "));
            report.checks.push(check(true, report.access.clone(), None));
        }
        Err(err) => {
            report.access = format!("None ({}).", err.code());
            report.checks.push(check(false, report.access.clone(), Some(err)));
        }
    }
}
