//! A partner's client of the Onboarding and Partner APIs: the three headers set once, and
//! the calls tests and benchmarks make to get an account and an IdM in place.

use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone)]
pub struct PartnerApi {
    pub http: reqwest::Client,
    /// `http://host:port`
    pub base: String,
    pub app_id: String,
    pub app_token: String,
}

impl PartnerApi {
    pub fn new(base: &str, app_id: &str, app_token: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, base: base.to_owned(), app_id: app_id.to_owned(), app_token: app_token.to_owned() }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("App-Id", &self.app_id)
            .header("App-Token", &self.app_token)
            .header("Api-Version", "3.0")
    }

    /// POST or PUT `body`; the answer, which must have `status`.
    pub async fn send(&self, method: Method, path: &str, body: &Value, status: u16) -> Value {
        let resp = self.request(method.clone(), path).json(body).send().await.unwrap();
        let got = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A legal entity whose verified controller is `controller`; its id.
    pub async fn legal_entity(&self, controller: &str) -> String {
        let body = json!({"country": "US", "controller": {"email": controller, "email_is_verified": true}});
        self.send(Method::POST, "/legal_entities", &body, 201).await["id"].as_str().unwrap().to_owned()
    }

    /// An account named `name` (a coffee shop) under a new legal entity of `controller`;
    /// its id.
    pub async fn account(&self, controller: &str, name: &str) -> String {
        let legal_entity = self.legal_entity(controller).await;
        let body = json!({"legal_entity_id": legal_entity, "name": name, "description": "Coffee and pastries"});
        self.send(Method::POST, "/accounts", &body, 201).await["id"].as_str().unwrap().to_owned()
    }

    /// PUT /partner/idm; the stored view.
    pub async fn configure_idm(&self, config: &Value) -> Value {
        self.send(Method::PUT, "/partner/idm", config, 200).await
    }
}
