//! The real binary against issue 18: the descriptor limit under idle connections, the database URL (never in `ps`,
//! never a typo turned into a file), secrets at rest (private files, sealed tokens, a private compile cache), the
//! Graph override said at start, and the client's address in the logs.

use messenger_test_support::raw::{KillOnDrop, connect_from};
use messenger_test_support::{APP_SECRET, free_port, http_client_with_timeout};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn harness() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_messenger-harness"));
    command.env_remove("MESSENGER_ACCESS_TOKEN").env_remove("MESSENGER_DB_URL").env_remove("MESSENGER_TOKEN_KEY");
    command
}

/// `serve` on a free port, run by `sh` so a descriptor limit can be set first; waits until it answers.
fn serve(dir: &Path, ulimit: Option<u32>, extra: &[&str], env: &[(&str, &str)]) -> (KillOnDrop, u16) {
    let port = free_port();
    let binary = env!("CARGO_BIN_EXE_messenger-harness");
    let limit = ulimit.map_or(String::new(), |n| format!("ulimit -n {n} && "));
    let child = {
        let mut sh = Command::new("sh");
        sh.current_dir(dir)
            .args(["-c", &format!("{limit}exec \"$0\" serve --addr 127.0.0.1:{port} \"$@\""), binary])
            .args(extra)
            .env_remove("MESSENGER_ACCESS_TOKEN")
            .env_remove("MESSENGER_DB_URL")
            .env_remove("MESSENGER_TOKEN_KEY")
            .env("MESSENGER_APP_SECRET", APP_SECRET)
            .env("MESSENGER_CACHE_DIR", dir.join("cache"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        sh.spawn().unwrap()
    };
    let mut child = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(format!("http://127.0.0.1:{port}/healthz")).call().is_err() {
        assert!(child.0.try_wait().unwrap().is_none(), "serve exited: {}", stderr_of(&mut child));
        assert!(Instant::now() < deadline, "serve did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, port)
}

/// Stops the server and gives what it logged.
fn stderr_of(child: &mut KillOnDrop) -> String {
    let child = &mut child.0;
    let _ = child.kill();
    let _ = child.wait();
    let mut text = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
    }
    text
}

#[test]
fn idle_connections_past_the_descriptor_limit_leave_healthz_answering() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = serve(dir.path(), Some(256), &["--db", "c.db"], &[]);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    // 300 idle connections from several other addresses: more than the process has descriptors for.
    let idle: Vec<_> = (0..300)
        .filter_map(|i| connect_from(std::net::Ipv4Addr::new(127, 0, 1, 2 + (i % 6) as u8), addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let agent = http_client_with_timeout(Some(Duration::from_secs(3)));
    let started = Instant::now();
    let answer = agent.get(format!("http://{addr}/healthz")).call();
    assert!(answer.is_ok_and(|r| r.status() == 200), "healthz after {:?}", started.elapsed());
    drop(idle);
    stderr_of(&mut child);
}

#[test]
fn a_database_url_with_a_password_or_a_typo_is_refused_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    for spec in ["postgres:/user:hunter2@db.example.com/db", "postgres://user:hunter2@127.0.0.1:1/db"] {
        let output = harness().current_dir(dir.path()).args(["events", "--db", spec]).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "{spec}: {text}");
        assert!(!text.contains("hunter2"), "{spec}: {text}");
    }
    let refused = harness().args(["events", "--db", "postgres://user:hunter2@127.0.0.1:1/db"]).output().unwrap();
    assert!(String::from_utf8_lossy(&refused.stdout).contains("MESSENGER_DB_URL"), "the refusal says where it goes");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no SQLite file named after the URL");
    // The serve node with a typo stops at once instead of serving a private store.
    let started = Instant::now();
    let typo = harness()
        .current_dir(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--db", "postgres:/user:hunter2@db.example.com/db"])
        .output()
        .unwrap();
    assert!(!typo.status.success() && started.elapsed() < Duration::from_secs(20));
    let all = format!("{}{}", String::from_utf8_lossy(&typo.stdout), String::from_utf8_lossy(&typo.stderr));
    assert!(!all.contains("hunter2"), "{all}");
    // The environment carries it instead (a closed port: the error names PostgreSQL, never the password).
    let port = free_port();
    let from_env = harness()
        .env("MESSENGER_DB_URL", format!("postgres://user:hunter2@127.0.0.1:{port}/db"))
        .arg("events")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&from_env.stdout);
    assert!(text.contains("PostgreSQL 127.0.0.1") && !text.contains("hunter2"), "{text}");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn data_files_are_private_and_tokens_are_sealed_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _) =
        serve(dir.path(), None, &["--db", "data/connector.db"], &[("MESSENGER_ACCESS_TOKEN", "tok-secret-7f3a")]);
    stderr_of(&mut child);
    let data = dir.path().join("data");
    assert_eq!(mode(&data), 0o700, "the data directory");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(15).any(|w| w == b"tok-secret-7f3a"), "the token is in {} in the clear", path.display());
    }
    assert!(data.join("connector.db.key").exists(), "a key generated beside the database");
    let cache = dir.path().join("cache");
    assert_eq!(mode(&cache), 0o700, "the compile cache");
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        assert!(!path.file_name().unwrap().to_string_lossy().contains("tmp"), "no temporary left: {}", path.display());
    }
}

#[test]
fn a_compile_cache_others_can_write_to_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = harness()
        .env("MESSENGER_CACHE_DIR", &open)
        .args(["handshake", "hub.mode=subscribe&hub.verify_token=t&hub.challenge=1"])
        .env("MESSENGER_VERIFY_TOKEN", "t")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0, "nothing cached where others can write");
}

#[test]
fn the_graph_override_is_said_at_start_and_logs_name_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = serve(dir.path(), None, &["--db", "c.db", "--graph-url", "https://graph.example.net"], &[]);
    let agent = http_client_with_timeout(Some(Duration::from_secs(5)));
    let answer = agent
        .post(format!("http://127.0.0.1:{port}/webhooks/instagram"))
        .header("X-Hub-Signature-256", "sha256=00")
        .send(&b"{}"[..])
        .unwrap();
    assert_eq!(answer.status(), 401);
    let log = stderr_of(&mut child);
    assert!(log.contains("graph.example.net"), "the override is said at start: {log}");
    let refused = log.lines().find(|line| line.contains("bad signature")).unwrap_or_default();
    assert!(refused.contains("client=127.0.0.1:"), "the client's address is in the request's log line: {log}");
}
