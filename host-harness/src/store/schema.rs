//! The schema, as versioned migrations per engine, and the statements both engines share. Statements are written
//! with SQLite's numbered parameters (`?1`); the PostgreSQL backend rewrites them to `$1` once per connection.

/// A schema change, applied once, in order, and recorded in `schema_migrations`.
pub struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

pub const SQLITE_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "CREATE TABLE IF NOT EXISTS kv (
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (namespace, key)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS deliveries (
            id INTEGER PRIMARY KEY,
            namespace TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS events (
            id INTEGER PRIMARY KEY,
            namespace TEXT NOT NULL,
            delivery_id INTEGER,
            json TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY,
            namespace TEXT NOT NULL,
            plan TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            report TEXT,
            lease_holder TEXT,
            lease_expires_at INTEGER,
            in_flight INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS notices (
            namespace TEXT NOT NULL,
            account_id TEXT NOT NULL,
            noticed_at INTEGER NOT NULL,
            PRIMARY KEY (namespace, account_id)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;",
    },
    Migration { version: 2, sql: OUTBOX_REQUEST_KEY },
    Migration { version: 3, sql: OUTBOX_SETTLED_AT },
    Migration { version: 4, sql: "CREATE INDEX events_by_namespace ON events (namespace, id);" },
    Migration { version: 5, sql: ACTIVITY },
    Migration { version: 6, sql: CHANNELS },
    Migration {
        version: 7,
        sql: "ALTER TABLE kv ADD COLUMN written_at BIGINT;
        UPDATE kv SET written_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000 WHERE key LIKE 'seen/%';",
    },
];

/// Keys compare in byte order (`COLLATE "C"`), as on SQLite, so key pages are the same on both engines.
pub const POSTGRES_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "CREATE TABLE kv (
            namespace TEXT NOT NULL,
            key TEXT COLLATE \"C\" NOT NULL,
            value BYTEA NOT NULL,
            PRIMARY KEY (namespace, key)
        );
        CREATE TABLE deliveries (
            id BIGSERIAL PRIMARY KEY,
            namespace TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            body BYTEA NOT NULL
        );
        CREATE TABLE events (
            id BIGSERIAL PRIMARY KEY,
            namespace TEXT NOT NULL,
            delivery_id BIGINT,
            json TEXT NOT NULL
        );
        CREATE INDEX events_by_namespace ON events (namespace, id);
        CREATE TABLE outbox (
            id BIGSERIAL PRIMARY KEY,
            namespace TEXT NOT NULL,
            plan TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INT NOT NULL,
            next_attempt_at BIGINT NOT NULL,
            report TEXT,
            lease_holder TEXT,
            lease_expires_at BIGINT,
            in_flight BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE INDEX outbox_pending ON outbox (namespace, next_attempt_at) WHERE status = 'pending';
        CREATE TABLE notices (
            namespace TEXT NOT NULL,
            account_id TEXT NOT NULL,
            noticed_at BIGINT NOT NULL,
            PRIMARY KEY (namespace, account_id)
        );
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at BIGINT NOT NULL
        );",
    },
    Migration { version: 2, sql: OUTBOX_REQUEST_KEY },
    Migration { version: 3, sql: OUTBOX_SETTLED_AT },
    // The feed's order: the writing transaction's id with each event (see `feed`).
    Migration {
        version: 4,
        sql: "ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
        CREATE INDEX events_feed ON events (namespace, xid, id);",
    },
    Migration { version: 5, sql: ACTIVITY },
    Migration { version: 6, sql: CHANNELS },
    // The push reads every channel's events in one feed.
    Migration { version: 7, sql: "CREATE INDEX events_feed_all ON events (xid, id);" },
    Migration {
        version: 8,
        sql: "ALTER TABLE kv ADD COLUMN written_at BIGINT;
        UPDATE kv SET written_at = (extract(epoch FROM now()) * 1000)::bigint WHERE key LIKE 'seen/%';",
    },
];

/// Version 2, the same on both engines: the client's idempotency key of a reply, unique per channel, so a reply
/// submitted again (after a lost answer) is found instead of queued twice.
const OUTBOX_REQUEST_KEY: &str = "ALTER TABLE outbox ADD COLUMN request_key TEXT;
    CREATE UNIQUE INDEX outbox_request_key ON outbox (namespace, request_key) WHERE request_key IS NOT NULL;";

/// Version 3, the same on both engines: when a reply was settled for good, so settled rows can be purged after
/// the retention period instead of piling up.
const OUTBOX_SETTLED_AT: &str = "ALTER TABLE outbox ADD COLUMN settled_at BIGINT;
    CREATE INDEX outbox_settled ON outbox (namespace, settled_at) WHERE status <> 'pending';
    CREATE INDEX outbox_by_status ON outbox (namespace, status);";

