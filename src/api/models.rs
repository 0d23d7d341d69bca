//! The API's request and response bodies. Requests derive serde (parsed by `ApiJson`) and
//! `Object` (for the spec); responses are built from store rows, never the rows themselves.

use poem_openapi::Object;
use poem_openapi::types::Example;
use serde::Deserialize;

use crate::store::accounts::AccountRow;
use crate::store::legal_entities::LegalEntityRow;

#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields, example)]
#[serde(deny_unknown_fields)]
pub struct LegalEntityCreate {
    /// ISO 3166-1 alpha-2 country code, upper case.
    #[oai(validator(pattern = "^[A-Z]{2}$"))]
    pub country: String,
    pub controller: ControllerInput,
    #[oai(nullable)]
    pub terms_of_service: Option<TermsOfServiceInput>,
}

#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ControllerInput {
    /// The controller's e-mail address; the controller becomes the account's financial admin.
    #[oai(validator(max_length = 254, pattern = "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"))]
    pub email: String,
    /// Whether the partner has verified the address (a JSON boolean). Defaults to false.
    #[oai(nullable)]
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
    #[oai(validator(min_length = 2, max_length = 45))]
    pub original_ip: String,
}

#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields, example)]
#[serde(deny_unknown_fields)]
pub struct AccountCreate {
    /// The id (a UUID) of one of your legal entities.
    #[oai(validator(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
    pub legal_entity_id: String,
    /// 1 to 255 characters.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub name: String,
    /// Up to 2000 characters.
    #[oai(nullable, validator(max_length = 2000))]
    pub description: Option<String>,
}

impl Example for LegalEntityCreate {
    fn example() -> Self {
        Self {
            country: "US".into(),
            controller: ControllerInput { email: "owner@corner-shop.example".into(), email_is_verified: Some(true) },
            terms_of_service: Some(TermsOfServiceInput { acceptance_time: 1_700_000_000, original_ip: "203.0.113.7".into() }),
        }
    }
}

impl Example for AccountCreate {
    fn example() -> Self {
        Self {
            legal_entity_id: "3f2c8a5e-1b7d-4e0a-9c61-2d5b7e8f9a10".into(),
            name: "Corner Shop".into(),
            description: Some("Coffee and cake".into()),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct LegalEntity {
    pub id: String,
    pub resource: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub controller: Controller,
    /// Present when the partner reported the acceptance.
    #[oai(skip_serializing_if_is_none)]
    pub terms_of_service: Option<TermsOfService>,
    /// Unix time (seconds, UTC).
    pub create_time: i64,
}

#[derive(Object, Debug, Clone)]
pub struct Controller {
    /// The controller's e-mail: a sign-in with this verified e-mail is the financial admin.
    pub email: String,
    pub email_is_verified: bool,
}

#[derive(Object, Debug, Clone)]
pub struct TermsOfService {
    /// Unix time (seconds).
    pub acceptance_time: i64,
    pub original_ip: String,
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct Account {
    pub id: String,
    pub resource: String,
    pub legal_entity_id: String,
    pub name: String,
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    /// Unix time (seconds, UTC).
    pub create_time: i64,
}

impl Example for LegalEntity {
    fn example() -> Self {
        Self {
            id: "3f2c8a5e-1b7d-4e0a-9c61-2d5b7e8f9a10".into(),
            resource: "legal_entities".into(),
            country: "US".into(),
            controller: Controller { email: "owner@corner-shop.example".into(), email_is_verified: true },
            terms_of_service: Some(TermsOfService { acceptance_time: 1_700_000_000, original_ip: "203.0.113.7".into() }),
            create_time: 1_795_393_642,
        }
    }
}

impl Example for Account {
    fn example() -> Self {
        Self {
            id: "b774001f-5c1e-4d2a-8f3b-6a9e0c7d1e25".into(),
            resource: "accounts".into(),
            legal_entity_id: "3f2c8a5e-1b7d-4e0a-9c61-2d5b7e8f9a10".into(),
            name: "Corner Shop".into(),
            description: Some("Coffee and cake".into()),
            create_time: 1_795_393_650,
        }
    }
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
