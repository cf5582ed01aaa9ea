//! The real `messenger-harness` binary, as a user runs it: JSON on stdout, nothing on stderr, exit codes.

use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/webhooks");
const TEXT_SIGNATURE: &str = "sha256=7d79ebb823d9312b318e371d226d6d3ff05180ffedc383aac33780d94ec95025";

fn harness() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_messenger-harness"));
    command.env_remove("MESSENGER_APP_SECRET").env_remove("MESSENGER_ACCESS_TOKEN");
    command
}

#[test]
fn inbound_prints_the_customer_message_and_nothing_on_stderr() {
    let cache = tempfile::tempdir().unwrap();
    let output = harness()
        .env("MESSENGER_CACHE_DIR", cache.path())
        .args(["inbound", "--app-secret", "fixture-app-secret", "--signature", TEXT_SIGNATURE])
        .arg(format!("{FIXTURES}/text.json"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert!(output.status.success());
    let events: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["kind"], "customer-message");
    assert_eq!(events[0]["account-id"], "17841400000000001");
    assert_eq!(events[0]["text"], "Hi! Is the oversized wool coat still available in beige, size M?");
    assert!(std::fs::read_dir(cache.path()).unwrap().count() > 0, "the compilation was cached");
}

#[test]
fn bad_signature_exits_nonzero_with_a_json_error_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let output = harness()
        .args(["inbound", "--app-secret", "wrong-secret", "--signature", TEXT_SIGNATURE, "--db"])
        .arg(&db)
        .arg(format!("{FIXTURES}/text.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["error"]["code"], "bad-signature");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: i64 = conn.query_row("SELECT count(*) FROM kv", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn body_from_stdin_and_secret_from_the_environment() {
    let body = std::fs::read(format!("{FIXTURES}/text.json")).unwrap();
    let mut child = harness()
        .env("MESSENGER_APP_SECRET", "fixture-app-secret")
        .args(["inbound", "--signature", TEXT_SIGNATURE, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &body).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    let events: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(events[0]["kind"], "customer-message");
}

#[test]
fn missing_app_secret_is_refused() {
    let output = harness()
        .args(["inbound", "--signature", TEXT_SIGNATURE])
        .arg(format!("{FIXTURES}/text.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["error"]["code"], "missing-app-secret");
}

fn json_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn handshake_answers_the_challenge_with_the_verify_token_from_the_environment() {
    let query = "hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=1158201444";
    let ok = harness().env("MESSENGER_VERIFY_TOKEN", "vt-123").args(["handshake", query]).output().unwrap();
    assert_eq!((ok.status.code(), json_of(&ok)["challenge"].as_str()), (Some(0), Some("1158201444")));
    let wrong = harness().env("MESSENGER_VERIFY_TOKEN", "other").args(["handshake", query]).output().unwrap();
    assert_eq!(
        (wrong.status.code(), json_of(&wrong)["error"]["code"].as_str()),
        (Some(1), Some("verification-failed"))
    );
    let unset = harness().env_remove("MESSENGER_VERIFY_TOKEN").args(["handshake", query]).output().unwrap();
    assert_eq!(
        (unset.status.code(), json_of(&unset)["error"]["code"].as_str()),
        (Some(1), Some("missing-verify-token"))
    );
}

#[test]
fn stored_filters_apply_to_later_runs_and_flags_override_them_for_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let db = db.to_str().unwrap();
    let set = harness()
        .args(["filters", "--db", db, "--account", "17841400000000001", "--skip-story-mentions", "true"])
        .output()
        .unwrap();
    assert_eq!(json_of(&set)["skip-story-mentions"], true);
    let inbound = |fixture: &str, signature: &str, extra: &[&str], db: &str| {
        let mut command = harness();
        command
            .args(["inbound", "--app-secret", "fixture-app-secret", "--signature", signature, "--db", db])
            .args(extra);
        json_of(&command.arg(format!("{FIXTURES}/{fixture}")).output().unwrap())
    };
    let mention = "sha256=a748e94721b8579aa296110f0a82d4df29216954110b7b78bbf73295b5e6f6b7";
    let events = inbound("story-mention.json", mention, &[], db);
    assert_eq!(
        (events[0]["kind"].as_str(), events[0]["reason"].as_str()),
        (Some("skipped"), Some("story-mention-filtered"))
    );
    let reel = "sha256=ad4e70eb9e5eb25e455e28f35aea26a9e059f0d9a00e02c6a4cee0cdadeadbb3";
    let events = inbound("ig-reel.json", reel, &["--skip-shares"], db);
    assert_eq!(events[0]["reason"], "share-filtered");
    let fresh = dir.path().join("fresh.db");
    let events = inbound("story-mention.json", mention, &[], fresh.to_str().unwrap());
    assert_eq!(events[0]["kind"], "customer-message", "another database has no filter stored");
}