/// Version 5, the same on both engines: when each account had a webhook, and when each customer wrote to each
/// account (what opens Meta's messaging window), written with the delivery that showed it. Rows are only ever
/// inserted, never updated: two nodes storing deliveries for one account never wait for each other's row lock.
/// The latest row per account (and per customer) is what is read; retention prunes the older ones.
const ACTIVITY: &str = "CREATE TABLE account_activity (
        namespace TEXT NOT NULL,
        account_id TEXT NOT NULL,
        at BIGINT NOT NULL
    );
    CREATE INDEX account_activity_latest ON account_activity (namespace, account_id, at);
    CREATE TABLE customer_activity (
        namespace TEXT NOT NULL,
        account_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        at BIGINT NOT NULL
    );
    CREATE INDEX customer_activity_latest ON customer_activity (namespace, account_id, customer_id, at);";

/// Version 6, the same on both engines: which channel linked each account (where its webhooks go; one channel per
/// account, so no channel can take another's traffic), and each channel's own settings (owners, language).
const CHANNELS: &str = "CREATE TABLE account_routes (
        account_id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        linked_at BIGINT NOT NULL
    );
    CREATE INDEX account_routes_by_namespace ON account_routes (namespace);
    CREATE TABLE channel_settings (
        namespace TEXT PRIMARY KEY,
        settings TEXT NOT NULL
    );";

pub const KV_GET: &str = "SELECT value FROM kv WHERE namespace = ?1 AND key = ?2";
/// Every write records when it was made (`?4`, ms): retention prunes dedup marks by it.
pub const KV_UPSERT: &str = "INSERT INTO kv (namespace, key, value, written_at) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, written_at = excluded.written_at";
pub const KV_DELETE: &str = "DELETE FROM kv WHERE namespace = ?1 AND key = ?2";
pub const KV_INSERT_IF_ABSENT: &str =
    "INSERT INTO kv (namespace, key, value, written_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
/// PostgreSQL: many insert-if-absents in one statement; the keys inserted come back (`?2` keys, `?3` values).
pub const KV_INSERT_ALL_ABSENT_POSTGRES: &str = "INSERT INTO kv (namespace, key, value, written_at)
    SELECT ?1, k, v, ?4 FROM unnest(?2::text[], ?3::bytea[]) AS t(k, v) ON CONFLICT DO NOTHING RETURNING key";
pub const KV_REPLACE_IF: &str =
    "UPDATE kv SET value = ?3, written_at = ?5 WHERE namespace = ?1 AND key = ?2 AND value = ?4";
pub const KV_LIST: &str = "SELECT key FROM kv WHERE namespace = ?1 AND substr(key, 1, length(?2)) = ?2 AND key > ?3
    ORDER BY key LIMIT ?4";

pub const INSERT_DELIVERY: &str =
    "INSERT INTO deliveries (namespace, received_at, body) VALUES (?1, ?2, ?3) RETURNING id";
pub const INSERT_EVENT: &str = "INSERT INTO events (namespace, delivery_id, json) VALUES (?1, ?2, ?3)";
/// PostgreSQL: a delivery, its events in order (`?4`), the accounts it names (`?5`, touched at `?2`) and the
/// windows it opens (`?6` accounts, `?7` customers, `?8` times) in one statement: one round trip instead of one
/// per row. Each data-modifying part runs whether or not the final SELECT reads it.
pub const INSERT_DELIVERY_WITH_EVENTS_POSTGRES: &str = "WITH delivery AS (
        INSERT INTO deliveries (namespace, received_at, body) VALUES (?1, ?2, ?3) RETURNING id),
    stored_events AS (
        INSERT INTO events (namespace, delivery_id, json)
        SELECT ?1, delivery.id, e.json FROM delivery, unnest(?4::text[]) WITH ORDINALITY AS e(json, n) ORDER BY e.n),
    accounts AS (
        INSERT INTO account_activity (namespace, account_id, at) SELECT ?1, a, ?2 FROM unnest(?5::text[]) AS a),
    windows AS (
        INSERT INTO customer_activity (namespace, account_id, customer_id, at)
        SELECT ?1, w.a, w.c, w.t FROM unnest(?6::text[], ?7::text[], ?8::int8[]) AS w(a, c, t))
    SELECT id FROM delivery";
pub const EVENTS: &str = "SELECT json FROM events WHERE namespace = ?1 ORDER BY id";
/// One writer at a time: id order is commit order (`?2` is the cursor's xid, always 0 here).
pub const FEED_SQLITE: &str =
    "SELECT id, json FROM events WHERE namespace = ?1 AND ?2 = 0 AND id > ?3 ORDER BY id LIMIT ?4";
