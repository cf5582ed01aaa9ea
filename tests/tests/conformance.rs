//! The conformance suite on this host: the cases in `tests/conformance/` (see its README), which the Node host
//! (`hosts/node`, `npm test`) passes too. Outbound and expiry run through the CLI in process; inbound and the
//! storage scenarios through the harness, printed as the CLI prints them. Every output is compared byte for byte.

use messenger_core::inbound::{Delivery, TranslateOptions};
use messenger_core::settings::Filters;
use messenger_harness::{CallError, Database, Harness};
use messenger_test_support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const RECEIVED_AT: u64 = 1_794_477_600_000; // 2026-11-12T10:00:00Z

fn repo(path: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_of(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The cases of one kind: (name, case JSON), sorted by name.
fn cases(kind: &str) -> Vec<(String, Value)> {
    let dir = repo(&format!("tests/conformance/{kind}"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json") && !name.contains(".expected"))
        .map(|name| name.trim_end_matches(".json").to_owned())
        .collect();
    names.sort();
    names.into_iter().map(|name| (name.clone(), json_of(&dir.join(format!("{name}.json"))))).collect()
}

fn expected(kind: &str, name: &str) -> String {
    read(&repo(&format!("tests/conformance/{kind}/{name}.expected.json")))
}

/// As the CLI prints a JSON answer: pretty, keys sorted, one newline.
fn printed(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(&serde_json::to_value(value).unwrap()).unwrap() + "\n"
}

/// Runs the CLI in process on a case's input, written to a file: its stdout (as printed) and exit code.
fn cli(command: &str, input: &Value) -> (String, u8) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.json");
    std::fs::write(&file, input.to_string()).unwrap();
    let (stdout, exit) = messenger_harness::commands::run_args(["messenger-harness", command, file.to_str().unwrap()]);
    (stdout + "\n", exit)
}

#[test]
fn outbound_and_expiry_cases_print_their_expected_text() {
    let mut count = 0;
    for (kind, command, input) in [("outbound", "outbound", "request"), ("expiry", "expiry", "link")] {
        for (name, case) in cases(kind) {
            let (stdout, exit) = cli(command, &case[input]);
            assert_eq!(stdout, expected(kind, &name), "{kind}/{name}");
            assert_eq!(u64::from(exit), case["exit"].as_u64().unwrap(), "{kind}/{name}");
            count += 1;
        }
    }
    assert!(count >= 30, "only {count} cases: the suite is missing");
}

/// The signature header a step names: the fixture's published one, none, or a literal value.
fn signature(fixture: &str, how: &str) -> Option<String> {
    match how {
        "published" => {
            let (dir, name) = fixture.rsplit_once('/').unwrap();
            let table = json_of(&fixtures_dir().join(dir).join("signatures.json"));
            Some(table[name].as_str().unwrap_or_else(|| panic!("no signature for {fixture}")).to_owned())
        }
        "none" => None,
        literal => Some(literal.to_owned()),
    }
}

/// One `inbound` step as the CLI runs it: the printed events (keys sorted, as the goldens are) or error, and the
/// exit code.
fn inbound(harness: &Harness, step: &Value) -> (String, u64) {
    let fixture = step["fixture"].as_str().unwrap();
    let headers = signature(fixture, step["signature"].as_str().unwrap())
        .map(|value| vec![("X-Hub-Signature-256".to_owned(), value)])
        .unwrap_or_default();
    let body = std::fs::read(fixtures_dir().join(fixture)).unwrap();
    let (skip_shares, skip_story_mentions) = (step["skip-shares"] == true, step["skip-story-mentions"] == true);
    let filters = (skip_shares || skip_story_mentions).then_some(Filters {
        skip_story_mentions,
        skip_shares,
        skip_comments: false,
    });
    let options = TranslateOptions { app_secret: APP_SECRET.into(), filters };
    match harness.translate(&Delivery { headers, body, received_at: RECEIVED_AT }, &options) {
        Ok(events) => (printed(&events), 0),
        Err(error) => {
            let exit = if matches!(error, CallError::Rejected(_) | CallError::Invalid(_)) { 1 } else { 3 };
            (printed(&json!({"error": error.to_error_info()})), exit)
        }
    }
}

/// One `filters` step: read, change what the step names, print as the CLI does.
fn filters(harness: &Harness, step: &Value) -> (String, u64) {
    let account = step["account"].as_str().unwrap();
    let mut filters = harness.filters(account).unwrap();
    if step.get("skip-shares").is_some() || step.get("skip-story-mentions").is_some() {
        filters.skip_shares = step["skip-shares"].as_bool().unwrap_or(filters.skip_shares);
        filters.skip_story_mentions = step["skip-story-mentions"].as_bool().unwrap_or(filters.skip_story_mentions);
        harness.set_filters(account, filters).unwrap();
    }
    let shown = json!({"account-id": account, "skip-story-mentions": filters.skip_story_mentions,
        "skip-shares": filters.skip_shares, "skip-comments": filters.skip_comments});
    (printed(&shown), 0)
}

fn rows(db: &Path) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row("SELECT count(*) FROM kv", [], |row| row.get(0)).unwrap()
}

/// A fresh store holding only the test token, with Graph sent to `graph`.
fn fresh(graph: &FakeGraph) -> (tempfile::TempDir, PathBuf, Harness) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("conformance.db");
    let harness = harness(Database::open(&db, 1).unwrap(), graph);
    (dir, db, harness)
}

#[test]
fn inbound_cases_print_their_goldens_or_fail_with_their_code() {
    let graph = FakeGraph::with_profiles();
    let cases = json_of(&repo("tests/conformance/inbound/cases.json"));
    let shown = cases["events"].as_array().unwrap().iter().chain(cases["malformed-items"].as_array().unwrap());
    let mut count = 0;
    for case in shown {
        let (_dir, _db, harness) = fresh(&graph);
        let (stdout, exit) = inbound(&harness, case);
        assert_eq!(stdout, read(&repo(case["expected"].as_str().unwrap())), "{case}");
        assert_eq!(exit, 0, "{case}");
        count += 1;
    }
    for case in cases["errors"].as_array().unwrap() {
        let (_dir, db, harness) = fresh(&graph);
        let before = rows(&db);
        let (stdout, exit) = inbound(&harness, case);
        let printed: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(printed["error"]["code"], case["code"], "{case}");
        assert_eq!((exit, rows(&db)), (1, before), "refused and nothing stored: {case}");
        count += 1;
    }
    assert!(count >= 35, "only {count} inbound cases");
}

#[test]
fn storage_scenarios_hold_step_by_step() {
    let graph = FakeGraph::with_profiles();
    let scenarios = cases("storage");
    assert!(scenarios.len() >= 5, "only {} scenarios", scenarios.len());
    for (name, scenario) in scenarios {
        let (_dir, db, harness) = fresh(&graph);
        for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let before = rows(&db);
            let (stdout, exit) = match step["command"].as_str().unwrap() {
                "inbound" => inbound(&harness, step),
                "filters" => filters(&harness, step),
                other => panic!("{name}: unknown command {other}"),
            };
            assert_eq!(stdout, expected("storage", &format!("{name}.{i}")), "{name} step {i}");
            assert_eq!(exit, step["exit"].as_u64().unwrap(), "{name} step {i}");
            if step["rows"] == "unchanged" {
                assert_eq!(rows(&db), before, "{name} step {i}: nothing stored");
            }
        }
    }
}
