//! The `http` capability: a real blocking client (ureq, rustls) behind an egress policy. Only Meta's Graph hosts
//! are reachable, over https, with no redirects followed, bounded time and a capped response body. For tests,
//! `graph_url` sends Graph traffic to another base (loopback over plain http is allowed only there).

use anyhow::{Result, bail};
use http::Uri;
use std::time::Duration;

/// The hosts the component may reach.
pub const META_HOSTS: &[&str] = &["graph.facebook.com", "graph.instagram.com", "api.instagram.com"];

pub use messenger_core::ports::{HttpError, HttpRequest as Request, HttpResponse as Response, Method};

/// Where requests may go, and how long and large they may be.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    /// Sends Graph traffic here instead (e.g. `http://127.0.0.1:8080`), keeping path and query.
    pub graph_url: Option<Uri>,
    /// The longest any exchange may take, whatever the component asks.
    pub max_timeout: Duration,
    pub connect_timeout: Duration,
    pub max_response_bytes: u64,
    pub max_request_bytes: usize,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        Self {
            graph_url: None,
            max_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            max_response_bytes: 1 << 20,
            max_request_bytes: 1 << 20,
        }
    }
}

impl EgressPolicy {
    /// Sets the Graph override. Plain http is accepted only for a loopback address: tokens never cross a network
    /// in clear text.
    pub fn with_graph_url(mut self, url: &str) -> Result<Self> {
        self.graph_url = Some(override_url("--graph-url", url)?);
        Ok(self)
    }

    /// The Graph override's `scheme://host[:port]`, when one is set (safe to log: no credentials, path or query).
    pub fn graph_origin(&self) -> Option<String> {
        self.graph_url.as_ref().map(|uri| origin_of(&uri.to_string()))
    }

    /// The URL to really connect to, or why the request is refused.
    pub fn route(&self, url: &str) -> Result<String, HttpError> {
        if !url.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")) {
            return Err(HttpError::Denied("only https is allowed".into()));
        }
        let uri: Uri = url.parse().map_err(|_| HttpError::InvalidRequest("the URL does not parse".into()))?;
        let authority = uri.authority().ok_or_else(|| HttpError::InvalidRequest("the URL has no host".into()))?;
        if authority.as_str().contains('@') {
            return Err(HttpError::Denied("credentials in the URL are not allowed".into()));
        }
        let host = authority.host().to_ascii_lowercase();
        if !META_HOSTS.contains(&host.as_str()) || authority.port_u16().is_some_and(|p| p != 443) {
            return Err(HttpError::Denied(format!("{host} is not an allowed Graph host")));
        }
        let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
        Ok(match &self.graph_url {
            Some(base) => format!("{}{path_and_query}", base.to_string().trim_end_matches('/')),
            None => url.to_owned(),
        })
    }
}

