//! The API's request and response bodies. Requests derive serde (parsed by `ApiJson`) and
//! `Object` (for the spec); responses are built from store rows, never the rows themselves.

use poem_openapi::Object;
use serde::Deserialize;

use crate::store::accounts::AccountRow;
use crate::store::legal_entities::LegalEntityRow;

#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct LegalEntityCreate {
    /// ISO 3166-1 alpha-2 country code, upper case.
    #[oai(validator(min_length = 2, max_length = 2))]
    pub country: String,
    pub controller: ControllerInput,
    pub terms_of_service: Option<TermsOfServiceInput>,
}

#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ControllerInput {
    /// The controller's e-mail address; the controller becomes the account's financial admin.
    #[oai(validator(max_length = 254))]
    pub email: String,
    /// Whether the partner has verified the address (a JSON boolean). Defaults to false.
    pub email_is_verified: Option<bool>,
}

#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct TermsOfServiceInput {
    /// Unix time (seconds) at which the controller accepted the terms; not in the future.
    #[oai(validator(minimum(value = "1")))]
    pub acceptance_time: i64,
    /// The IPv4 or IPv6 address the terms were accepted from.
    pub original_ip: String,
}

#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct AccountCreate {
    /// One of your legal entities.
    pub legal_entity_id: String,
    /// 1 to 255 characters.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub name: String,
    /// Up to 2000 characters.
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
}

#[derive(Object, Debug, Clone)]
pub struct LegalEntity {
    pub id: String,
    /// Always `legal_entities`.
    pub resource: String,
    pub country: String,
    pub controller: Controller,
    pub terms_of_service: Option<TermsOfService>,
    /// Unix time (seconds, UTC).
    pub create_time: i64,
}

#[derive(Object, Debug, Clone)]
pub struct Controller {
    pub email: String,
    pub email_is_verified: bool,
}

#[derive(Object, Debug, Clone)]
pub struct TermsOfService {
    pub acceptance_time: i64,
    pub original_ip: String,
}

#[derive(Object, Debug, Clone)]
pub struct Account {
    pub id: String,
    /// Always `accounts`.
    pub resource: String,
    pub legal_entity_id: String,
    pub name: String,
    pub description: Option<String>,
    /// Unix time (seconds, UTC).
    pub create_time: i64,
}

impl From<LegalEntityRow> for LegalEntity {
    fn from(row: LegalEntityRow) -> Self {
        Self {
            id: row.id.to_string(),
            resource: "legal_entities".into(),
            country: row.country,
            controller: Controller { email: row.controller_email, email_is_verified: row.controller_email_verified },
            terms_of_service: row
                .tos_acceptance_time
                .zip(row.tos_original_ip)
                .map(|(acceptance_time, original_ip)| TermsOfService { acceptance_time, original_ip }),
            create_time: row.created_at,
        }
    }
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Self {
            id: row.id.to_string(),
            resource: "accounts".into(),
            legal_entity_id: row.legal_entity_id.to_string(),
            name: row.name,
            description: row.description,
            create_time: row.created_at,
        }
    }
}
