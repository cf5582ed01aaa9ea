//! Meta's side of linking from a browser, on loopback: a Graph API that speaks both logins (code exchanges, the
//! Pages listing with their Instagram accounts, `/me`, `subscribed_apps`), and a login dialog that sends the browser
//! back with a code or a cancel, as `--dialog-url` expects.

use crate::{FakeGraph, Loopback, Seen};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// An Instagram professional account a login reaches: through a Facebook Page (Facebook Login) or itself.
#[derive(Debug, Clone)]
pub struct FakeAccount {
    pub page_id: &'static str,
    pub account_id: &'static str,
    pub username: &'static str,
}

/// The ids Meta gives the person who logs in: what its deauthorize and data deletion callbacks name.
pub const FACEBOOK_PERSON: &str = "5550001";
pub const INSTAGRAM_PERSON: &str = "5550002";

/// What each code reaches: a Facebook Login code the Pages listed, an Instagram Login code its one account
/// (codes starting `ig-`). `refused` accounts have their webhook subscription refused (a permission error).
#[derive(Debug, Clone, Default)]
pub struct MetaLogins {
    pub codes: Vec<(&'static str, Vec<FakeAccount>)>,
    pub refused: Vec<&'static str>,
}

impl MetaLogins {
    /// The accounts `code` reaches, if it is one of the logins'.
    fn reached(&self, code: &str) -> Option<&Vec<FakeAccount>> {
        self.codes.iter().find(|(c, _)| *c == code).map(|(_, accounts)| accounts)
    }

    /// Answers one Graph request as Meta would. Tokens name their code (`fb-long-<code>`, `page-<account>`,
    /// `ig-long-<code>`), so each later call finds what the login reached.
    pub fn answer(&self, seen: &Seen) -> (u16, String) {
        let bearer = seen.authorization.as_deref().unwrap_or("").trim_start_matches("Bearer ");
        let query = |name: &str| query_value(&seen.url, name);
        let ok = |value: Value| (200, value.to_string());
        let path = seen.url.split('?').next().unwrap_or("");
        match (seen.method.as_str(), path) {
            ("GET", "/v23.0/oauth/access_token") => match (query("code"), query("fb_exchange_token")) {
                (Some(code), _) if self.reached(&code).is_some() => ok(json!({"access_token": format!("fb-short-{code}")})),
                (_, Some(short)) if short.starts_with("fb-short-") => {
                    let code = &short["fb-short-".len()..];
                    ok(json!({"access_token": format!("fb-long-{code}"), "token_type": "bearer", "expires_in": 5_184_000}))
                }
                _ => refusal(100, "Invalid verification code format."),
            },
            ("GET", "/v23.0/me") if bearer.starts_with("fb-long-") => ok(json!({"id": FACEBOOK_PERSON})),
            ("GET", "/v23.0/me/accounts") => match bearer.strip_prefix("fb-long-").and_then(|code| self.reached(code)) {
                Some(accounts) => ok(json!({"data": accounts.iter().map(|a| json!({
                    "id": a.page_id, "access_token": format!("page-{}", a.account_id),
                    "instagram_business_account": {"id": a.account_id, "username": a.username}})).collect::<Vec<_>>()})),
                None => refusal(190, "Invalid OAuth access token."),
            },
            ("POST", "/oauth/access_token") => match form_value(&seen.body, "code").filter(|c| self.reached(c).is_some()) {
                Some(code) => ok(json!({"access_token": format!("ig-short-{code}"), "user_id": INSTAGRAM_PERSON.parse::<u64>().unwrap()})),
                None => (400, json!({"error_type": "OAuthException", "code": 400, "error_message": "Matching code was not found or was already used"}).to_string()),
            },
            ("GET", "/access_token") if bearer.starts_with("ig-short-") => {
                ok(json!({"access_token": format!("ig-long-{}", &bearer["ig-short-".len()..]), "expires_in": 5_184_000}))
            }
            ("GET", "/v23.0/me") => match bearer.strip_prefix("ig-long-").and_then(|code| self.reached(code)) {
                Some(accounts) => ok(json!({"user_id": accounts[0].account_id, "username": accounts[0].username, "id": "17000000000000009"})),
                None => refusal(190, "Invalid OAuth access token."),
            },
            ("POST", subscribe) if subscribe.ends_with("/subscribed_apps") => {
                let account = bearer.strip_prefix("page-").map(str::to_owned).or_else(|| {
                    let code = bearer.strip_prefix("ig-long-")?;
                    Some(self.reached(code)?[0].account_id.to_owned())
                });
                match account {
                    Some(account) if self.refused.contains(&account.as_str()) => {
                        refusal(200, "(#200) Requires pages_manage_metadata permission to manage the object")
                    }
                    Some(_) => ok(json!({"success": true})),
                    None => refusal(190, "Invalid OAuth access token."),
                }
            }
            _ => (404, json!({"error": {"message": "no such object", "type": "GraphMethodException", "code": 100}}).to_string()),
        }
    }
}

/// A Graph error answer.
fn refusal(code: u16, message: &str) -> (u16, String) {
    (400, json!({"error": {"message": message, "type": "OAuthException", "code": code}}).to_string())
}

/// A query parameter's raw value (the fakes' values need no decoding but `%23`, `%2F` and `%3A`).
pub fn query_value(url: &str, name: &str) -> Option<String> {
    form_value(url.split_once('?')?.1, name)
}

/// A form field's value, with the few escapes the fakes meet decoded.
pub fn form_value(form: &str, name: &str) -> Option<String> {
    let raw = form.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?;
    Some(raw.replace("%3A", ":").replace("%2F", "/").replace("%23", "#").replace("%2C", ","))
}

/// A Graph API answering as `logins` says; change them with `set`.
pub struct MetaGraph {
    pub graph: FakeGraph,
    logins: Arc<Mutex<MetaLogins>>,
}

impl MetaGraph {
    /// A fake Graph answering as `logins` say.
    pub fn start(logins: MetaLogins) -> Self {
        let logins = Arc::new(Mutex::new(logins));
        let answering = logins.clone();
        let graph = FakeGraph::start(move |seen| answering.lock().unwrap().answer(seen));
        Self { graph, logins }
    }