/// A URL that replaces one of Meta's hosts (`flag` names it in the refusal): https, or plain http on loopback only.
pub fn override_url(flag: &str, url: &str) -> Result<Uri> {
    let uri: Uri = url.parse().map_err(|e| anyhow::anyhow!("{flag} {url:?} is not a URL: {e}"))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(uri),
        Some("http") if is_loopback(host) => Ok(uri),
        Some("http") => bail!("{flag} may use plain http only on loopback (127.0.0.1, ::1, localhost): {url:?}"),
        _ => bail!("{flag} must be an absolute http(s) URL: {url:?}"),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The client. Cheap to clone; connections are pooled inside, and clones share the log of denied requests.
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    policy: EgressPolicy,
    denied: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl HttpClient {
    pub fn new(policy: EgressPolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(policy.max_timeout))
            .timeout_connect(Some(policy.connect_timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            // The egress policy decides where traffic goes: no proxy from the environment.
            .proxy(None)
            .build();
        Self { agent: config.into(), policy, denied: Default::default() }
    }

    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// The requests the egress policy refused, as `<reason>: <scheme://host>` (never a path, query or token).
    pub fn denied(&self) -> Vec<String> {
        self.denied.lock().expect("denial log").clone()
    }

    pub fn send(&self, request: &Request) -> Result<Response, HttpError> {
        messenger_core::ports::Http::send(self, request)
    }
}

impl messenger_core::ports::Http for HttpClient {
    fn send(&self, request: &Request) -> Result<Response, HttpError> {
        let target = self.policy.route(&request.url).inspect_err(|error| {
            if let HttpError::Denied(why) = error {
                self.denied.lock().expect("denial log").push(format!("{why}: {}", origin_of(&request.url)));
            }
        })?;
        if request.body.len() > self.policy.max_request_bytes {
            return Err(HttpError::InvalidRequest(format!(
                "the request body is over {} bytes",
                self.policy.max_request_bytes
            )));
        }
        let method = match request.method {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Delete => http::Method::DELETE,
        };
        let mut builder = http::Request::builder().method(method).uri(target);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let wire = builder.body(request.body.clone()).map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
        let asked = request.timeout_ms.map(|ms| Duration::from_millis(ms.into()));
        let timeout = asked.map_or(self.policy.max_timeout, |t| t.min(self.policy.max_timeout));
        let wire = self.agent.configure_request(wire).timeout_global(Some(timeout)).build();
        let mut response = self.agent.run(wire).map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.policy.max_response_bytes)
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(Response { status, headers, body })
    }
}

/// `scheme://host[:port]` of a URL, without credentials, path or query: safe to log.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("//").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{scheme}//{}", authority.rsplit('@').next().unwrap_or(""))
}

fn transport_error(error: ureq::Error) -> HttpError {
    match error {
        ureq::Error::Timeout(_) => HttpError::Timeout,
        ureq::Error::BodyExceedsLimit(limit) => HttpError::TooLarge(limit),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => HttpError::Timeout,
        other => HttpError::Connection(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_meta_hosts_over_https_are_routed() {
        let policy = EgressPolicy::default();
        assert_eq!(
            policy.route("https://graph.facebook.com/v23.0/1?fields=name").unwrap(),
            "https://graph.facebook.com/v23.0/1?fields=name"
        );
        for denied in [
            "http://graph.facebook.com/x",
            "https://evil.example/x",
            "https://graph.facebook.com.evil.example/x",
            "https://user:pw@graph.facebook.com/x",
            "https://graph.facebook.com:8443/x",
            "https://127.0.0.1/x",
        ] {
            assert!(matches!(policy.route(denied), Err(HttpError::Denied(_))), "{denied}");
        }
    }

    #[test]
    fn logged_origins_carry_no_credentials_path_or_query() {
        assert_eq!(origin_of("https://user:pw@evil.example:8443/x?token=t"), "https://evil.example:8443");
        assert_eq!(origin_of("http://graph.facebook.com?access_token=t"), "http://graph.facebook.com");
    }

    #[test]
    fn graph_override_keeps_path_and_query() {
        let policy = EgressPolicy::default().with_graph_url("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            policy.route("https://graph.instagram.com/v23.0/42?fields=name").unwrap(),
            "http://127.0.0.1:9/v23.0/42?fields=name"
        );
        assert!(matches!(policy.route("https://evil.example/x"), Err(HttpError::Denied(_))));
    }

    #[test]
    fn plain_http_override_only_on_loopback() {
        assert!(EgressPolicy::default().with_graph_url("http://10.0.0.1:80").is_err());
        assert!(EgressPolicy::default().with_graph_url("http://localhost:80").is_ok());
        assert!(EgressPolicy::default().with_graph_url("http://[::1]:80").is_ok());
        assert!(EgressPolicy::default().with_graph_url("https://graph.example.net").is_ok());
        assert!(EgressPolicy::default().with_graph_url("ftp://127.0.0.1").is_err());
    }
}
