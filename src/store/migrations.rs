//! Versioned schema migrations, the one place the schema is written: applied in order inside
//! one transaction each (the applied version is SQLite's `user_version`); PostgreSQL applies
//! the same text translated to its types (`postgres/schema.rs`).
//!
//! Besides SQL both databases know, a migration may call `sha256_hex(text)` (lower-case hex
//! SHA-256 of the text's UTF-8 bytes): SQLite gets it as a function written in Rust
//! ([`register_functions`]), PostgreSQL as an SQL function over its built-in `sha256`,
//! defined for the migration's transaction only.
use super::error::{Context, DbResult, bail};
use rusqlite::Connection;

pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the whole first schema.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE papers (
        id          TEXT PRIMARY KEY,
        data        TEXT NOT NULL,            -- JSON of domain::Paper
        upvotes     INTEGER,
        first_seen  INTEGER NOT NULL,         -- when paperpost first stored it
        updated_at  INTEGER NOT NULL,
        replacement INTEGER NOT NULL DEFAULT 0 -- first seen as an arXiv replacement: not news
    );
    CREATE INDEX papers_by_first_seen ON papers (first_seen);

    CREATE TABLE subscribers (
        id              INTEGER PRIMARY KEY,
        email           TEXT NOT NULL,
        email_key       TEXT NOT NULL UNIQUE,  -- lower case, for duplicate checks
        name            TEXT,
        status          TEXT NOT NULL,
        topics          TEXT NOT NULL DEFAULT '',
        frequency       TEXT NOT NULL DEFAULT 'weekly',
        timezone        TEXT,
        send_hour       INTEGER,
        token           TEXT NOT NULL,         -- 128-bit secret for unsubscribe/preferences links
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        confirmed_at    INTEGER,
        unsubscribed_at INTEGER
    );
    CREATE INDEX subscribers_by_status ON subscribers (status);

    CREATE TABLE editions (
        id          INTEGER PRIMARY KEY,
        period_key  TEXT NOT NULL UNIQUE,      -- 2026-W48 or 2026-11-26
        created_at  INTEGER NOT NULL,
        public      TEXT                       -- JSON picks of the public (trending) edition
    );

    CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY,
        edition_id      INTEGER NOT NULL REFERENCES editions (id),
        subscriber_id   INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        state           TEXT NOT NULL,         -- pending|sending|sent|retry|failed|unknown|skipped
        picks           TEXT NOT NULL,         -- JSON [{id, reasons}]
        message_id      TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        reclaimed       INTEGER NOT NULL DEFAULT 0, -- times a crashed run's lease was taken over
        next_attempt_at INTEGER,
        lease_owner     TEXT,
        lease_until     INTEGER,
        relay           TEXT,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        sent_at         INTEGER,
        UNIQUE (edition_id, subscriber_id)
    );
    CREATE INDEX deliveries_by_state ON deliveries (state, next_attempt_at);
    CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id, created_at);

    -- Papers already put in a digest for a subscriber: never picked for them again.
    CREATE TABLE sent_papers (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        paper_id      TEXT NOT NULL,
        edition_id    INTEGER NOT NULL,
        PRIMARY KEY (subscriber_id, paper_id)
    ) WITHOUT ROWID;

    -- Addresses that hard-bounced (5xx): every later send skips them.
    CREATE TABLE suppressions (
        email_key  TEXT PRIMARY KEY,
        reason     TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );

    -- Conditional GET validators per URL (ETag / Last-Modified).
    CREATE TABLE http_validators (
        url           TEXT PRIMARY KEY,
        etag          TEXT,
        last_modified TEXT
    );

    -- Named leases that keep two processes from doing the same job (scheduler runs, sends).
    CREATE TABLE locks (
        name        TEXT PRIMARY KEY,
        owner       TEXT NOT NULL,
        until       INTEGER NOT NULL
    );

    -- One row per fetch or send run, for `paperpost status`.
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER,
        summary     TEXT NOT NULL DEFAULT '{}'
    );
    "#,
    // 2: web sign-ups — confirmation tokens (only a hash of the secret) and the subscribe
    // attempts the rate limits count (keyed by HMACs of address and IP, never the raw values).
    r#"
    CREATE TABLE confirmations (
        id            INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        secret_hash   TEXT NOT NULL,           -- hex SHA-256 of the token's secret half
        created_at    INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        used_at       INTEGER
    );
    CREATE INDEX confirmations_by_subscriber ON confirmations (subscriber_id);

    CREATE TABLE subscribe_attempts (
        id          INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        ip_key      TEXT NOT NULL,
        address_key TEXT NOT NULL,
        mailed      INTEGER NOT NULL           -- 1 when this attempt sent a mail
    );
    CREATE INDEX subscribe_attempts_by_ip ON subscribe_attempts (ip_key, at);
    CREATE INDEX subscribe_attempts_by_address ON subscribe_attempts (address_key, at);
    CREATE INDEX subscribe_attempts_by_at ON subscribe_attempts (at);
    "#,
    // 3 (issue 8, i8input): the marker that tells a paperpost store from any other SQLite
    // file; `Store::open` refuses an existing database without it (see `STORE_MARKER`).
    r#"
    INSERT INTO meta (key, value) VALUES ('paperpost_store', '1')
        ON CONFLICT (key) DO NOTHING;
    "#,
    // 4 (issue 11, bounces and complaints — i11bounce): every bounce or complaint message
    // `paperpost bounces ingest` read (by a hash, so reading it again changes nothing), and
    // each bounce or complaint it reported, tied to its delivery and edition when known.
    r#"
    CREATE TABLE bounce_messages (
        hash        TEXT PRIMARY KEY,          -- hex SHA-256 of the Message-ID, else of the bytes
        outcome     TEXT NOT NULL,             -- matched | unmatched | ignored
        ingested_at INTEGER NOT NULL
    );

    CREATE TABLE bounces (
        id           INTEGER PRIMARY KEY,
        message_hash TEXT NOT NULL REFERENCES bounce_messages (hash),
        kind         TEXT NOT NULL,            -- hard | soft | complaint
        email_key    TEXT NOT NULL,
        delivery_id  INTEGER REFERENCES deliveries (id) ON DELETE SET NULL,
        edition_id   INTEGER REFERENCES editions (id) ON DELETE SET NULL,
        status       TEXT,                     -- DSN status (5.1.1) or ARF Feedback-Type
        reason       TEXT NOT NULL,
        at           INTEGER NOT NULL          -- when the report says it happened
    );
    CREATE INDEX bounces_by_address ON bounces (email_key, kind, at);
    CREATE INDEX bounces_by_edition ON bounces (edition_id);
    "#,
    // 5 (issue 13, honest endings): how each send run ended, so a run taking over rows
    // can say whether their holder crashed or stopped on an error; and whose lease a
    // taken-over row was under.
    r#"
    CREATE TABLE send_runs (
        owner       TEXT PRIMARY KEY,          -- the lease owner of the run
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER,                   -- NULL while running (or if it never ended)
        end_state   TEXT NOT NULL,             -- running | finished | stopped
        error       TEXT                       -- why a stopped run stopped
    );
    ALTER TABLE deliveries ADD COLUMN reclaimed_from TEXT;  -- owner whose lease expired
    "#,
    // 6 (issue 9, likes): a reader's 👍/👎 per paper, the latest verdict only; the
    // recommender trains on them.
    r#"
    CREATE TABLE feedback (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        paper_id      TEXT NOT NULL,
        value         INTEGER NOT NULL CHECK (value IN (-1, 1)), -- +1 like, -1 dislike
        at            INTEGER NOT NULL,
        PRIMARY KEY (subscriber_id, paper_id)
    ) WITHOUT ROWID;
    "#,
    // 7 (issue 12, i12read): the editor's note per edition and pinned papers ("Editor's
    // picks"), keyed by period key so they can be set before the edition is planned.
    r#"
    CREATE TABLE edition_notes (
        period_key TEXT PRIMARY KEY,
        note       TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE edition_pins (
        period_key TEXT NOT NULL,
        paper_id   TEXT NOT NULL,
        note       TEXT,
        position   INTEGER NOT NULL,
        pinned_at  INTEGER NOT NULL,
        PRIMARY KEY (period_key, paper_id)
    );
    "#,
    // 8 (issue 12, i12rest): the editor's note as it was when each digest was planned, so
    // the mail and its web copy say the same whatever the editor changes later (the pinned
    // papers are frozen the same way, in `picks`).
    r#"
    ALTER TABLE deliveries ADD COLUMN editor_note TEXT;
    "#,
    // 9 (issue 19, operators): operator accounts (an Argon2id PHC string, never the
    // password), their signed-in sessions (only a SHA-256 of the cookie's session id; a
    // per-session CSRF secret; idle and absolute expiry) and failed sign-ins, counted per
    // client IP and per account name (both as HMACs, as the sign-up limits keep theirs) so
    // every instance behind a load balancer throttles alike.
    r#"
    CREATE TABLE operators (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,      -- lower case (domain::OperatorName)
        password_hash   TEXT NOT NULL,             -- $argon2id$v=19$m=…,t=…,p=…$salt$hash
        created_at      INTEGER NOT NULL,
        password_set_at INTEGER NOT NULL,
        last_sign_in_at INTEGER
    );

    CREATE TABLE operator_sessions (
        id_hash     TEXT PRIMARY KEY,              -- hex SHA-256 of the cookie's session id
        operator_id INTEGER REFERENCES operators (id) ON DELETE CASCADE, -- NULL: loopback
        kind        TEXT NOT NULL,                 -- password | loopback
        csrf        TEXT NOT NULL,                 -- the session's CSRF secret
        created_at  INTEGER NOT NULL,
        last_seen   INTEGER NOT NULL,              -- idle expiry counts from here
        expires_at  INTEGER NOT NULL               -- absolute expiry
    );
    CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);
    CREATE INDEX operator_sessions_by_expiry ON operator_sessions (expires_at);

    CREATE TABLE login_attempts (
        id          INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        ip_key      TEXT NOT NULL,                 -- HMAC of the client IP (IPv6: its /64)
        account_key TEXT NOT NULL                  -- HMAC of the name typed
    );
    CREATE INDEX login_attempts_by_ip ON login_attempts (ip_key, at);
    CREATE INDEX login_attempts_by_account ON login_attempts (account_key, at);
    CREATE INDEX login_attempts_by_at ON login_attempts (at);
    "#,
    // 10 (issue 20, library): a reader's profile seeds — the papers of the library files
    // they brought (`subscribers seed`, the preferences page's upload), each keyed by its
    // arXiv id, else its DOI, else a hash of its normalised title, with its text, the file
    // it came from, and the stored paper it names when there is one.
    r#"
    CREATE TABLE seed_imports (
        id            INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        file_name     TEXT NOT NULL,
        format        TEXT NOT NULL,             -- bibtex | ris | csl-json | csv
        content_hash  TEXT NOT NULL,             -- hex SHA-256 of the file's bytes
        imported_at   INTEGER NOT NULL,
        UNIQUE (subscriber_id, content_hash)
    );

    CREATE TABLE seeds (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        seed_key      TEXT NOT NULL,             -- arxiv:ID | doi:DOI | title:HASH
        import_id     INTEGER NOT NULL REFERENCES seed_imports (id) ON DELETE CASCADE,
        line          INTEGER NOT NULL,          -- where the entry starts in that file
        arxiv_id      TEXT,
        doi           TEXT,
        title         TEXT NOT NULL,
        abstract      TEXT NOT NULL,
        authors       TEXT NOT NULL,             -- JSON array of names
        year          INTEGER,
        paper_id      TEXT,                      -- the stored paper it names, if any
        PRIMARY KEY (subscriber_id, seed_key)
    ) WITHOUT ROWID;
    CREATE INDEX seeds_by_import ON seeds (import_id);
    "#,
    // 11 (issue 19, bounces): reports about a reader that proved nothing (no VERP token
    // whose check verifies, no Message-ID of a delivery to that address), kept to be counted
    // and shown but never acted on; and every suppression lifted (a reader confirmed a new
    // sign-up, or the operator ran `deliveries unsuppress`), so `subscribers show` can say
    // what happened to it.
    r#"
    CREATE TABLE unverified_reports (
        id           INTEGER PRIMARY KEY,
        message_hash TEXT NOT NULL REFERENCES bounce_messages (hash),
        kind         TEXT NOT NULL,            -- hard | soft | complaint
        email_key    TEXT NOT NULL,            -- the address the report names
        reason       TEXT NOT NULL,            -- what the report says
        why          TEXT NOT NULL,            -- why it was not believed
        at           INTEGER NOT NULL          -- when the report says it happened
    );
    CREATE INDEX unverified_reports_by_time ON unverified_reports (at);
    CREATE TABLE suppression_lifts (
        id            INTEGER PRIMARY KEY,
        email_key     TEXT NOT NULL,
        reason        TEXT NOT NULL,           -- the suppression's reason
        suppressed_at INTEGER NOT NULL,
        lifted_at     INTEGER NOT NULL,
        lifted_by     TEXT NOT NULL            -- reconfirmed | operator
    );
    CREATE INDEX suppression_lifts_by_address ON suppression_lifts (email_key, lifted_at);
    "#,
    // 12 (issue 19, tokens): a token per purpose. Readers' link tokens are derived from the
    // server's key (`security::reader_tokens`), never stored: per purpose (copy, feed,
    // manage) a generation that revoking adds one to, and when it was last revoked; a random
    // salt per reader (NULL for the readers already here: no token of theirs was derived
    // before). The one plain token of earlier links becomes a SHA-256 of it, so links
    // already mailed keep working for what they were for, and no token is stored as itself.
    r#"
    ALTER TABLE subscribers ADD COLUMN token_salt TEXT;
    ALTER TABLE subscribers ADD COLUMN copy_generation INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE subscribers ADD COLUMN feed_generation INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE subscribers ADD COLUMN manage_generation INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE subscribers ADD COLUMN copy_revoked_at INTEGER;
    ALTER TABLE subscribers ADD COLUMN feed_revoked_at INTEGER;
    ALTER TABLE subscribers ADD COLUMN manage_revoked_at INTEGER;
    ALTER TABLE subscribers ADD COLUMN legacy_token_hash TEXT;  -- hex SHA-256 of the old secret
    UPDATE subscribers SET legacy_token_hash = sha256_hex(token);
    ALTER TABLE subscribers DROP COLUMN token;
    "#,
    // 13 (issue 20, vectors): each stored paper's embedding vector, computed when the paper
    // is stored (and by planning for any still missing), kept per model (its name and the
    // SHA-256 of its weights) with a SHA-256 of the exact text embedded: a vector is used
    // only while both still match, so a paper whose title or abstract a merge changed, or a
    // store whose model changed, gets its vector recomputed. Storing a model's vector for a
    // paper drops the paper's vectors of other models.
    r#"
    CREATE TABLE paper_vectors (
        paper_id  TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        model     TEXT NOT NULL,              -- name@sha256-of-weights (ModelIdentity::key)
        text_hash TEXT NOT NULL,              -- hex SHA-256 of embed::paper_text
        vector    BLOB NOT NULL,              -- little-endian f32s, the model's dimension
        PRIMARY KEY (paper_id, model)
    ) WITHOUT ROWID;
    "#,
    // 14 (issue 21, the store written once): text compares byte by byte in both databases,
    // so one statement orders the same in each. SQLite's BINARY collation already does;
    // PostgreSQL's text columns become `COLLATE "C"` (`postgres/schema.rs` writes it into
    // every TEXT column of a new store and, for this version, alters an existing store's).
    r#"
    SELECT 1;
    "#,
    // 15 (issue 22, the reputation guard): each time sending paused itself because a
    // hard-bounce or complaint rate passed its `[delivery.guard]` threshold, with the numbers
    // that tripped it, and who lifted it when. `in_force` is 1 on the pause in force and NULL on
    // every lifted one: its unique key lets one pause at most be in force, whichever
    // process trips it first. The guard counts deliveries sent in its window and the reports
    // about them, looked up by these two indexes.
    r#"
    CREATE TABLE sending_pauses (
        id          INTEGER PRIMARY KEY,
        paused_at   INTEGER NOT NULL,
        kind        TEXT NOT NULL,             -- complaint | hard_bounce
        edition     TEXT,                      -- the period key whose rate tripped; NULL: window
        reports     INTEGER NOT NULL,          -- deliveries reported (of that kind)
        delivered   INTEGER NOT NULL,          -- deliveries sent in the scope
        threshold   DOUBLE PRECISION NOT NULL, -- the rate it went over
        reason      TEXT NOT NULL,             -- the sentence shown by status and send
        tripped_by  TEXT NOT NULL,             -- bounces ingest | send
        in_force    INTEGER UNIQUE CHECK (in_force = 1), -- 1 while in force, else NULL
        resumed_at  INTEGER,
        resumed_by  TEXT
    );
    CREATE INDEX deliveries_by_sent_at ON deliveries (sent_at);
    CREATE INDEX bounces_by_delivery ON bounces (delivery_id, kind);
    "#,
    // 16 (issue 22, any paper feed): the other keys a stored paper is found by. A paper not
    // on arXiv is stored under `doi:DOI` or `ext:URL`; a sighting of it keyed otherwise (an
    // arXiv paper's journal DOI, a preprint's published-version DOI, a DOI a feed gives
    // beside its link) is merged into the paper the alias names instead of stored twice.
    // Written by `upsert_papers` for every key of every paper it stores; the stored id
    // itself is never an alias.
    r#"
    CREATE TABLE paper_aliases (
        alias    TEXT PRIMARY KEY,          -- a PaperId: an arXiv id, doi:DOI or ext:URL
        paper_id TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE
    );
    CREATE INDEX paper_aliases_by_paper ON paper_aliases (paper_id);
    "#,
    // 17 (issue 22, several newsletters): each subscription, edition, editor's note and pin,
    // and each pause of the reputation guard, belongs to one newsletter, named by its slug
    // (`main`: every row of a store made before). A reader of two newsletters has a row in
    // each (own topics, frequency and links); the address is unique per newsletter, an
    // edition's period per newsletter. SQLite cannot change a table's unique keys in place,
    // so the tables are rebuilt with every row and id kept (foreign keys are off while it
    // runs, see `FOREIGN_KEYS_OFF`); PostgreSQL alters them (`postgres/schema.rs`).
    r#"
    CREATE TABLE subscribers_v17 (
        id                INTEGER PRIMARY KEY,
        email             TEXT NOT NULL,
        email_key         TEXT NOT NULL,
        name              TEXT,
        status            TEXT NOT NULL,
        topics            TEXT NOT NULL DEFAULT '',
        frequency         TEXT NOT NULL DEFAULT 'weekly',
        timezone          TEXT,
        send_hour         INTEGER,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL,
        confirmed_at      INTEGER,
        unsubscribed_at   INTEGER,
        token_salt        TEXT,
        copy_generation   INTEGER NOT NULL DEFAULT 0,
        feed_generation   INTEGER NOT NULL DEFAULT 0,
        manage_generation INTEGER NOT NULL DEFAULT 0,
        copy_revoked_at   INTEGER,
        feed_revoked_at   INTEGER,
        manage_revoked_at INTEGER,
        legacy_token_hash TEXT,
        newsletter        TEXT NOT NULL DEFAULT 'main',
        UNIQUE (newsletter, email_key)
    );
    INSERT INTO subscribers_v17 (id, email, email_key, name, status, topics, frequency,
        timezone, send_hour, created_at, updated_at, confirmed_at, unsubscribed_at, token_salt,
        copy_generation, feed_generation, manage_generation, copy_revoked_at, feed_revoked_at,
        manage_revoked_at, legacy_token_hash)
    SELECT id, email, email_key, name, status, topics, frequency, timezone, send_hour,
        created_at, updated_at, confirmed_at, unsubscribed_at, token_salt, copy_generation,
        feed_generation, manage_generation, copy_revoked_at, feed_revoked_at,
        manage_revoked_at, legacy_token_hash
    FROM subscribers;
    DROP TABLE subscribers;
    ALTER TABLE subscribers_v17 RENAME TO subscribers;
    CREATE INDEX subscribers_by_status ON subscribers (status);
    CREATE INDEX subscribers_by_email ON subscribers (email_key);

    CREATE TABLE editions_v17 (
        id          INTEGER PRIMARY KEY,
        period_key  TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        public      TEXT,
        newsletter  TEXT NOT NULL DEFAULT 'main',
        UNIQUE (newsletter, period_key)
    );
    INSERT INTO editions_v17 (id, period_key, created_at, public)
    SELECT id, period_key, created_at, public FROM editions;
    DROP TABLE editions;
    ALTER TABLE editions_v17 RENAME TO editions;

    CREATE TABLE edition_notes_v17 (
        period_key TEXT NOT NULL,
        note       TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        newsletter TEXT NOT NULL DEFAULT 'main',
        PRIMARY KEY (newsletter, period_key)
    );
    INSERT INTO edition_notes_v17 (period_key, note, updated_at)
    SELECT period_key, note, updated_at FROM edition_notes;
    DROP TABLE edition_notes;
    ALTER TABLE edition_notes_v17 RENAME TO edition_notes;

    CREATE TABLE edition_pins_v17 (
        period_key TEXT NOT NULL,
        paper_id   TEXT NOT NULL,
        note       TEXT,
        position   INTEGER NOT NULL,
        pinned_at  INTEGER NOT NULL,
        newsletter TEXT NOT NULL DEFAULT 'main',
        PRIMARY KEY (newsletter, period_key, paper_id)
    );
    INSERT INTO edition_pins_v17 (period_key, paper_id, note, position, pinned_at)
    SELECT period_key, paper_id, note, position, pinned_at FROM edition_pins;
    DROP TABLE edition_pins;
    ALTER TABLE edition_pins_v17 RENAME TO edition_pins;

    CREATE TABLE sending_pauses_v17 (
        id          INTEGER PRIMARY KEY,
        paused_at   INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        edition     TEXT,
        reports     INTEGER NOT NULL,
        delivered   INTEGER NOT NULL,
        threshold   DOUBLE PRECISION NOT NULL,
        reason      TEXT NOT NULL,
        tripped_by  TEXT NOT NULL,
        in_force    INTEGER CHECK (in_force = 1),
        resumed_at  INTEGER,
        resumed_by  TEXT,
        newsletter  TEXT NOT NULL DEFAULT 'main',
        UNIQUE (newsletter, in_force)
    );
    INSERT INTO sending_pauses_v17 (id, paused_at, kind, edition, reports, delivered,
        threshold, reason, tripped_by, in_force, resumed_at, resumed_by)
    SELECT id, paused_at, kind, edition, reports, delivered, threshold, reason, tripped_by,
        in_force, resumed_at, resumed_by FROM sending_pauses;
    DROP TABLE sending_pauses;
    ALTER TABLE sending_pauses_v17 RENAME TO sending_pauses;
    "#,
];

