//! The stores: a key-value space scoped to one plugin and one channel (what the component's `storage` import
//! reaches), and beside it the host's journal (deliveries, events, the reply queue, owner notices, leases), on one
//! of two backends behind the same two interfaces: the embedded SQLite for one machine, or a shared PostgreSQL for
//! several `serve` nodes.
//!
//! A component call's writes are committed together when the call succeeds and discarded when it fails or traps,
//! so a refused delivery stores nothing and a crash never leaves half a delivery behind; they are held in the
//! session and written in one short transaction at the end, so no lock is held while the guest waits on Graph
//! (`session`). Whatever must hold across nodes (dedup, the
//! send budget, queue claims, notices) is decided by the database: unique keys, conditional updates and row
//! locks, never a read followed by a blind write.

pub mod activity;
mod buffer;
pub mod channels;
pub mod feed;
pub(crate) mod files;
pub mod forget;
mod group;
pub mod journal;
pub(crate) mod pg_tls;
mod postgres;
pub mod retention;
mod schema;
pub(crate) mod sealing;
mod session;
mod spec;
mod sqlite;

pub use buffer::Conflict;
pub use sealing::Sealer;
pub use session::{Session, Tokens, Writes};
pub use spec::{has_password, is_postgres_url, looks_like_postgres, redact};

use anyhow::Result;
use std::path::Path;
use std::sync::Arc;

/// Database integers are signed: later than i64::MAX is "never", not negative.
pub(crate) fn sql_time(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Keys longer than this are refused: the component's keys are short and fixed-shape.
pub const MAX_KEY_BYTES: usize = 512;
/// Values larger than this are refused: the component stores small records.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;

/// Whose data a call may touch: one plugin's, of one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

impl Namespace {
    pub fn new(plugin: &str, channel: &str) -> Result<Self> {
        for (what, part) in [("plugin", plugin), ("channel", channel)] {
            let valid = !part.is_empty()
                && part.len() <= 128
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            anyhow::ensure!(valid, "a {what} name is 1 to 128 letters, digits, '-', '_' or '.': {part:?}");
        }
        Ok(Self(format!("{plugin}/{channel}")))
    }

    /// A namespace as stored (`plugin/channel`).
    pub fn parse(stored: &str) -> Result<Self> {
        let (plugin, channel) =
            stored.split_once('/').ok_or_else(|| anyhow::anyhow!("not a stored namespace: {stored:?}"))?;
        Self::new(plugin, channel)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The channel's name.
    pub fn channel(&self) -> &str {
        self.0.split_once('/').map_or("", |(_, channel)| channel)
    }
}

/// A queued reply's row as its node claimed it (until `lease_until`).
#[derive(Debug, Clone)]
pub struct ClaimedRow {
    pub id: i64,
    pub plan: String,
    pub attempts: u32,
    /// A send of the plan's first message was started and its outcome never recorded (its node died).
    pub in_flight: bool,
}

/// A reply to queue (no attempts yet): its plan, when it is due, the client's idempotency key if any, and the
/// node it is leased to from the start, and until when, if any.
pub struct NewReply<'a> {
    pub plan: &'a str,
    pub next_attempt_at: i64,
    pub request_key: Option<&'a str>,
    pub lease: Option<(&'a str, i64)>,
}

/// Who claims due replies, when, until when, and how many at most.
pub struct Claim<'a> {
    pub now: i64,
    pub holder: &'a str,
    pub lease_until: i64,
    pub limit: usize,
}

/// How a queued reply is settled (`status`: `pending`, `sent`, `failed` or `unknown`).
pub struct Settlement<'a> {
    pub status: &'a str,
    pub plan: &'a str,
    pub attempts: u32,
    pub next_attempt_at: u64,
    pub report: &'a str,
    /// When it was settled for good (none while pending): the retention period counts from it.
    pub settled_at: Option<i64>,
}

/// A database engine: it hands out transactions, each on a connection of its own.
pub(crate) trait Backend: Send + Sync {
    /// A transaction; `write` takes SQLite's write lock at once (IMMEDIATE), else only reads are meant (DEFERRED).
    fn begin(&self, write: bool) -> Result<Box<dyn Transaction>>;
    /// What it is, for logs (never a password).
    fn describe(&self) -> String;
}

