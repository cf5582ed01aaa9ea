//! The console in a real browser: Debian's chromium, driven through chromium-driver (WebDriver), against the fake
//! Meta dialog and Graph on loopback. A person signs in; links two accounts with Facebook Login; sees them active;
//! adds a third while unselecting one and sees the warning before confirming; marks one representative; switches
//! a filter; and re-authorizes an account that Meta's deauthorize callback broke, which keeps its data. Every page is
//! saved as a screenshot under the target folder (`screenshots/`), and any error in the browser's console (a script
//! or style the Content-Security-Policy blocked, a missing resource) fails the test.
//!
//! Without chromium and chromium-driver the test is skipped with a message, unless `CI` is set: then it fails.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use messenger_harness::{ConsoleConfig, Database, ServeConfig, serve as spawn};
use messenger_test_support::meta::{self, DialogAnswer, FakeAccount, FakeDialog, MetaGraph, MetaLogins};
use messenger_test_support::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The accounts the fake logins reach, each through its Page.
const A: FakeAccount = FakeAccount { page_id: "1001", account_id: "17841400000000001", username: "shop_a" };
const B: FakeAccount = FakeAccount { page_id: "1002", account_id: "17841400000000002", username: "shop_b" };
const C: FakeAccount = FakeAccount { page_id: "1003", account_id: "17841400000000003", username: "shop_c" };

/// The two programs the test drives, when both are installed.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let find = |name: &str| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
    };
    Some((find("chromium")?, find("chromedriver")?))
}

/// Whether this runs in CI, where a missing browser is a failure, not a skip.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// chromium-driver on a loopback port; killed (by its own pid) when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts chromedriver and waits until it answers.
    fn start(chromedriver: &PathBuf) -> Self {
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(format!("http://127.0.0.1:{port}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver's browser log (`POST /session/{id}/se/log`): what the page wrote to its console.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

/// The browser, with the folder its screenshots go to.
struct Browser {
    client: Client,
    shots: PathBuf,
    base: String,
}

impl Browser {
    /// A headless chromium session at the server on `base`, logging its console.
    async fn open(driver: &Driver, chromium: &PathBuf, base: String) -> Self {
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,900",
                         "--lang=en-US", "--no-first-run", "--disable-extensions"],
                "prefs": {"intl.accept_languages": "en-US"},
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a chromium session");
        // Beside the build's other output: <target>/screenshots (the test binary is <target>/debug/deps/...).
        let exe = std::env::current_exe().unwrap();
        let shots = exe.ancestors().nth(3).unwrap().join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Self { client, shots, base }
    }

    /// Opens a path of the server.
    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Clicks what stays on the page (a checkbox).
    async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
    }

    /// Clicks a link or a form's button, and waits until the page it leads to has replaced this one.
    async fn follow(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        element.clone().click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while element.tag_name().await.is_ok() {
            assert!(Instant::now() < deadline, "{css} led nowhere");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The text of the element `css` selects.
    async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
    }

    /// Whether the page has an element `css` selects.
    async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    /// The path of the page shown.
    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Saves the page as `<name>.png`, after checking the browser's console holds no error.
    async fn shot(&self, name: &str) {
        let entries = self.client.issue_cmd(BrowserLog).await.expect("the browser's log");
        let errors: Vec<&Value> =
            entries.as_array().into_iter().flatten().filter(|entry| entry["level"] == "SEVERE").collect();
        assert!(errors.is_empty(), "the browser's console has errors on {name}: {errors:?}");
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }
}

#[test]
fn a_person_links_selects_marks_switches_and_re_authorizes_in_a_browser() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        assert!(!in_ci(), "CI needs chromium and chromium-driver: apt-get install -y chromium chromium-driver");
        eprintln!(
            "skipped: chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)"
        );
        return;
    };
    let started = Instant::now();
    let meta = MetaGraph::start(MetaLogins {
        codes: vec![("fb-ab", vec![A, B]), ("fb-abc", vec![A, B, C]), ("fb-bc", vec![B, C])],
        refused: vec![],
    });
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let dialog = FakeDialog::start(&format!("{base}/connect/callback"));
    let console = ConsoleConfig {
        app_id: Some("1234".into()),
        public_url: Some(base.clone()),
        // Another site than the console's (localhost, not 127.0.0.1): the way back is a cross-site navigation.
        dialog_url: Some(format!("http://localhost:{}", dialog.port())),
        ..Default::default()
    };
    let config = ServeConfig { addr: ([127, 0, 0, 1], port).into(), console, ..quick_serve_config() };
    let server = spawn(harness(Database::open(&dir.path().join("c.db"), 4).unwrap(), &meta.graph), config).unwrap();
    let driver = Driver::start(&chromedriver);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let browser = Browser::open(&driver, &chromium, base).await;
        walk_through(&browser, &dialog, server.addr).await;
        browser.client.close().await.unwrap();
    });
    eprintln!("the browser walk took {:.1} s", started.elapsed().as_secs_f64());
}

