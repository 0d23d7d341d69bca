//! The one outbound HTTP client for partner IdMs: connect and total timeouts, no
//! redirects, a response-size cap, a clear user agent, and an address guard that runs
//! at connect time (so a DNS answer that changes after validation cannot reach
//! loopback, private or metadata addresses).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::domain::urls::{is_public, UrlPolicy};

pub const USER_AGENT: &str = concat!("Causeway/", env!("CARGO_PKG_VERSION"), " (+federation broker; partner IdM client)");

/// Documents Causeway fetches from an IdM (discovery, JWKS) are small; anything larger
/// is refused rather than buffered.
pub const DOCUMENT_CAP_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The address stays out of the message, which partners read: what an internal name
    /// resolves to would map the operator's network for them. It is logged instead.
    #[error("the host name {host} resolves to an internal address, which Causeway does not call")]
    ForbiddenAddress { host: String, addr: String },
    #[error("the host name {0} does not resolve")]
    Unresolvable(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the server answered with a redirect (HTTP {0}); Causeway does not follow redirects")]
    Redirect(u16),
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the response is not valid JSON: {0}")]
    NotJson(String),
    #[error("request failed: {0}")]
    Other(String),
}

#[derive(Clone)]
pub struct OutboundClient {
    client: reqwest::Client,
    policy: UrlPolicy,
    timeout: Duration,
}

/// Resolves through the system resolver, then refuses the whole answer if any address
/// is internal (an attacker controlling DNS could otherwise mix in a private address).
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| FetchError::Unresolvable(host.clone()))?
                .collect();
            if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                tracing::warn!(host = %host, address = %bad.ip(), "an IdM host name resolves to an internal address; not called");
                return Err(Box::new(FetchError::ForbiddenAddress { host, addr: bad.ip().to_string() }) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl OutboundClient {
    pub fn new(policy: UrlPolicy, timeout: Duration) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            // HTTP(S)_PROXY / ALL_PROXY would send requests through a proxy that resolves
            // the host itself, around the address guard: partner IdMs are called directly.
            .no_proxy()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60));
        if policy == UrlPolicy::Strict {
            builder = builder.dns_resolver(Arc::new(GuardedResolver)).https_only(true);
        }
        Ok(Self { client: builder.build()?, policy, timeout })
    }

    /// Whether plain http and internal addresses are allowed (tests, demo).
    pub fn policy(&self) -> UrlPolicy {
        self.policy
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Refuses address-literal URLs pointing inside (names are checked by the resolver).
    fn guard(&self, url: &Url) -> Result<(), FetchError> {
        if self.policy == UrlPolicy::AllowInsecure {
            return Ok(());
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        match ip {
            Some(ip) if !is_public(ip) => Err(FetchError::ForbiddenAddress { host: url.host_str().unwrap_or_default().into(), addr: ip.to_string() }),
            _ => Ok(()),
        }
    }

    /// GETs a JSON document of at most `cap` bytes.
    pub async fn get_json(&self, url: &Url, cap: usize) -> Result<serde_json::Value, FetchError> {
        self.get_json_as(url, None, cap).await
    }

    /// GETs a JSON document with the `Authorization: Bearer` credential (RFC 6750 §2.1),
    /// as userinfo wants it.
    pub async fn get_json_as(&self, url: &Url, bearer: Option<&str>, cap: usize) -> Result<serde_json::Value, FetchError> {
        self.guard(url)?;
        let mut request = self.client.get(url.clone()).header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| self.classify(e))?;
        let body = self.read_capped(response, cap).await?;
        serde_json::from_slice(&body).map_err(|e| FetchError::NotJson(e.to_string()))
    }

    /// POSTs a form (the token endpoint) and returns the status and the body, whatever
    /// the status: OAuth errors arrive as 400 with a JSON body worth reading.
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic_auth: Option<(&str, &str)>,
        cap: usize,
    ) -> Result<(u16, Vec<u8>), FetchError> {
        self.guard(url)?;
        let mut request = self.client.post(url.clone()).header(reqwest::header::ACCEPT, "application/json").form(form);
        if let Some((user, password)) = basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        self.answer(request, cap).await
    }

    /// POSTs a JSON body with extra `headers` (the hosted-login exchange and its service
    /// key) and returns the status and the body, whatever the status.
    pub async fn post_json(&self, url: &Url, headers: &[(&str, &str)], body: &serde_json::Value, cap: usize) -> Result<(u16, Vec<u8>), FetchError> {
        self.guard(url)?;
        let mut request = self.client.post(url.clone()).header(reqwest::header::ACCEPT, "application/json").json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.answer(request, cap).await
    }

    /// GETs `url` and returns the status, whatever it is (a page's answer, not a document).
    pub async fn probe(&self, url: &Url) -> Result<u16, FetchError> {
        self.guard(url)?;
        let response = self.client.get(url.clone()).send().await.map_err(|e| self.classify(e))?;
        Ok(response.status().as_u16())
    }

    async fn answer(&self, request: reqwest::RequestBuilder, cap: usize) -> Result<(u16, Vec<u8>), FetchError> {
        let mut response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            return Err(FetchError::Redirect(status));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    /// Reads a successful response's body, refusing it past `cap` bytes.
    pub async fn read_capped(&self, mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, FetchError> {
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect(status.as_u16()));
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response.content_length().is_some_and(|len| len > cap as u64) {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn classify(&self, err: reqwest::Error) -> FetchError {
        if err.is_timeout() {
            return FetchError::Timeout(self.timeout);
        }
        // The resolver's own error travels inside reqwest's source chain.
        let mut source: Option<&dyn std::error::Error> = Some(&err);
        while let Some(cause) = source {
            if let Some(fetch) = cause.downcast_ref::<FetchError>() {
                return match fetch {
                    FetchError::ForbiddenAddress { host, addr } => FetchError::ForbiddenAddress { host: host.clone(), addr: addr.clone() },
                    FetchError::Unresolvable(host) => FetchError::Unresolvable(host.clone()),
                    other => FetchError::Other(other.to_string()),
                };
            }
            source = cause.source();
        }
        if err.is_connect() {
            return FetchError::Connect(root_cause(&err));
        }
        FetchError::Other(root_cause(&err))
    }
}

fn root_cause(err: &dyn std::error::Error) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Resolves a host name now, for validation before a configuration is stored. A name
/// that does not resolve (yet) is accepted; one that resolves inside is refused.
pub async fn check_host(host: &str) -> Result<(), FetchError> {
    let Ok(addrs) = tokio::net::lookup_host((host, 0)).await else { return Ok(()) };
    for addr in addrs {
        if !is_public(addr.ip()) {
            return Err(FetchError::ForbiddenAddress { host: host.into(), addr: addr.ip().to_string() });
        }
    }
    Ok(())
}