    /// Changes what the logins reach from now on.
    pub fn set(&self, logins: MetaLogins) {
        *self.logins.lock().unwrap() = logins;
    }

    /// The Graph requests so far, as `METHOD path` (no query, so no secret).
    pub fn calls(&self) -> Vec<String> {
        self.graph
            .requests()
            .iter()
            .map(|s| format!("{} {}", s.method, s.url.split('?').next().unwrap_or("")))
            .collect()
    }
}

/// What the fake dialog does with the next person it sees.
#[derive(Debug, Clone)]
pub enum DialogAnswer {
    /// Sends them back with this code.
    Code(&'static str),
    /// Sends them back as a person who pressed Cancel.
    Cancel,
}

/// Meta's login dialog on loopback: every request is recorded and answered with a redirect to `redirect_uri`,
/// carrying the request's `state` and the answer set with `answer`. Stops when dropped.
pub struct FakeDialog {
    seen: Arc<Mutex<Vec<String>>>,
    answer: Arc<Mutex<DialogAnswer>>,
    server: Loopback,
}

impl FakeDialog {
    /// A dialog that sends people back to `redirect_uri` (Cancel until told otherwise).
    pub fn start(redirect_uri: &str) -> Self {
        let (seen, answer) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(DialogAnswer::Cancel)));
        let (log, next, back) = (seen.clone(), answer.clone(), redirect_uri.to_owned());
        let server = Loopback::serve(move |request| {
            let url = request.url().to_owned();
            log.lock().unwrap().push(url.clone());
            let state = query_value(&url, "state").unwrap_or_default();
            let location = match &*next.lock().unwrap() {
                DialogAnswer::Code(code) => format!("{back}?code={code}&state={state}#_=_"),
                DialogAnswer::Cancel => format!(
                    "{back}?error_reason=user_denied&error=access_denied&error_description=Permissions+error&state={state}#_=_"
                ),
            };
            let header = tiny_http::Header::from_bytes("location", location).unwrap();
            let _ = request.respond(tiny_http::Response::empty(302).with_header(header));
        });
        Self { seen, answer, server }
    }

    /// What it does with the next person.
    pub fn answer(&self, answer: DialogAnswer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// The dialog URLs it was sent to, path and query.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// A `signed_request` for `user_id` under the fixtures' app secret, as Meta's callbacks post it.
pub fn signed_request(user_id: &str) -> String {
    let payload = json!({"algorithm": "HMAC-SHA256", "issued_at": 1_794_477_600u64, "user_id": user_id});
    messenger_core::signed_request::sign(crate::APP_SECRET.as_bytes(), &payload)
}

/// Stores a link for `account` in the default channel, as linking would (`linked_days_ago` days ago, expiring in
/// `days_left` days, authorized by `person`), and makes `accounts` the channel's selection.
pub fn provision_links(database: &messenger_harness::Database, links: &[(&str, u64, u64, &str)], accounts: &[&str]) {
    const DAY: u64 = 86_400_000;
    let namespace = messenger_harness::Namespace::new("instagram", "default").unwrap();
    let now = messenger_harness::now_ms();
    for (account, linked_days_ago, days_left, person) in links {
        let record = json!({"linked_at": now - linked_days_ago * DAY, "token_expires_at": now + days_left * DAY,
            "username": format!("shop_{account}"), "instagram_login": false, "authorized_by": [person]});
        let key = messenger_core::keys::link_record(account);
        database.provision(namespace.clone(), &key, record.to_string().as_bytes()).unwrap();
    }
    let selection = json!(accounts).to_string();
    database.provision(namespace, messenger_core::keys::CHANNEL_ACCOUNTS, selection.as_bytes()).unwrap();
}