/// Every channel's events (the push), each with its namespace.
pub const FEED_ALL_SQLITE: &str =
    "SELECT id, namespace, json FROM events WHERE ?1 = 0 AND id > ?2 ORDER BY id LIMIT ?3";
pub const FEED_ALL_POSTGRES: &str = "SELECT xid::text, id, namespace, json FROM events
    WHERE (xid, id) > (?1::text::xid8, ?2) AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY xid, id LIMIT ?3";
/// Only transactions older than every running one: nothing can commit later before what this returns.
pub const FEED_POSTGRES: &str = "SELECT xid::text, id, json FROM events
    WHERE namespace = ?1 AND (xid, id) > (?2::text::xid8, ?3) AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY xid, id LIMIT ?4";

/// No row when a reply with the same request key is already queued. A reply may be leased as it is queued, so
/// that the node sending it at once holds it before any other node's queue worker can see it.
pub const ENQUEUE: &str = "INSERT INTO outbox
    (namespace, plan, status, attempts, next_attempt_at, request_key, lease_holder, lease_expires_at)
    VALUES (?1, ?2, 'pending', 0, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING RETURNING id";
pub const ENQUEUED_BY_KEY: &str = "SELECT id FROM outbox WHERE namespace = ?1 AND request_key = ?2";
/// `{lock}` is where PostgreSQL says `FOR UPDATE SKIP LOCKED`: two nodes never claim the same row, and neither
/// waits for the other. (SQLite has one writer at a time, so it needs nothing there.)
pub const CLAIM_DUE: &str = "UPDATE outbox SET lease_holder = ?3, lease_expires_at = ?4
    WHERE id IN (SELECT id FROM outbox WHERE namespace = ?1 AND status = 'pending' AND next_attempt_at <= ?2
                 AND (lease_expires_at IS NULL OR lease_expires_at < ?2) ORDER BY id LIMIT ?5 {lock})
    RETURNING id, plan, attempts, in_flight";
/// The plan is stored with the mark: a node that takes the reply over resumes from the message in flight, never
/// from one already accepted.
pub const MARK_IN_FLIGHT: &str = "UPDATE outbox SET in_flight = TRUE, plan = ?3 WHERE id = ?1 AND lease_holder = ?2";
/// Settling gives the lease back; it only counts from the node that holds it.
pub const SETTLE: &str = "UPDATE outbox SET status = ?3, plan = ?4, attempts = ?5, next_attempt_at = ?6, report = ?7,
    in_flight = FALSE, lease_holder = NULL, lease_expires_at = NULL, settled_at = ?8 WHERE id = ?1 AND lease_holder = ?2";
/// What the queue holds that is still to send: rows, and bytes of plans.
pub const PENDING_LOAD: &str = "SELECT count(*), coalesce(sum(length(plan)), 0) FROM outbox
    WHERE namespace = ?1 AND status = 'pending'";
/// Settled rows older than the retention period (rows settled before version 3 count as old).
pub const PURGE_SETTLED: &str = "DELETE FROM outbox WHERE namespace = ?1 AND status <> 'pending'
    AND coalesce(settled_at, 0) < ?2";
pub const OUTBOX_STATUS: &str = "SELECT status, attempts, report FROM outbox WHERE id = ?1 AND namespace = ?2";

pub const TOUCH_ACCOUNT: &str = "INSERT INTO account_activity (namespace, account_id, at) VALUES (?1, ?2, ?3)";
pub const TOUCH_CUSTOMER: &str =
    "INSERT INTO customer_activity (namespace, account_id, customer_id, at) VALUES (?1, ?2, ?3, ?4)";
pub const LAST_WEBHOOK: &str = "SELECT max(at) FROM account_activity WHERE namespace = ?1 AND account_id = ?2";
pub const LAST_CUSTOMER_MESSAGE: &str =
    "SELECT max(at) FROM customer_activity WHERE namespace = ?1 AND account_id = ?2 AND customer_id = ?3";

/// Retention (`?1` the namespace, `?2` the cutoff): bodies emptied, then deliveries and their events deleted, then
/// activity rows deleted unless they are the latest of their account (or customer).
pub const PRUNE_BODIES: &str = "UPDATE deliveries SET body = substr(body, 1, 0)
    WHERE namespace = ?1 AND received_at < ?2 AND length(body) > 0";
pub const PRUNE_EVENTS: &str = "DELETE FROM events WHERE namespace = ?1
    AND delivery_id IN (SELECT id FROM deliveries WHERE namespace = ?1 AND received_at < ?2)";
/// The plugin's dedup marks (`seen/...`) written before the cutoff; a mark older than any redelivery has done its
/// work. (Rows written before version 7 carry the migration's time.)
pub const PRUNE_DEDUP_MARKS: &str = "DELETE FROM kv WHERE namespace = ?1 AND key >= 'seen/' AND key < 'seen0'
    AND written_at < ?2";
pub const PRUNE_DELIVERIES: &str = "DELETE FROM deliveries WHERE namespace = ?1 AND received_at < ?2";
pub const PRUNE_ACCOUNT_ACTIVITY: &str = "DELETE FROM account_activity WHERE namespace = ?1 AND at < ?2
    AND EXISTS (SELECT 1 FROM account_activity later WHERE later.namespace = account_activity.namespace
                AND later.account_id = account_activity.account_id AND later.at > account_activity.at)";
pub const PRUNE_CUSTOMER_ACTIVITY: &str = "DELETE FROM customer_activity WHERE namespace = ?1 AND at < ?2
    AND EXISTS (SELECT 1 FROM customer_activity later WHERE later.namespace = customer_activity.namespace
                AND later.account_id = customer_activity.account_id
                AND later.customer_id = customer_activity.customer_id AND later.at > customer_activity.at)";

pub const LAST_NOTICE: &str = "SELECT noticed_at FROM notices WHERE namespace = ?1 AND account_id = ?2";
pub const FIRST_NOTICE: &str =
    "INSERT INTO notices (namespace, account_id, noticed_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
pub const NEXT_NOTICE: &str =
    "UPDATE notices SET noticed_at = ?3 WHERE namespace = ?1 AND account_id = ?2 AND noticed_at = ?4";

/// Taken when free or expired, renewed by its holder; otherwise no row changes.
pub const TAKE_LEASE: &str = "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?4)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE leases.expires_at < ?3 OR leases.holder = ?2";
/// Gives a lease back (a node stopping): the next node, or the same one restarted, takes it at once.
pub const RELEASE_LEASE: &str = "DELETE FROM leases WHERE name = ?1 AND holder = ?2";

/// What the host keeps of one account of a channel, erased when Meta asks for the account's data to be deleted.
/// Each takes the namespace and `?2`: the account id, or for events a `LIKE` pattern of its id in their JSON.
pub const FORGET_BODIES: &str = "UPDATE deliveries SET body = substr(body, 1, 0) WHERE namespace = ?1
    AND id IN (SELECT delivery_id FROM events WHERE namespace = ?1 AND json LIKE ?2 ESCAPE '\\')";
/// The account's events.
pub const FORGET_EVENTS: &str = "DELETE FROM events WHERE namespace = ?1 AND json LIKE ?2 ESCAPE '\\'";
/// When the account had webhooks.
pub const FORGET_ACCOUNT_ACTIVITY: &str = "DELETE FROM account_activity WHERE namespace = ?1 AND account_id = ?2";
/// When its customers wrote.
pub const FORGET_CUSTOMER_ACTIVITY: &str = "DELETE FROM customer_activity WHERE namespace = ?1 AND account_id = ?2";
/// When its owners were told.
pub const FORGET_NOTICES: &str = "DELETE FROM notices WHERE namespace = ?1 AND account_id = ?2";

/// Routes an account to a channel, unless another channel holds it (then no row changes).
pub const CLAIM_ROUTE: &str = "INSERT INTO account_routes (account_id, namespace, linked_at) VALUES (?2, ?1, ?3)
    ON CONFLICT (account_id) DO UPDATE SET linked_at = excluded.linked_at
    WHERE account_routes.namespace = excluded.namespace";
pub const RELEASE_ROUTE: &str = "DELETE FROM account_routes WHERE namespace = ?1 AND account_id = ?2";
pub const ROUTE_OF: &str = "SELECT namespace FROM account_routes WHERE account_id = ?1";
/// Every channel the deployment knows: one that linked an account or has settings of its own.
pub const CHANNELS_KNOWN: &str =
    "SELECT namespace FROM account_routes UNION SELECT namespace FROM channel_settings ORDER BY 1";
/// Channels with a reply due now.
pub const CHANNELS_DUE: &str =
    "SELECT DISTINCT namespace FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY 1";
pub const CHANNEL_SETTINGS: &str = "SELECT settings FROM channel_settings WHERE namespace = ?1";
pub const SET_CHANNEL_SETTINGS: &str = "INSERT INTO channel_settings (namespace, settings) VALUES (?1, ?2)
    ON CONFLICT (namespace) DO UPDATE SET settings = excluded.settings";
