//! A throwaway PostgreSQL server for tests.
//!
//! The storage tests need a real PostgreSQL, so each test starts its own: `initdb` into a temp dir, `pg_ctl` on a
//! free loopback port, and on drop (also when the test panics) an immediate stop and the files deleted. Missing
//! server binaries are a panic, never a skip: the tests must not pass silently without PostgreSQL.

use std::cmp::Reverse;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The superuser initdb creates; `--auth=trust` lets it connect without a password.
const USER: &str = "connector";
const START_ATTEMPTS: usize = 3;
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const NOT_INSTALLED: &str = "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's package with \
                             `apt-get install -y postgresql`";

/// A running PostgreSQL server owned by one test; dropping it stops the server and deletes its files.
pub struct Postgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    /// initdb refuses to run as root, so as root the server runs as the `postgres` system user.
    as_postgres_user: bool,
    tls: bool,
    /// Declared last: removed only after `drop` has stopped the server.
    dir: tempfile::TempDir,
}

impl Postgres {
    /// Initialises and starts a fresh server on a free loopback port; panics, with the server log, on failure.
    pub fn start() -> Postgres {
        Self::start_with(false)
    }

    /// As `start`, serving TLS with a fresh self-signed certificate for 127.0.0.1 (see `certificate`).
    pub fn start_with_tls() -> Postgres {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Postgres {
        let bin_dir = server_bin_dir();
        let as_postgres_user = is_root();
        // Under /tmp rather than $TMPDIR: the `postgres` user must be able to reach it.
        let dir = tempfile::Builder::new().prefix("messenger-pg-").tempdir_in("/tmp").expect("create a temp dir");
        if as_postgres_user {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()), "chown the temp dir");
        }
        let data_dir = dir.path().join("data");
        let mut server = Postgres { bin_dir, data_dir, port: 0, as_postgres_user, tls, dir };
        let mut initdb = server.server_command("initdb");
        // --no-sync skips only initdb's own final sync; the server itself keeps fsync on.
        run(initdb.args(["--auth=trust", "-U", USER, "--encoding=UTF8", "--locale=C", "--no-sync"]), "initdb");
        if tls {
            server.make_certificates();
        }
        let log = server.dir.path().join("server.log");
        for _ in 0..START_ATTEMPTS {
            // Another process may take the port between the probe and the server's bind: then retry with a new one.
            server.port = free_port();
            if server.try_start(&log) {
                return server;
            }
            server.stop();
        }
        let log_text = std::fs::read_to_string(&log).unwrap_or_else(|e| format!("(no log: {e})"));
        panic!("PostgreSQL did not start in {START_ATTEMPTS} attempts; its log:\n{log_text}");
    }

    /// The CA (PEM) that signed the server's TLS certificate, when it was started with TLS.
    pub fn certificate(&self) -> PathBuf {
        self.data_dir.join("ca.crt")
    }

    /// A throwaway CA, and a server certificate for 127.0.0.1 signed by it, in the data directory.
    fn make_certificates(&self) {
        let steps: [&[&str]; 3] = [
            &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca"],
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
            ],
        ];
        let outputs: [&[&str]; 3] = [
            &["-keyout", "ca.key", "-out", "ca.crt"],
            &["-keyout", "server.key", "-out", "server.csr"],
            &["-copy_extensions", "copy", "-out", "server.crt"],
        ];
        for (step, output) in steps.iter().zip(outputs) {
            let mut openssl = self.as_server_user(Path::new("openssl"));
            run(openssl.current_dir(&self.data_dir).args(*step).args(output), "openssl (test certificates)");
        }
        let key = self.data_dir.join("server.key");
        run(self.as_server_user(Path::new("chmod")).arg("600").arg(key), "chmod server.key");
    }

    /// The URL of the default `postgres` database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// Creates an empty database (name: letters, digits and `_`) and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database name {name:?}: use letters, digits and _ so it needs no quoting in SQL or URLs"
        );
        let createdb = self.bin_dir.join("createdb");
        let mut command = Command::new(if createdb.is_file() { createdb } else { PathBuf::from("createdb") });
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER, name]);
        run(&mut command, &format!("createdb {name}"));
        self.database_url(name)
    }

    fn database_url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    fn try_start(&self, log: &Path) -> bool {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='{}' -c fsync=on \
             -c max_connections=200 -c shared_buffers=32MB -c ssl={}",
            self.port,
            self.dir.path().display(),
            if self.tls { "on" } else { "off" }
        );
        let timeout = READY_TIMEOUT.as_secs().to_string();
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl.args(["start", "-w", "-t", &timeout, "-o", &options, "-l"]).arg(log);
        pg_ctl.output().is_ok_and(|out| out.status.success()) && accepts_connections(self.port)
    }

    fn stop(&self) {
        // Immediate: the data is about to be deleted, so a shutdown checkpoint is wasted time. Errors are ignored
        // because this also runs while a failed test unwinds, where a second panic would abort.
        let mut pg_ctl = self.server_command("pg_ctl");
        let _ = pg_ctl.args(["stop", "-m", "immediate", "-w"]).output();
    }

    fn server_command(&self, tool: &str) -> Command {
        self.as_server_user(&self.bin_dir.join(tool))
    }

    /// `program` as the user the server runs as.
    fn as_server_user(&self, program: &Path) -> Command {
        let mut command = if self.as_postgres_user {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            Command::new(program)
        };
        // The test's working directory may be unreadable to `postgres`; PGDATA names our cluster over any inherited.
        command.current_dir(self.dir.path()).env("PGDATA", &self.data_dir);
        command
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The first directory holding both initdb and pg_ctl: PATH, then `/usr/lib/postgresql/<version>/bin`, newest first.
fn server_bin_dir() -> PathBuf {
    let mut installed: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten().map(|entry| entry.path()).collect();
    installed.sort_by_key(|dir| Reverse(dir.file_name().and_then(|name| name.to_str()?.parse::<u32>().ok())));
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let dir = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain(installed.iter().map(|version| version.join("bin")))
        .find(|dir| has_server(dir))
        .expect(NOT_INSTALLED);
    // A PATH entry may be a symlink into the real bin dir, which also holds createdb.
    let real_dir = dir.join("initdb").canonicalize().ok().and_then(|initdb| initdb.parent().map(Path::to_path_buf));
    real_dir.filter(|real| has_server(real)).unwrap_or(dir)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("local address of the probe listener").port()
}

/// A second check after `pg_ctl -w` (which already waits for readiness): the loopback port takes connections.
fn accepts_connections(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: could not run {command:?}: {e}"));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        panic!("{what} failed ({}): {command:?}\n{stderr}", output.status);
    }
}
