//! `causeway serve` as a process: one structured line per request, never a secret.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cli::causeway_json;
use crate::helpers::*;

#[tokio::test]
async fn served_requests_are_logged_without_tokens() {
    let db = TestDatabase::new().await;
    let created = causeway_json(&db.url, &["app", "create", "--name", "Logged", "--json"]);
    let who = Credentials { app_id: created["app_id"].as_str().unwrap().into(), app_token: created["app_token"].as_str().unwrap().into() };

    let mut command = crate::support::serve::command(&db.url);
    command
        .env("CAUSEWAY_LOG_FORMAT", "json")
        .env("CAUSEWAY_LOG", "debug")
        .env("CAUSEWAY_ALLOW_INSECURE_IDM", "true")
        .envs(db.env.iter().cloned())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut serving = crate::support::serve::Serving::start(command).await;
    let addr = serving.base.trim_start_matches("http://").to_owned();
    let child = &mut serving.child;
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut reader = BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = lines.clone();
    let reader_task = tokio::spawn(async move {
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    let client = reqwest::Client::new();
    let post = |who: &Credentials| {
        client
            .post(format!("http://{addr}/legal_entities"))
            .header("App-Id", &who.app_id)
            .header("App-Token", &who.app_token)
            .header("Api-Version", "3.0")
            .json(&legal_entity_body())
            .send()
    };
    assert_eq!(post(&who).await.unwrap().status(), StatusCode::CREATED);
    let wrong = Credentials { app_id: who.app_id.clone(), app_token: format!("{}x", who.app_token) };
    assert_eq!(post(&wrong).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let client_secret = "CLIENT_SECRET_VALUE_0123456789";
    let resp = client
        .put(format!("http://{addr}/partner/idm"))
        .header("App-Id", &who.app_id)
        .header("App-Token", &who.app_token)
        .header("Api-Version", "3.0")
        .json(&crate::partner_idm::idm_body(Some(client_secret)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A hosted-login service key, saved and then sent by the live check (to a port where
    // nothing listens): at debug level, neither the save nor the failed call logs it.
    let service_key = "SERVICE_KEY_VALUE_0123456789";
    let hosted = serde_json::json!({"kind": "hosted_login", "base_url": "http://127.0.0.1:9", "site_key": "causeway", "service_key": service_key,
        "user_id_field": "wesb_user_id", "logout_url": "https://partner.example/bye"});
    for (method, path, body) in [(reqwest::Method::PUT, "/partner/idm", Some(hosted)), (reqwest::Method::POST, "/partner/idm/test", None)] {
        let mut request = client.request(method, format!("http://{addr}{path}")).header("App-Id", &who.app_id).header("App-Token", &who.app_token).header("Api-Version", "3.0");
        if let Some(body) = body {
            request = request.json(&body);
        }
        assert_eq!(request.send().await.unwrap().status(), StatusCode::OK, "{path}");
    }
    let resp = client.get(format!("http://{addr}/healthz?code=SECRET_CODE_VALUE")).send().await.unwrap();
    let correlation = resp.headers()["x-correlation-id"].to_str().unwrap().to_owned();

    // Close our idle connections so graceful shutdown has nothing to wait for, stop the
    // server with SIGTERM, and read its log to the end.
    drop(client);
    let _ = std::process::Command::new("kill").arg(child.id().unwrap().to_string()).status();
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), reader_task).await;

    let log = lines.lock().unwrap().join("\n");
    let requests: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 6, "one line per request:\n{log}");
    assert!(requests.iter().any(|r| r["span"]["correlation_id"] == correlation.as_str() && r["path"] == "/healthz"));
    assert!(requests.iter().any(|r| r["status"] == 401));
    for secret in [who.app_token.as_str(), wrong.app_token.as_str(), client_secret, service_key, "SECRET_CODE_VALUE"] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    // The token's random part, in case it were logged in pieces or after a prefix.
    assert!(!log.contains(&who.app_token[12..]));
    assert!(log.contains("\"message\":\"stopped\""), "graceful shutdown:\n{log}");
}