/// A delivery as the journal stores it (`JournalTransaction::insert_delivery_with_events`).
pub(crate) struct NewDelivery<'a> {
    pub received_at: i64,
    pub body: &'a [u8],
    /// The events' JSON, in order.
    pub events: &'a [String],
    pub accounts: &'a [String],
    pub windows: &'a [activity::Window],
}

/// One open transaction, with its two faces: the plugin's key-value space and the host's journal.
pub(crate) trait Transaction: KvTransaction + JournalTransaction + Send {
    fn commit(self: Box<Self>) -> Result<()>;
    fn rollback(self: Box<Self>) -> Result<()>;
    fn kv(&mut self) -> &mut dyn KvTransaction;
    fn journal(&mut self) -> &mut dyn JournalTransaction;
}

/// The plugin's key-value space. Namespaces are passed in; keys and values are already checked.
pub(crate) trait KvTransaction {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>>;
    fn upsert(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<()>;
    fn delete(&mut self, ns: &str, key: &str) -> Result<()>;
    /// True when inserted; decided by the unique key.
    fn insert_if_absent(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<bool>;
    /// Inserts every entry whose key is absent; the first key found present, if any. One statement on PostgreSQL
    /// (a round trip saved per key), one insert after the other on SQLite (no round trips to save).
    fn insert_all_absent(&mut self, ns: &str, entries: &[(&str, &[u8])]) -> Result<Option<String>> {
        for (key, value) in entries {
            if !self.insert_if_absent(ns, key, value)? {
                return Ok(Some((*key).to_owned()));
            }
        }
        Ok(None)
    }
    /// True when the value was `expected` and is now `new`; one conditional statement.
    fn replace_if(&mut self, ns: &str, key: &str, expected: &[u8], new: &[u8]) -> Result<bool>;
    /// Keys with `prefix` after `after`, in byte order, at most `limit`.
    fn list_keys(&mut self, ns: &str, prefix: &str, after: &str, limit: usize) -> Result<Vec<String>>;
}

/// The host's records beside the key-value space, in the same transaction.
pub(crate) trait JournalTransaction {
    fn insert_delivery(&mut self, ns: &str, received_at: i64, body: &[u8]) -> Result<i64>;
    fn insert_event(&mut self, ns: &str, delivery: Option<i64>, json: &str) -> Result<()>;
    /// A delivery with its events (in order) and the activity they show: the accounts it names (touched at
    /// `received_at`) and the windows it opens. One statement on PostgreSQL, several on SQLite.
    fn insert_delivery_with_events(&mut self, ns: &str, delivery: &NewDelivery) -> Result<()> {
        let id = self.insert_delivery(ns, delivery.received_at, delivery.body)?;
        delivery.events.iter().try_for_each(|event| self.insert_event(ns, Some(id), event))?;
        delivery.accounts.iter().try_for_each(|account| self.touch_account(ns, account, delivery.received_at))?;
        self.touch_windows(ns, delivery.windows)
    }
    /// Records the windows `windows` open (each customer's last message to each account).
    fn touch_windows(&mut self, ns: &str, windows: &[activity::Window]) -> Result<()> {
        windows.iter().try_for_each(|w| self.touch_customer(ns, &w.account, &w.customer, w.at))
    }
    fn events(&mut self, ns: &str) -> Result<Vec<String>>;
    /// At most `limit` events after `after` in commit order, each with its position (see `feed`).
    fn feed(&mut self, ns: &str, after: feed::Position, limit: usize) -> Result<Vec<(feed::Position, String)>>;
    /// At most `limit` events of every channel after `after`, in commit order, each with its namespace.
    fn feed_all(&mut self, after: feed::Position, limit: usize) -> Result<Vec<(feed::Position, String, String)>>;

    /// Routes `account`'s webhooks to `ns` from `at`; false (nothing changed) when another channel holds it.
    fn claim_route(&mut self, ns: &str, account: &str, at: i64) -> Result<bool>;
    /// Stops routing `account` to `ns` (nothing when another channel holds it).
    fn release_route(&mut self, ns: &str, account: &str) -> Result<()>;
    /// The namespace `account` is routed to, if any.
    fn route_of(&mut self, account: &str) -> Result<Option<String>>;
    /// Every namespace that linked an account or has settings of its own.
    fn channels(&mut self) -> Result<Vec<String>>;
    /// The namespaces with a reply due at `now`.
    fn channels_due(&mut self, now: i64) -> Result<Vec<String>>;
    fn channel_settings(&mut self, ns: &str) -> Result<Option<String>>;
    fn set_channel_settings(&mut self, ns: &str, json: &str) -> Result<()>;

    /// The new reply's id; none when a reply with the same request key is already queued.
    fn enqueue(&mut self, ns: &str, reply: &NewReply) -> Result<Option<i64>>;
    fn enqueued_by_key(&mut self, ns: &str, request_key: &str) -> Result<Option<i64>>;
    /// Pending replies that are due and not leased by a live node, leased to `owner` until `lease_until`.
    fn claim_due(&mut self, ns: &str, claim: &Claim) -> Result<Vec<ClaimedRow>>;
    /// Stores `plan` (what remains) and marks its first message in flight; false when `owner` no longer holds the
    /// lease.
    fn mark_in_flight(&mut self, id: i64, owner: &str, plan: &str) -> Result<bool>;
    /// Settles a claimed reply; false when `owner` no longer holds the lease (another node took it over).
    fn settle(&mut self, id: i64, owner: &str, settlement: &Settlement) -> Result<bool>;
    fn outbox_status(&mut self, ns: &str, id: i64) -> Result<Option<(String, u32, Option<String>)>>;
    /// Pending replies: how many, and the bytes of their plans.
    fn pending_load(&mut self, ns: &str) -> Result<(u64, u64)>;
    /// Deletes replies settled before `before`; how many.
    fn purge_settled(&mut self, ns: &str, before: i64) -> Result<u64>;

    /// Records a webhook for `account` at `at` (an insert: nodes never wait on each other's rows).
    fn touch_account(&mut self, ns: &str, account: &str, at: i64) -> Result<()>;
    /// Records that `customer` wrote to `account` at `at` (an insert).
    fn touch_customer(&mut self, ns: &str, account: &str, customer: &str, at: i64) -> Result<()>;
    fn last_webhook(&mut self, ns: &str, account: &str) -> Result<Option<i64>>;
    fn last_customer_message(&mut self, ns: &str, account: &str, customer: &str) -> Result<Option<i64>>;

    /// Runs one of the retention statements (`schema::PRUNE_*`) for `ns` with cutoff `before`; rows changed.
    fn prune(&mut self, sql: &'static str, ns: &str, before: i64) -> Result<u64>;

    fn last_notice(&mut self, ns: &str, account: &str) -> Result<Option<i64>>;
    /// Records the account's first notice at `at`; false when one is already recorded.
    fn insert_notice(&mut self, ns: &str, account: &str, at: i64) -> Result<bool>;
    /// Moves the account's last-notice time from `expected` to `at`; false when it is no longer `expected`.
    fn replace_notice(&mut self, ns: &str, account: &str, expected: i64, at: i64) -> Result<bool>;
    /// Moves the account's last-notice time from `expected` (none yet) to `at`; false when another node moved it
    /// first.
    fn swap_notice(&mut self, ns: &str, account: &str, expected: Option<i64>, at: i64) -> Result<bool> {
        match expected {
            None => self.insert_notice(ns, account, at),
            Some(expected) => self.replace_notice(ns, account, expected, at),
        }
    }

    /// Takes or renews the named lease for `owner`; false while another owner holds it.
    fn take_lease(&mut self, name: &str, owner: &str, now: i64, until: i64) -> Result<bool>;
    /// Gives the named lease back, if `owner` holds it.
    fn release_lease(&mut self, name: &str, owner: &str) -> Result<()>;

    /// Runs one of the statements that erase an account's records (`schema::FORGET_*`) for `ns` with `value`; rows
    /// changed.
    fn forget(&mut self, sql: &'static str, ns: &str, value: &str) -> Result<u64>;
}

/// A store: SQLite (a path, or in memory) or PostgreSQL (a `postgres://` URL).
#[derive(Clone)]
pub struct Database {
    backend: Arc<dyn Backend>,
    tokens: Tokens,
    group: Arc<group::GroupCommit>,
}

impl Database {
    fn on(backend: impl Backend + 'static) -> Self {
        Self { backend: Arc::new(backend), tokens: Tokens::Plain, group: Default::default() }
    }

    /// Opens (and creates) the SQLite database at `path`, with `connections` connections for concurrent calls.
    pub fn open(path: &Path, connections: usize) -> Result<Self> {
        Ok(Self::on(sqlite::Sqlite::open(path, connections)?))
    }

    /// A private SQLite database in memory, gone when the process ends (the default for one-shot commands).
    pub fn in_memory() -> Result<Self> {
        Ok(Self::on(sqlite::Sqlite::in_memory()?))
    }

    /// Connects to a shared PostgreSQL with a pool of up to `connections`, and migrates its schema. TLS checks
    /// the server's certificate against the CA file in `MESSENGER_PG_ROOT_CERT` when it is set.
    pub fn connect(url: &str, connections: usize) -> Result<Self> {
        Self::connect_with_ca(url, connections, pg_tls::root_cert_from_env().as_deref())
    }

    /// As `connect`, checking the server's certificate against `root_cert` (a PEM file) when given.
    pub fn connect_with_ca(url: &str, connections: usize, root_cert: Option<&Path>) -> Result<Self> {
        Ok(Self::on(postgres::Postgres::connect(url, connections, root_cert)?))
    }

    /// `postgres://` or `postgresql://` URLs select PostgreSQL; anything else is a SQLite path. A spec that starts
    /// with `postgres` but does not parse is refused: a typo must not become a SQLite file named after the password
    /// (and a node quietly leaving the shared store).
    pub fn from_spec(spec: &str, connections: usize) -> Result<Self> {
        if !looks_like_postgres(spec) {
            return Self::open(Path::new(spec), connections);
        }
        anyhow::ensure!(
            is_postgres_url(spec) && spec.parse::<::postgres::Config>().is_ok(),
            "{} looks like a PostgreSQL URL but does not parse (postgres://user@host:5432/db)",
            redact(spec)
        );
        Self::connect(spec, connections)
    }

    /// What the store is, for logs.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// What this store does with tokens: sealed under a key, refused, or (the default) stored as given.
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.tokens = tokens;
        self
    }

    /// Starts a write transaction on a connection of its own, waiting for one if all are busy.
    pub fn begin(&self, namespace: Namespace) -> Result<Session> {
        Ok(Session::direct(self.clone(), namespace, self.backend.begin(true)?))
    }

    /// A component call's session: no transaction until it commits (see `session`).
    pub fn begin_call(&self, namespace: Namespace, writes: Writes) -> Session {
        Session::for_call(self.clone(), namespace, writes)
    }

    /// Applies `work` in a write transaction shared with the calls committing at the same time (`group`); returns
    /// once it is committed.
    pub(crate) fn commit_grouped(&self, work: group::Work) -> Result<()> {
        self.group.commit(&self.backend, work)
    }

    /// How many group commits this process made, and how many calls they held.
    pub fn group_counts(&self) -> (u64, u64) {
        let counts = self.group.counts();
        (
            counts.groups.load(std::sync::atomic::Ordering::Relaxed),
            counts.calls.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Runs `op` in a transaction of its own, committed when it succeeds.
    pub fn transaction<R>(&self, namespace: &Namespace, op: impl FnOnce(&Session) -> Result<R>) -> Result<R> {
        let session = self.begin(namespace.clone())?;
        let result = op(&session)?;
        session.commit()?;
        Ok(result)
    }

    /// Runs `op`, which only reads, without taking a write lock (on PostgreSQL each statement on its own, in
    /// autocommit: no snapshot spans two statements).
    pub fn read<R>(&self, namespace: &Namespace, op: impl FnOnce(&Session) -> Result<R>) -> Result<R> {
        let session = Session::direct(self.clone(), namespace.clone(), self.backend.begin(false)?);
        let result = op(&session)?;
        session.commit()?;
        Ok(result)
    }

    /// One key-value operation in a short transaction of its own.
    fn short<R>(
        &self,
        write: bool,
        namespace: &Namespace,
        op: impl FnOnce(&mut dyn KvTransaction, &str) -> Result<R>,
    ) -> Result<R> {
        let mut tx = self.backend.begin(write)?;
        let result = op(tx.kv(), namespace.as_str())?;
        tx.commit()?;
        Ok(result)
    }

    /// Sets one value outside any component call (host-provisioned keys such as tokens).
    pub fn provision(&self, namespace: Namespace, key: &str, value: &[u8]) -> Result<()> {
        use messenger_core::ports::Storage;
        self.transaction(&namespace, |session| session.set(key, value).map_err(|e| anyhow::anyhow!("{e:?}")))
    }
}

#[cfg(test)]
mod tests;
