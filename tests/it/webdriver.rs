//! The few W3C WebDriver commands the browser tests use (W3C WebDriver, §8–§17), over the
//! reqwest client Causeway has anyway: a full WebDriver crate brought a dependency tree of
//! its own that made every build after a test build recompile much of the tree.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// The key of an element reference in W3C WebDriver answers (§12.1).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Clone, Copy)]
pub enum Locator<'a> {
    Css(&'a str),
}

impl Locator<'_> {
    fn body(&self) -> Value {
        match self {
            Self::Css(css) => json!({"using": "css selector", "value": css}),
        }
    }
}

/// A browser session.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `{driver}/session/{id}`.
    session: String,
}

pub struct Element {
    client: Client,
    id: String,
}

impl Client {
    /// Opens a session with these `capabilities` (§8.1 New Session).
    pub async fn connect(driver: &str, capabilities: Value) -> Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(|e| Error(e.to_string()))?;
        let answer = call(&http, reqwest::Method::POST, &format!("{driver}/session"), Some(json!({"capabilities": {"alwaysMatch": capabilities}}))).await?;
        let id = answer["sessionId"].as_str().ok_or_else(|| Error(format!("no session id in {answer}")))?;
        Ok(Self { http, session: format!("{driver}/session/{id}") })
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        call(&self.http, method, &format!("{}{path}", self.session), body).await
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await.map(drop)
    }

    pub async fn current_url(&self) -> Result<url::Url> {
        let value = self.command(reqwest::Method::GET, "/url", None).await?;
        url::Url::parse(value.as_str().unwrap_or_default()).map_err(|e| Error(e.to_string()))
    }

    pub async fn find(&self, locator: Locator<'_>) -> Result<Element> {
        let value = self.command(reqwest::Method::POST, "/element", Some(locator.body())).await?;
        Ok(self.element(&value))
    }

    pub async fn find_all(&self, locator: Locator<'_>) -> Result<Vec<Element>> {
        let value = self.command(reqwest::Method::POST, "/elements", Some(locator.body())).await?;
        Ok(value.as_array().into_iter().flatten().map(|v| self.element(v)).collect())
    }

    fn element(&self, reference: &Value) -> Element {
        Element { client: self.clone(), id: reference[ELEMENT_KEY].as_str().unwrap_or_default().to_owned() }
    }

    /// Waits up to 15 s for an element `locator` finds.
    pub async fn wait_for(&self, locator: Locator<'_>) -> Result<Element> {
        let started = Instant::now();
        loop {
            match self.find(locator).await {
                Ok(element) => return Ok(element),
                Err(err) if started.elapsed() > Duration::from_secs(15) => return Err(err),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.command(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
    }

    /// Waits until the page has laid out and painted what changed: two animation frames.
    pub async fn settle(&self) -> Result<()> {
        let script = "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
        self.command(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": []}))).await.map(drop)
    }

    pub async fn source(&self) -> Result<String> {
        Ok(self.command(reqwest::Method::GET, "/source", None).await?.as_str().unwrap_or_default().to_owned())
    }

    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.command(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": height}))).await.map(drop)
    }

    /// The viewport as PNG (§17.1).
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let value = self.command(reqwest::Method::GET, "/screenshot", None).await?;
        base64::engine::general_purpose::STANDARD.decode(value.as_str().unwrap_or_default()).map_err(|e| Error(e.to_string()))
    }

    /// Ends the session and with it the browser.
    pub async fn close(&self) -> Result<()> {
        self.command(reqwest::Method::DELETE, "", None).await.map(drop)
    }
}

impl Element {
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.client.command(method, &format!("/element/{}{path}", self.id), body).await
    }

    pub async fn click(&self) -> Result<()> {
        self.command(reqwest::Method::POST, "/click", Some(json!({}))).await.map(drop)
    }

    pub async fn clear(&self) -> Result<()> {
        self.command(reqwest::Method::POST, "/clear", Some(json!({}))).await.map(drop)
    }

    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.command(reqwest::Method::POST, "/value", Some(json!({"text": text}))).await.map(drop)
    }

    pub async fn text(&self) -> Result<String> {
        Ok(self.command(reqwest::Method::GET, "/text", None).await?.as_str().unwrap_or_default().to_owned())
    }

    pub async fn tag_name(&self) -> Result<String> {
        Ok(self.command(reqwest::Method::GET, "/name", None).await?.as_str().unwrap_or_default().to_owned())
    }

    pub async fn css_value(&self, property: &str) -> Result<String> {
        Ok(self.command(reqwest::Method::GET, &format!("/css/{property}"), None).await?.as_str().unwrap_or_default().to_owned())
    }

    pub async fn is_displayed(&self) -> Result<bool> {
        Ok(self.command(reqwest::Method::GET, "/displayed", None).await?.as_bool().unwrap_or(false))
    }
}

/// One command: its answer's `value`, or the WebDriver error it names (§6.6).
async fn call(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> Result<Value> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| Error(format!("{url}: {e}")))?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|e| Error(format!("{url}: {e}")))?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        Ok(value)
    } else {
        Err(Error(format!("{}: {}", value["error"].as_str().unwrap_or("error"), value["message"].as_str().unwrap_or_default())))
    }
}