/// The person's walk through the console, page by page.
async fn walk_through(browser: &Browser, dialog: &FakeDialog, addr: std::net::SocketAddr) {
    // Sign in: the console sends a stranger to the form first.
    browser.goto("/").await;
    assert_eq!(browser.path().await, "/login");
    browser.shot("1-sign-in").await;
    browser.client.find(Locator::Css("#key")).await.unwrap().send_keys(API_KEY).await.unwrap();
    browser.follow("#sign-in-button").await;
    assert!(browser.has("#no-accounts").await, "signed in, nothing linked yet");
    browser.shot("2-empty-console").await;

    // Connect with Facebook Login; select the two accounts the login reached.
    dialog.answer(DialogAnswer::Code("fb-ab"));
    browser.follow("#add-facebook").await;
    assert_eq!(browser.path().await, "/connect/select");
    browser.shot("3-select-two").await;
    browser.click(&format!("#pick-{}", A.account_id)).await;
    browser.click(&format!("#pick-{}", B.account_id)).await;
    browser.follow("#save-selection").await;
    assert!(browser.has("#saved").await);
    for account in [&A, &B] {
        assert_eq!(browser.text(&format!("#state-{} .pill", account.account_id)).await, "Active");
        assert!(browser.text(&format!("#health-{}", account.account_id)).await.contains("subscribed"));
    }
    browser.shot("4-two-active").await;

    // Add a third while unselecting one: the warning comes before anything is dropped.
    dialog.answer(DialogAnswer::Code("fb-abc"));
    browser.follow("#add-facebook").await;
    browser.click(&format!("#pick-{}", A.account_id)).await;
    browser.click(&format!("#pick-{}", C.account_id)).await;
    browser.follow("#save-selection").await;
    assert!(browser.text("#drop-warning").await.contains("drops linked accounts"));
    assert_eq!(browser.text("#plan-drops").await, "@shop_a");
    assert_eq!(browser.text("#plan-adds").await, "@shop_c");
    browser.shot("5-drop-warning").await;
    browser.follow("#confirm-save").await;
    assert!(!browser.has(&format!("#account-{}", A.account_id)).await, "A was dropped");
    assert!(browser.has(&format!("#account-{}", C.account_id)).await, "C was added");

    // Mark one representative; switch a filter.
    browser.follow(&format!("#switch-representative-{}", B.account_id)).await;
    assert!(browser.has(&format!("#representative-{}", B.account_id)).await);
    let shares = format!("#switch-skip-shares-{}", C.account_id);
    browser.follow(&shares).await;
    let switched = browser.client.find(Locator::Css(&shares)).await.unwrap();
    assert_eq!(switched.attr("aria-checked").await.unwrap().as_deref(), Some("true"));
    browser.shot("6-representative-and-filter").await;

    // Meta says the person removed the app: both links break, and the console says why.
    let form = format!("signed_request={}", meta::signed_request(meta::FACEBOOK_PERSON));
    let (status, answer) =
        post_to(addr, "/meta/deauthorize", &[("content-type", "application/x-www-form-urlencoded")], form.as_bytes());
    assert_eq!((status, answer.contains("\"deauthorized\":2")), (200, true), "{answer}");
    browser.goto("/").await;
    assert_eq!(browser.text(&format!("#state-{} .pill", C.account_id)).await, "Broken");
    assert!(browser.text(&format!("#state-{}", C.account_id)).await.contains("revoked"));
    browser.shot("7-broken").await;

    // Re-authorize C: the same account keeps its data (its filter, B's representative mark).
    dialog.answer(DialogAnswer::Code("fb-bc"));
    browser.follow(&format!("#reauthorize-{}", C.account_id)).await;
    assert_eq!(browser.path().await, "/connect/select");
    assert!(!browser.has("#target-missing").await, "the login reached the account to re-authorize");
    browser.shot("8-reauthorize-select").await;
    browser.follow("#save-selection").await;
    for account in [&B, &C] {
        assert_eq!(browser.text(&format!("#state-{} .pill", account.account_id)).await, "Active");
    }
    let kept = browser.client.find(Locator::Css(&shares)).await.unwrap();
    assert_eq!(kept.attr("aria-checked").await.unwrap().as_deref(), Some("true"), "the filter survived");
    assert!(browser.has(&format!("#representative-{}", B.account_id)).await, "the mark survived");
    browser.shot("9-reauthorized").await;
    let dialogs = dialog.requests();
    assert_eq!(dialogs.len(), 3, "{dialogs:?}");
}
