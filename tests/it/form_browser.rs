//! A minimal browser for driving an IdM's HTML login pages over plain HTTP: keeps
//! cookies by name, follows redirects by hand, submits forms with their hidden inputs.

use std::collections::BTreeMap;

use reqwest::StatusCode;

pub struct FormBrowser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

/// Decodes the few entities HTML attribute values use.
fn unescape(value: &str) -> String {
    value.replace("&amp;", "&").replace("&quot;", "\"").replace("&#x2F;", "/").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + end]))
}

/// The first form's action and its input fields (name, value).
/// The value of the first `csrf_token` field of a page.
pub fn csrf(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no csrf token: {html}"));
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

pub fn first_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let form_start = html.find("<form")?;
    let form_end = html[form_start..].find("</form>").map(|e| form_start + e).unwrap_or(html.len());
    let form = &html[form_start..form_end];
    let open_tag = &form[..form.find('>')?];
    let action = attribute(open_tag, "action")?;
    let inputs = form
        .match_indices("<input")
        .filter_map(|(i, _)| {
            let tag = &form[i..i + form[i..].find('>')?];
            Some((attribute(tag, "name")?, attribute(tag, "value").unwrap_or_default()))
        })
        .collect();
    Some((action, inputs))
}

impl FormBrowser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, cookies: BTreeMap::new() }
    }

    fn remember(&mut self, resp: &reqwest::Response) {
        for value in resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            if let Some((name, rest)) = value.split_once('=') {
                let val = rest.split(';').next().unwrap_or_default();
                if val.is_empty() || value.to_ascii_lowercase().contains("max-age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), val.to_owned());
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (StatusCode, Option<String>, String) {
        let resp = req.header("Cookie", self.cookie_header()).send().await.unwrap();
        self.remember(&resp);
        let status = resp.status();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (status, location, resp.text().await.unwrap_or_default())
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.get(name).cloned()
    }

    /// One GET with the browser's cookies, no redirect followed.
    pub async fn get(&mut self, url: &str) -> (StatusCode, Option<String>, String) {
        let req = self.http.get(url);
        self.send(req).await
    }

    /// One form POST with the browser's cookies, no redirect followed.
    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> (StatusCode, Option<String>, String) {
        let req = self.http.post(url).form(form);
        self.send(req).await
    }

    /// Follows redirects and fills forms (`fill` supplies login fields) from `start` until
    /// a redirect leads to a URL starting with `stop_at`; returns that URL.
    pub async fn run_until(&mut self, start: &str, stop_at: &str, fill: &[(&str, &str)]) -> url::Url {
        let mut next = url::Url::parse(start).unwrap();
        let mut pending_post: Option<Vec<(String, String)>> = None;
        for _ in 0..20 {
            let (status, location, body) = match pending_post.take() {
                Some(form) => self.send(self.http.post(next.clone()).form(&form)).await,
                None => self.send(self.http.get(next.clone())).await,
            };
            if let Some(location) = location.filter(|_| status.is_redirection()) {
                let target = next.join(&location).unwrap();
                if target.as_str().starts_with(stop_at) {
                    return target;
                }
                next = target;
                continue;
            }
            let (action, mut fields) = first_form(&body).unwrap_or_else(|| panic!("no form and no redirect at {next} ({status}): {body}"));
            let has_login = fields.iter().any(|(n, _)| n == "login");
            if has_login {
                fields.retain(|(n, _)| !fill.iter().any(|(f, _)| f == n));
                fields.extend(fill.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            }
            next = next.join(&action).unwrap();
            pending_post = Some(fields);
        }
        panic!("no redirect to {stop_at} after 20 steps");
    }
}

#[test]
fn forms_are_read_with_their_hidden_inputs() {
    let html = r#"<form autocomplete="off" action="/interaction/abc" method="post"><input type="hidden" name="prompt" value="login"/>
        <input required type="text" name="login" placeholder="x"><input type="password" name="password"></form>"#;
    let (action, fields) = first_form(html).unwrap();
    assert_eq!(action, "/interaction/abc");
    assert_eq!(fields[0], ("prompt".to_string(), "login".to_string()));
    assert_eq!(fields[1].0, "login");
}
