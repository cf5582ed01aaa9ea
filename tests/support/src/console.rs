//! A person at the console, for tests without a browser: a cookie jar and requests that do not follow redirects,
//! so each step's status, headers and page can be checked.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// One answer: its status, headers (names lowercased, every value) and body.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_else(|| panic!("no redirect ({}): {}", self.status, self.body))
    }

    /// The value of a hidden form field (the first one named so).
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start =
            self.body.find(&marker).unwrap_or_else(|| panic!("no field {name} in {}", self.body)) + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

/// A browser-like client of one server: keeps the cookies it is given, sends them back.
pub struct Person {
    addr: SocketAddr,
    agent: ureq::Agent,
    pub cookies: BTreeMap<String, String>,
    /// Sent as `Accept-Language`.
    pub language: Option<&'static str>,
}

impl Person {
    /// A person with no cookie yet, at the server on `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
        Self { addr, agent, cookies: BTreeMap::new(), language: None }
    }

    /// GETs `target` (a path on the server, or an absolute URL).
    pub fn get(&mut self, target: &str) -> Page {
        self.send("GET", target, &[], None)
    }

    /// POSTs a form (`name`, `value` pairs, encoded here).
    pub fn post(&mut self, target: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(n, v)| format!("{n}={}", messenger_core::accounts::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send("POST", target, &[("content-type", "application/x-www-form-urlencoded")], Some(body))
    }

    /// Any request, with extra headers.
    pub fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: Option<String>) -> Page {
        let url = if target.starts_with("http") { target.to_owned() } else { format!("http://{}{target}", self.addr) };
        let url = url.split('#').next().unwrap().to_owned();
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if !self.cookies.is_empty() {
            let jar = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
            request = request.header("cookie", jar);
        }
        if let Some(language) = self.language {
            request = request.header("accept-language", language);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = self.agent.run(request.body(body.unwrap_or_default().into_bytes()).unwrap()).unwrap();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        for (_, cookie) in headers.iter().filter(|(n, _)| n == "set-cookie") {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        Page { status, headers, body: response.body_mut().read_to_string().unwrap_or_default() }
    }

    /// Signs in with `key` through the form; the answer to the form's post.
    pub fn sign_in(&mut self, key: &str) -> Page {
        let form = self.get("/login");
        let csrf = form.field("csrf");
        self.post("/login", &[("csrf", &csrf), ("key", key)])
    }
}