/// The first schema version with several newsletters.
pub(super) const NEWSLETTERS_SINCE: usize = 17;

/// SQLite migrations that rebuild a table other tables point at: they run with foreign keys
/// off (dropping the old table would otherwise cascade into its children), and the store's
/// foreign keys are checked before they commit.
const FOREIGN_KEYS_OFF: &[usize] = &[NEWSLETTERS_SINCE];

/// The first schema version with `paper_aliases`.
pub(super) const ALIASES_SINCE: i64 = 16;

/// The schema version of a fully migrated store.
pub(super) const LATEST: usize = MIGRATIONS.len();

/// Applies the migrations up to `target` (tests make older stores with it).
pub(super) fn migrate_to(conn: &mut Connection, target: usize) -> DbResult<()> {
    let current: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if current > MIGRATIONS.len() {
        return Err(super::StoreError::Schema {
            op: "open",
            found: current as i64,
            expected: MIGRATIONS.len() as i64,
        }
        .into());
    }
    if current >= target {
        return Ok(());
    }
    register_functions(conn)?;
    let mut scrub = false;
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        let version = i + 1;
        let rebuild = FOREIGN_KEYS_OFF.contains(&version);
        if rebuild {
            conn.pragma_update(None, "foreign_keys", "OFF")?;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("Failed to apply store migration {version}"))?;
        if rebuild {
            let broken: i64 =
                tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if broken != 0 {
                bail!("store migration {version} left {broken} rows pointing at nothing");
            }
        }
        tx.pragma_update(None, "user_version", version as i64)?;
        tx.commit()?;
        if rebuild {
            conn.pragma_update(None, "foreign_keys", "ON")?;
        }
        tracing::info!(version, "applied store migration");
        // A new store (version 0) never held what these migrations remove.
        scrub |= current > 0 && SCRUBBED.iter().any(|(v, _)| *v == version);
    }
    if scrub {
        // SQLite leaves removed values in the file's free space, and the write-ahead log
        // holds pages as they were until a checkpoint: rebuild the file, then empty the log.
        conn.execute_batch("VACUUM")
            .context("Failed to rebuild the store after removing secrets")?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        tracing::info!("rebuilt the store file so no removed secret is left in it");
    }
    Ok(())
}

/// Migrations that remove secrets, and the table they remove them from: once one of them
/// is applied, the table is rebuilt (SQLite: the whole file, `VACUUM`; PostgreSQL: `VACUUM
/// FULL` of the table), so the removed values are not left in free space or dead rows.
pub(super) const SCRUBBED: &[(usize, &str)] = &[(12, "subscribers")];

/// The functions migrations may call besides SQLite's own (see the module's doc).
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "sha256_hex",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(super::sha256_hex(&ctx.get::<String>(0)?)),
    )
}
