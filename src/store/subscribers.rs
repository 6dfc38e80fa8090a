//! Subscribers: add, list, find, update, remove; capability tokens; suppressions.
use super::db::{Conn, Row};
use super::error::DbResult;
use super::{Store, StoreError, from_ts, random_token, ts};
use crate::domain::{
    DisplayName, LiftedBy, NewSubscriber, ReaderTokens, StoredName, Subscriber, SubscriberEmail,
    SubscriberStatus, SubscriberUpdate, TokenGeneration, TokenPurpose, Topics,
    UnreadableSubscriber,
};
use chrono::{DateTime, Utc};

pub(super) const COLUMNS: &str = "id, email, name, status, topics, frequency, timezone, send_hour, created_at, \
     token_salt, legacy_token_hash, copy_generation, feed_generation, manage_generation, \
     copy_revoked_at, feed_revoked_at, manage_revoked_at, newsletter";
/// The same columns of a `subscribers s` joined in another query.
pub(super) const COLUMNS_S: &str = "s.id, s.email, s.name, s.status, s.topics, s.frequency, s.timezone, s.send_hour, s.created_at, \
     s.token_salt, s.legacy_token_hash, s.copy_generation, s.feed_generation, s.manage_generation, \
     s.copy_revoked_at, s.feed_revoked_at, s.manage_revoked_at, s.newsletter";

pub(super) fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Sets a reader's status inside a transaction: every status change goes through here (the
/// preferences, the unsubscribe link, the CLI, a spam complaint). Into or out of
/// `unsubscribed` the capability token changes: links in mails sent before an unsubscribe
/// (preferences, unsubscribe) stop working, so none can rewrite a later sign-up of the same
/// address. Returns the rows changed.
pub(super) fn set_status(
    c: &mut Conn<'_>,
    id: i64,
    status: SubscriberStatus,
    now: DateTime<Utc>,
) -> DbResult<u64> {
    // Into or out of `unsubscribed` every token of the reader is revoked: links in mails
    // sent before an unsubscribe (web copies, feed, preferences, unsubscribe) stop working,
    // so none can read or rewrite a later sign-up of the same address.
    c.execute(
        &revoke_sql(
            &TokenPurpose::ALL,
            "$2 AND (CAST($3 AS TEXT) = 'unsubscribed') <> (status = 'unsubscribed')",
            "$1",
        ),
        &[&ts(now), &id, &status.as_str()],
    )?;
    c.execute(
        "UPDATE subscribers SET status = $1,
            confirmed_at = CASE WHEN $1 = 'active' THEN COALESCE(confirmed_at, $2)
                                ELSE confirmed_at END,
            unsubscribed_at = CASE WHEN $1 = 'unsubscribed' THEN $2 ELSE NULL END
         WHERE id = $3",
        &[&status.as_str(), &ts(now), &id],
    )
}

/// Takes an address off the suppression list inside an operation's transaction, keeping
/// why it was on it and how it came off (`suppression_lifts`, which `subscribers show`
/// reads). Returns whether it was on the list.
pub(super) fn lift_suppression(
    c: &mut Conn<'_>,
    key: &str,
    by: LiftedBy,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    c.execute(
        "INSERT INTO suppression_lifts (email_key, reason, suppressed_at, lifted_at, lifted_by)
         SELECT email_key, reason, created_at, $1, $2 FROM suppressions WHERE email_key = $3",
        &[&ts(now), &by.as_str(), &key],
    )?;
    Ok(c.execute("DELETE FROM suppressions WHERE email_key = $1", &[&key])? > 0)
}

/// Refuses topics whose stored line would not read back as the same topics (today a phrase
/// holding quotes can be written so that its line re-parses differently or not at all):
/// what is stored must never be a row that fails or changes on the next read.
pub fn check_storable_topics(topics: &Topics) -> Result<(), String> {
    let line = topics.to_string();
    match Topics::parse_stored(&line) {
        Ok(back) if &back == topics => Ok(()),
        _ => Err(format!(
            "the topics `{line}` cannot be saved as written (a phrase with quotes inside?); please rephrase them"
        )),
    }
}

impl UnreadableSubscriber {
    /// Logs the skipped reader at warn level, naming them and the reason.
    pub(super) fn warn(&self) {
        tracing::warn!(
            subscriber_id = self.id,
            email = %self.email.escape_debug(),
            reason = %self.reason,
            "skipping a subscriber whose stored row cannot be read"
        );
    }
}

/// A row of [`COLUMNS`]: the subscriber, or why it cannot be read. Only database errors
/// (a missing column, a wrong SQL type) are `Err`.
pub(super) type SubscriberRow = Result<Subscriber, UnreadableSubscriber>;

/// Reads the subscriber columns (`COLUMNS`, or `COLUMNS_S` of a join) starting at column
/// `at`; [`StoredSubscriber::parse`] makes them a subscriber or the reason they cannot be
/// one. Every text column is read leniently ([`LenientText`]), so only database errors (a
/// missing column, a wrong SQL type) are `Err`.
pub(super) fn subscriber_at(r: &Row<'_>, at: usize) -> DbResult<SubscriberRow> {
    let text = |i: usize| -> DbResult<StoredText> {
        Ok(r.get::<Option<LenientText>>(at + i)?.map(|t| t.0))
    };
    Ok(StoredSubscriber {
        id: r.get(at)?,
        email: text(1)?,
        name: text(2)?,
        status: text(3)?,
        topics: text(4)?,
        frequency: text(5)?,
        timezone: text(6)?,
        send_hour: r.get(at + 7)?,
        created_at: r.get(at + 8)?,
        token_salt: text(9)?,
        legacy_token_hash: text(10)?,
        generations: [r.get(at + 11)?, r.get(at + 12)?, r.get(at + 13)?],
        revoked_at: [r.get(at + 14)?, r.get(at + 15)?, r.get(at + 16)?],
        newsletter: r.get(at + 17)?,
    }
    .parse())
}

/// A text column of a subscriber row, or (`Err`) the lossy rendering of what SQLite holds
/// there instead: bytes that are not valid UTF-8 (or a blob, or a number) are a reason the
/// row cannot be read, not an error of the whole query. PostgreSQL text is always valid
/// UTF-8, so there it is the text.
struct LenientText(Result<String, String>);

impl rusqlite::types::FromSql for LenientText {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        use rusqlite::types::ValueRef;
        Ok(LenientText(match v {
            ValueRef::Null => return Err(rusqlite::types::FromSqlError::InvalidType),
            ValueRef::Text(b) | ValueRef::Blob(b) => {
                String::from_utf8(b.to_vec()).map_err(|_| String::from_utf8_lossy(b).into_owned())
            }
            ValueRef::Integer(n) => Ok(n.to_string()),
            ValueRef::Real(x) => Ok(x.to_string()),
        }))
    }
}

impl<'a> tokio_postgres::types::FromSql<'a> for LenientText {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(LenientText(Ok(String::from_sql(ty, raw)?)))
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <String as tokio_postgres::types::FromSql>::accepts(ty)
    }
}

/// A stored text value: absent (NULL), the text, or (`Err`) the lossy rendering of bytes
/// that are not valid UTF-8.
pub(super) type StoredText = Option<Result<String, String>>;

/// The [`COLUMNS`] of one subscriber row as plain values, whichever backend read them;
/// [`StoredSubscriber::parse`] is the one place a row becomes a [`Subscriber`] or the
/// reason it cannot.
pub(super) struct StoredSubscriber {
    pub id: i64,
    pub email: StoredText,
    pub name: StoredText,
    pub status: StoredText,
    pub topics: StoredText,
    pub frequency: StoredText,
    pub timezone: StoredText,
    pub send_hour: Option<i64>,
    pub created_at: i64,
    pub token_salt: StoredText,
    pub legacy_token_hash: StoredText,
    /// Of the copy, feed and manage tokens, in that order.
    pub generations: [i64; 3],
    pub revoked_at: [Option<i64>; 3],
    pub newsletter: String,
}

impl StoredSubscriber {
    /// The subscriber, or why the row cannot be read (naming the field).
    pub(super) fn parse(self) -> SubscriberRow {
        let id = self.id;
        let raw_email = self.email.unwrap_or(Ok(String::new()));
        let shown = match &raw_email {
            Ok(e) | Err(e) => e.clone(),
        };
        let unreadable = |reason: String| UnreadableSubscriber {
            id,
            email: shown.clone(),
            reason,
        };
        let field = |name: &str, v: StoredText| match v {
            Some(Err(_)) => Err(unreadable(format!("{name}: not valid UTF-8"))),
            Some(Ok(s)) => Ok(Some(s)),
            None => Ok(None),
        };
        let email = field("email", Some(raw_email.clone()))?.unwrap_or_default();
        let email =
            SubscriberEmail::parse(&email).map_err(|e| unreadable(format!("email: {e}")))?;
        // Read leniently: a stored name that is not valid UTF-8 or that today's rules
        // refuse is kept (shown escaped, editable); delivery refuses it for that reader.
        let name = match self.name {
            Some(Ok(n) | Err(n)) => StoredName::read(&n),
            None => None,
        };
        let status = field("status", self.status)?.unwrap_or_default();
        let status = status
            .parse()
            .map_err(|e| unreadable(format!("status: {e}")))?;
        let topics = field("topics", self.topics)?.unwrap_or_default();
        let topics = Topics::parse_stored(&topics)
            .map_err(|e| unreadable(format!("topics `{topics}`: {e}")))?;
        let frequency = field("frequency", self.frequency)?.unwrap_or_default();
        let frequency = frequency
            .parse()
            .map_err(|e| unreadable(format!("frequency: {e}")))?;
        let timezone = field("timezone", self.timezone)?.and_then(|t| t.parse().ok());
        let generation = |i: usize| TokenGeneration {
            generation: self.generations[i],
            revoked_at: self.revoked_at[i].map(from_ts),
        };
        let tokens = ReaderTokens {
            salt: field("token_salt", self.token_salt)?.unwrap_or_default(),
            copy: generation(0),
            feed: generation(1),
            manage: generation(2),
            legacy_hash: field("legacy_token_hash", self.legacy_token_hash)?,
        };
        Ok(Subscriber {
            id,
            newsletter: self.newsletter,
            email,
            name,
            status,
            topics,
            frequency,
            timezone,
            send_hour: self
                .send_hour
                .and_then(|h| u8::try_from(h).ok())
                .filter(|h| *h < 24),
            created_at: from_ts(self.created_at),
            tokens,
        })
    }
}

/// The statement that revokes a reader's tokens for `purposes`: each one's generation goes
/// up by one (every link made for an earlier one stops working) and its `revoked_at` is
/// `now`; the legacy token, which opened every purpose, is forgotten with any of them. One
/// text for both databases: `id` and `now` are placeholders (or, for `id`, a placeholder
/// and further conditions on the row). Unsubscribing goes through it, and so must anything
/// else that unsubscribes a reader (a complaint).
pub(super) fn revoke_sql(purposes: &[TokenPurpose], id: &str, now: &str) -> String {
    let mut set: Vec<String> = TokenPurpose::ALL
        .iter()
        .filter(|p| purposes.contains(p))
        .map(|p| {
            let p = p.as_str();
            format!("{p}_generation = {p}_generation + 1, {p}_revoked_at = {now}")
        })
        .collect();
    set.push("legacy_token_hash = NULL".into());
    format!("UPDATE subscribers SET {} WHERE id = {id}", set.join(", "))
}

/// A single looked-up row: an unreadable one is logged and treated as absent.
pub(super) fn readable(row: Option<SubscriberRow>) -> Option<Subscriber> {
    match row? {
        Ok(s) => Some(s),
        Err(u) => {
            u.warn();
            None
        }
    }
}

impl Store {
    /// Adds a subscriber to this handle's newsletter; an address it already has (in any
    /// letter case) is refused. Race-free across processes: `ON CONFLICT (newsletter,
    /// email_key) DO NOTHING` lets exactly one of
    /// two concurrent adds of the same address insert; the other gets no row back and
    /// reports the conflict.
    #[tracing::instrument(name = "Adding a subscriber", skip_all)]
    pub fn add_subscriber(
        &self,
        new: &NewSubscriber,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, StoreError> {
        check_storable_topics(&new.topics).map_err(|reason| StoreError::Invalid {
            op: "add_subscriber",
            reason,
        })?;
        let key = email_key(new.email.as_ref());
        self.write("add_subscriber", |c| {
            let row = c.query_opt(
                &format!(
                    "INSERT INTO subscribers (email, email_key, name, status, topics, frequency,
                                              timezone, send_hour, token_salt, created_at,
                                              updated_at, confirmed_at, newsletter)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)
                     ON CONFLICT (newsletter, email_key) DO NOTHING
                     RETURNING {COLUMNS}"
                ),
                &[
                    &new.email.as_ref(),
                    &key,
                    &new.name.as_ref().map(DisplayName::as_str),
                    &new.status.as_str(),
                    &new.topics.to_string(),
                    &new.frequency.as_str(),
                    &new.timezone.map(|t| t.name().to_string()),
                    &new.send_hour.map(i64::from),
                    &random_token(),
                    &ts(now),
                    &(new.status == SubscriberStatus::Active).then(|| ts(now)),
                    &self.newsletter(),
                ],
                |r| subscriber_at(r, 0),
            )?;
            let Some(row) = row else {
                return Err(StoreError::Conflict {
                    op: "add_subscriber",
                    what: format!("the subscriber {}", new.email),
                }
                .into());
            };
            row.map_err(|u| {
                StoreError::Corrupt {
                    op: "add_subscriber",
                    table: "subscribers".into(),
                    key: format!("id {}", u.id),
                    reason: u.reason,
                }
                .into()
            })
        })
    }

    /// This newsletter's subscriber with this address (in any letter case); an unreadable
    /// row is logged and read as none.
    pub fn subscriber_by_email(&self, email: &str) -> Result<Option<Subscriber>, StoreError> {
        self.read("subscriber_by_email", |c| {
            Ok(readable(c.query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM subscribers WHERE email_key = $1 AND newsletter = $2"
                ),
                &[&email_key(email), &self.newsletter()],
                |r| subscriber_at(r, 0),
            )?))
        })
    }

    /// Every subscription of this address (in any letter case), in every newsletter, by
    /// id: the preferences page lists them. Unreadable rows are logged and left out.
    pub fn subscriptions_of(&self, email: &str) -> Result<Vec<Subscriber>, StoreError> {
        self.read("subscriptions_of", |c| {
            let rows = c.query(
                &format!("SELECT {COLUMNS} FROM subscribers WHERE email_key = $1 ORDER BY id"),
                &[&email_key(email)],
                |r| subscriber_at(r, 0),
            )?;
            Ok(rows
                .into_iter()
                .filter_map(|r| r.inspect_err(|u| u.warn()).ok())
                .collect())
        })
    }

    /// The subscriber with this id, in whichever newsletter (see [`Subscriber::newsletter`]);
    /// an unreadable row is logged and read as none.
    pub fn subscriber_by_id(&self, id: i64) -> Result<Option<Subscriber>, StoreError> {
        self.read("subscriber_by_id", |c| subscriber_by_id(c, id))
    }

    /// Revokes the reader's tokens for `purposes` (see [`revoke_sql`]); the reader as they
    /// are now, `None` when there is none.
    pub fn revoke_tokens(
        &self,
        id: i64,
        purposes: &[TokenPurpose],
        now: DateTime<Utc>,
    ) -> Result<Option<Subscriber>, StoreError> {
        self.write("revoke_tokens", |c| {
            c.execute(&revoke_sql(purposes, "$2", "$1"), &[&ts(now), &id])?;
            subscriber_by_id(c, id)
        })
    }

    /// All readable subscribers, optionally only those with `status`, in id order. A row that
    /// cannot be read is logged (warn, naming the reader and why) and skipped.
    pub fn subscribers(
        &self,
        status: Option<SubscriberStatus>,
    ) -> Result<Vec<Subscriber>, StoreError> {
        let (good, bad) = self.subscribers_checked(status)?;
        for u in &bad {
            u.warn();
        }
        Ok(good)
    }

    /// Like [`Store::subscribers`], and also every row that cannot be read, for listings
    /// that report them (`subscribers list`, `export`). With a `status` filter, a row whose
    /// status itself cannot be read is not among them (it has no status to match).
    pub fn subscribers_checked(
        &self,
        status: Option<SubscriberStatus>,
    ) -> Result<(Vec<Subscriber>, Vec<UnreadableSubscriber>), StoreError> {
        self.read("subscribers_checked", |c| {
            let (mut good, mut bad) = (Vec::new(), Vec::new());
            c.query(
                &format!(
                    "SELECT {COLUMNS} FROM subscribers
                     WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND newsletter = $2
                     ORDER BY id"
                ),
                &[&status.map(|s| s.as_str()), &self.newsletter()],
                |r| {
                    match subscriber_at(r, 0)? {
                        Ok(s) => good.push(s),
                        Err(u) => bad.push(u),
                    }
                    Ok(())
                },
            )?;
            Ok((good, bad))
        })
    }

    /// Applies a preferences change in one transaction; returns the updated subscriber.
    /// On PostgreSQL (READ COMMITTED) the first UPDATE locks the row until commit, so two
    /// concurrent changes of one reader apply one after the other; the revocation compares
    /// the row's current status in its own statement (re-read once the lock is held), so it
    /// cannot act on a stale read.
    pub fn update_subscriber(
        &self,
        id: i64,
        update: &SubscriberUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscriber>, StoreError> {
        if let Some(t) = &update.topics {
            check_storable_topics(t).map_err(|reason| StoreError::Invalid {
                op: "update_subscriber",
                reason,
            })?;
        }
        self.transaction("update_subscriber", |c| {
            if let Some(name) = &update.name {
                c.execute(
                    "UPDATE subscribers SET name = $1 WHERE id = $2",
                    &[&name.as_ref().map(DisplayName::as_str), &id],
                )?;
            }
            if let Some(status) = update.status {
                set_status(c, id, status, now)?;
            }
            if let Some(topics) = &update.topics {
                c.execute(
                    "UPDATE subscribers SET topics = $1 WHERE id = $2",
                    &[&topics.to_string(), &id],
                )?;
            }
            if let Some(f) = update.frequency {
                c.execute(
                    "UPDATE subscribers SET frequency = $1 WHERE id = $2",
                    &[&f.as_str(), &id],
                )?;
            }
            if let Some(tz) = &update.timezone {
                c.execute(
                    "UPDATE subscribers SET timezone = $1 WHERE id = $2",
                    &[&tz.map(|t| t.name().to_string()), &id],
                )?;
            }
            if let Some(h) = &update.send_hour {
                c.execute(
                    "UPDATE subscribers SET send_hour = $1 WHERE id = $2",
                    &[&h.map(i64::from), &id],
                )?;
            }
            c.execute(
                "UPDATE subscribers SET updated_at = $1 WHERE id = $2",
                &[&ts(now), &id],
            )?;
            subscriber_by_id(c, id)
        })
    }

    /// Deletes a subscriber and everything recorded about them (erasure on request). Runs
    /// never call this; unsubscribing only changes the status.
    pub fn delete_subscriber(&self, email: &str) -> Result<bool, StoreError> {
        self.write("delete_subscriber", |c| {
            Ok(c.execute(
                "DELETE FROM subscribers WHERE email_key = $1 AND newsletter = $2",
                &[&email_key(email), &self.newsletter()],
            )? > 0)
        })
    }

    /// How many subscribers there are, optionally only those with `status`.
    pub fn subscriber_count(&self, status: Option<SubscriberStatus>) -> Result<i64, StoreError> {
        self.read("subscriber_count", |c| {
            c.value(
                "SELECT COUNT(*) FROM subscribers
                 WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND newsletter = $2",
                &[&status.map(|s| s.as_str()), &self.newsletter()],
            )
        })
    }

    /// Puts an address on the suppression list (hard bounce); later sends skip it. One
    /// upsert: concurrent suppressions of one address leave one row (the last reason).
    pub fn suppress(
        &self,
        email: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("suppress", |c| {
            c.execute(
                "INSERT INTO suppressions (email_key, reason, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason",
                &[&email_key(email), &reason, &ts(now)],
            )?;
            Ok(())
        })
    }

    /// Whether an address is on the suppression list.
    pub fn is_suppressed(&self, email: &str) -> Result<bool, StoreError> {
        self.read("is_suppressed", |c| {
            c.exists(
                "SELECT 1 FROM suppressions WHERE email_key = $1",
                &[&email_key(email)],
            )
        })
    }

    /// Why an address is on the suppression list (the SMTP reply that put it there), if it is.
    pub fn suppression_reason(&self, email: &str) -> Result<Option<String>, StoreError> {
        self.read("suppression_reason", |c| {
            c.query_opt(
                "SELECT reason FROM suppressions WHERE email_key = $1",
                &[&email_key(email)],
                |r| r.get(0),
            )
        })
    }

    /// The suppression list: (address, reason).
    pub fn suppressions(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.read("suppressions", |c| {
            c.query(
                "SELECT email_key, reason FROM suppressions ORDER BY email_key",
                &[],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    /// Takes an address off the suppression list by the operator's hand; whether it was on.
    pub fn unsuppress(&self, email: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.transaction("unsuppress", |c| {
            lift_suppression(c, &email_key(email), LiftedBy::Operator, now)
        })
    }
}

/// The subscriber with this id, on a connection an operation already holds.
fn subscriber_by_id(c: &mut Conn<'_>, id: i64) -> DbResult<Option<Subscriber>> {
    Ok(readable(c.query_opt(
        &format!("SELECT {COLUMNS} FROM subscribers WHERE id = $1"),
        &[&id],
        |r| subscriber_at(r, 0),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn new(email: &str) -> NewSubscriber {
        NewSubscriber::active(
            SubscriberEmail::parse(email).unwrap(),
            Topics::parse("llm").unwrap(),
        )
    }

    #[test]
    fn a_duplicate_address_is_refused_whatever_its_case() {
        let store = Store::for_tests().unwrap();
        store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        let err = store
            .add_subscriber(&new("ADA@example.org"), Utc::now())
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
        assert_eq!(store.subscriber_count(None).unwrap(), 1);
    }

    #[test]
    fn a_new_reader_has_a_salt_of_their_own_and_no_token_stored() {
        let store = Store::for_tests().unwrap();
        let a = store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        let b = store
            .add_subscriber(&new("bob@example.org"), Utc::now())
            .unwrap();
        for s in [&a, &b] {
            assert_eq!(s.tokens.salt.len(), 32, "128 random bits in hex");
            assert_eq!(s.tokens.legacy_hash, None, "no link from before");
            for p in TokenPurpose::ALL {
                assert_eq!(s.tokens.get(p), TokenGeneration::default(), "{p}");
            }
        }
        assert_ne!(a.tokens.salt, b.tokens.salt);
        assert_eq!(
            store.subscriber_by_id(a.id).unwrap().unwrap().tokens,
            a.tokens
        );
    }

    /// A store as paperpost left it at schema `version`: a file (SQLite, in the returned
    /// folder) or a fresh database (PostgreSQL); the settings open it again.
    fn store_at_version(version: usize) -> (Store, crate::store::StoreOptions, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let settings = if crate::store::test_backend_is_postgres() {
            let url = crate::store::test_server::shared()
                .unwrap()
                .fresh_database("v8")
                .unwrap();
            crate::store::StoreOptions::Postgres(crate::store::PostgresOptions::for_tests(url))
        } else {
            crate::store::StoreOptions::Sqlite(dir.path().join("old.sqlite3"))
        };
        let store = Store::open_at_version(&settings, version).unwrap();
        assert_eq!(store.schema_version().unwrap(), version as i64);
        (store, settings, dir)
    }

    #[test]
    fn migrating_keeps_each_readers_old_link_as_a_hash_and_nowhere_in_plain_text() {
        // Arrange: readers with the one plain token of schema version 8, enough of them to
        // fill several pages (an update that moves a row leaves its old bytes behind).
        let (old, settings, dir) = store_at_version(8);
        let secret = "00112233445566778899aabbccddeeff";
        let token = |i: usize| format!("{:032x}", 0xfeed_0000_u64 + i as u64);
        let mut sql = format!(
            "BEGIN;
             INSERT INTO subscribers (id, email, email_key, status, token, created_at, updated_at)
             VALUES (5, 'ada@example.org', 'ada@example.org', 'active', '{secret}', 1, 1);"
        );
        for i in 10..400 {
            sql.push_str(&format!(
                "INSERT INTO subscribers (id, email, email_key, status, token, created_at, updated_at)
                 VALUES ({i}, 'r{i}@example.org', 'r{i}@example.org', 'active', '{}', 1, 1);",
                token(i)
            ));
        }
        sql.push_str("COMMIT;");
        old.raw_execute(&sql);
        drop(old);

        // Act: open it as this paperpost does.
        let store = Store::open_with(&settings).unwrap();

        // Assert: the reader reads, with a hash of the old secret and fresh generations.
        assert_eq!(
            store.schema_version().unwrap(),
            Store::expected_schema_version()
        );
        let ada = store.subscriber_by_id(5).unwrap().unwrap();
        assert_eq!(
            ada.tokens.legacy_hash.as_deref(),
            Some(crate::store::sha256_hex(secret).as_str()),
            "SQL's sha256_hex is the Rust one"
        );
        assert_eq!(ada.tokens.salt, "");
        for p in TokenPurpose::ALL {
            assert_eq!(ada.tokens.get(p), TokenGeneration::default());
        }
        // The secret is nowhere: not in any column, not in the file's free space or log.
        if store.is_postgres() {
            store.raw_execute(&format!(
                "DO $$ BEGIN
                     IF EXISTS (SELECT 1 FROM information_schema.columns
                                WHERE table_name = 'subscribers' AND column_name = 'token')
                        OR EXISTS (SELECT 1 FROM subscribers s WHERE strpos(s::text, '{secret}') > 0)
                     THEN RAISE EXCEPTION 'the plain token is still in the table'; END IF;
                 END $$"
            ));
        } else {
            // While the store is open: the migration itself left no trace (closing it would
            // checkpoint the log again).
            let secrets: Vec<String> = std::iter::once(secret.to_string())
                .chain((10..400).map(token))
                .collect();
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                let path = entry.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                let found = secrets
                    .iter()
                    .filter(|s| memchr::memmem::find(&bytes, s.as_bytes()).is_some())
                    .count();
                assert_eq!(found, 0, "plain tokens still in {}", path.display());
            }
        }
    }

    #[test]
    fn revoking_one_purpose_keeps_the_others_and_forgets_the_legacy_token() {
        let store = Store::for_tests().unwrap();
        let s = store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        store.raw_execute(&format!(
            "UPDATE subscribers SET legacy_token_hash = 'cafe' WHERE id = {}",
            s.id
        ));
        let at = from_ts(1_800_000_000);
        let r = store
            .revoke_tokens(s.id, &[TokenPurpose::Feed, TokenPurpose::Feed], at)
            .unwrap()
            .unwrap();
        assert_eq!(
            r.tokens.feed,
            TokenGeneration {
                generation: 1,
                revoked_at: Some(at)
            }
        );
        assert_eq!(r.tokens.copy, TokenGeneration::default());
        assert_eq!(r.tokens.manage, TokenGeneration::default());
        assert_eq!(r.tokens.legacy_hash, None, "it opened the feed too");
        assert_eq!(r.tokens.salt, s.tokens.salt);
        let all = store
            .revoke_tokens(s.id, &TokenPurpose::ALL, at)
            .unwrap()
            .unwrap();
        let gens: Vec<i64> = TokenPurpose::ALL
            .iter()
            .map(|p| all.tokens.get(*p).generation)
            .collect();
        assert_eq!(gens, [1, 2, 1]);
        assert!(
            store
                .revoke_tokens(s.id + 1, &[TokenPurpose::Copy], at)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_stored_name_no_header_can_carry_is_read_kept_and_replaced_by_an_edit() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        let mut ada = new("ada@example.org");
        ada.name = Some(DisplayName::parse(" Ada ").unwrap());
        let ada = store.add_subscriber(&ada, now).unwrap();
        assert_eq!(ada.name.as_ref().map(StoredName::raw), Some("Ada"));
        // Written behind paperpost's back: the row still reads, with the name as stored.
        store.raw_execute(&format!(
            "UPDATE subscribers SET name = 'Mal\r\nlory' WHERE id = {}",
            ada.id
        ));
        let read = store
            .subscriber_by_email("ada@example.org")
            .unwrap()
            .unwrap();
        let name = read.name.unwrap();
        assert_eq!(name.raw(), "Mal\r\nlory");
        assert!(name.display_name().is_err());
        assert_eq!(store.subscribers(None).unwrap().len(), 1, "still listed");
        // An edit replaces it.
        let update = SubscriberUpdate {
            name: Some(Some(DisplayName::parse("Mallory").unwrap())),
            ..Default::default()
        };
        let edited = store
            .update_subscriber(ada.id, &update, now)
            .unwrap()
            .unwrap();
        assert_eq!(
            edited.name,
            Some(StoredName::Valid(DisplayName::parse("Mallory").unwrap()))
        );
    }

    #[test]
    fn a_stored_row_that_no_longer_reads_is_reported_and_skipped_never_fatal() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        let mut ids = Vec::new();
        for e in [
            "a@example.org",
            "b@example.org",
            "c@example.org",
            "d@example.org",
            "e@example.org",
        ] {
            ids.push(store.add_subscriber(&new(e), now).unwrap().id);
        }
        // PostgreSQL text cannot hold invalid UTF-8, so there an unknown frequency stands in
        // for the undecodable topics.
        let not_text = if store.is_postgres() {
            (
                "UPDATE subscribers SET frequency = 'sometimes' WHERE id = {id}",
                "frequency",
            )
        } else {
            (
                "UPDATE subscribers SET topics = CAST(X'6C6CFF' AS TEXT) WHERE id = {id}",
                "UTF-8",
            )
        };
        let poison = [
            (
                "UPDATE subscribers SET topics = 'cat:CS CL' WHERE id = {id}",
                "topics",
            ),
            not_text,
            (
                "UPDATE subscribers SET email = 'd@localhost', email_key = 'd@localhost' WHERE id = {id}",
                "localhost",
            ),
            (
                "UPDATE subscribers SET status = 'gone' WHERE id = {id}",
                "status",
            ),
        ];
        for ((sql, _), id) in poison.iter().zip(&ids[1..]) {
            store.raw_execute(&sql.replace("{id}", &id.to_string()));
        }

        let readable = store.subscribers(None).unwrap();
        assert_eq!(readable.iter().map(|s| s.id).collect::<Vec<_>>(), [ids[0]]);
        let (good, bad) = store.subscribers_checked(None).unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(bad.len(), 4);
        for ((_, why), u) in poison.iter().zip(&bad) {
            assert!(u.reason.contains(why), "{why}: {u}");
            assert!(u.to_string().contains(&format!("#{}", u.id)), "{u}");
        }
        // Single look-ups treat the row as absent instead of failing the page.
        assert!(store.subscriber_by_id(ids[1]).unwrap().is_none());
        assert!(
            store
                .subscriber_by_email("b@example.org")
                .unwrap()
                .is_none()
        );
        assert!(store.subscriber_by_id(ids[0]).unwrap().is_some());
        // Erasure by address still works for an unreadable row.
        assert!(store.delete_subscriber("d@localhost").unwrap());
        assert_eq!(store.subscribers_checked(None).unwrap().1.len(), 3);
    }

    #[test]
    fn updates_change_only_what_they_name() {
        let store = Store::for_tests().unwrap();
        let s = store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        let u = SubscriberUpdate {
            status: Some(SubscriberStatus::Paused),
            ..Default::default()
        };
        let s2 = store
            .update_subscriber(s.id, &u, Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(s2.status, SubscriberStatus::Paused);
        assert_eq!(s2.topics, s.topics);
        assert_eq!(s2.tokens, s.tokens, "pausing keeps the links");
    }

    #[test]
    fn every_token_is_revoked_on_unsubscribe_and_on_coming_back() {
        let store = Store::for_tests().unwrap();
        let s = store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        store.raw_execute(&format!(
            "UPDATE subscribers SET legacy_token_hash = 'cafe' WHERE id = {}",
            s.id
        ));
        let to = |status| SubscriberUpdate {
            status: Some(status),
            ..Default::default()
        };
        let gens = |s: &Subscriber| -> Vec<i64> {
            TokenPurpose::ALL
                .iter()
                .map(|p| s.tokens.get(*p).generation)
                .collect()
        };
        let at = from_ts(1_800_000_000);
        let gone = store
            .update_subscriber(s.id, &to(SubscriberStatus::Unsubscribed), at)
            .unwrap()
            .unwrap();
        assert_eq!(gens(&gone), [1, 1, 1]);
        assert!(
            TokenPurpose::ALL
                .iter()
                .all(|p| gone.tokens.get(*p).revoked_at == Some(at))
        );
        assert_eq!(gone.tokens.legacy_hash, None);
        let again = store
            .update_subscriber(s.id, &to(SubscriberStatus::Unsubscribed), Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(again.tokens, gone.tokens, "no change, no revocation");
        let back = store
            .update_subscriber(s.id, &to(SubscriberStatus::Pending), Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(gens(&back), [2, 2, 2]);
        let paused = store
            .update_subscriber(s.id, &to(SubscriberStatus::Paused), Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(paused.tokens, back.tokens);
    }

    #[test]
    fn two_processes_adding_the_same_address_at_once_make_one_subscriber() {
        // Two stores (two pools, as two hosts would have) on one PostgreSQL database race
        // to add the same address, many times over; SQLite has one writer, so this is the
        // PostgreSQL backend's test.
        if !crate::store::test_backend_is_postgres() {
            return;
        }
        use crate::store::{PostgresOptions, test_server};
        let url = test_server::shared()
            .unwrap()
            .fresh_database("subrace")
            .unwrap();
        let open = || Store::open_postgres(&PostgresOptions::for_tests(url.clone())).unwrap();
        let (a, b) = (open(), open());
        for round in 0..20 {
            let email = format!("race{round}@example.org");
            let barrier = std::sync::Barrier::new(2);
            let results: Vec<_> = std::thread::scope(|scope| {
                let handles: Vec<_> = [&a, &b]
                    .into_iter()
                    .enumerate()
                    .map(|(i, store)| {
                        let (barrier, email) = (&barrier, &email);
                        scope.spawn(move || {
                            // Different letter case: the same address all the same.
                            let email = if i == 0 {
                                email.clone()
                            } else {
                                email.to_uppercase()
                            };
                            barrier.wait();
                            store.add_subscriber(&new(&email), Utc::now())
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let added = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(added, 1, "round {round}: {results:?}");
            for r in &results {
                if let Err(e) = r {
                    assert!(matches!(e, StoreError::Conflict { .. }), "{e}");
                }
            }
        }
        assert_eq!(a.subscriber_count(None).unwrap(), 20);
        assert_eq!(b.subscribers(None).unwrap().len(), 20);
    }

    #[test]
    fn suppressions_are_listed_in_address_order_and_can_be_lifted() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        store
            .suppress("Zed@example.org", "550 no such user", now)
            .unwrap();
        store.suppress("ada@example.org", "550 gone", now).unwrap();
        store.suppress("ADA@example.org", "551 moved", now).unwrap();
        store.suppress("Bob@example.org", "550 x", now).unwrap();
        assert!(store.is_suppressed("ada@EXAMPLE.org").unwrap());
        assert_eq!(
            store
                .suppression_reason("ada@example.org")
                .unwrap()
                .as_deref(),
            Some("551 moved"),
            "suppressing again keeps one row with the newest reason"
        );
        let keys: Vec<_> = store
            .suppressions()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            ["ada@example.org", "bob@example.org", "zed@example.org"]
        );
        assert!(store.unsuppress("ZED@example.org", Utc::now()).unwrap());
        assert!(!store.unsuppress("zed@example.org", Utc::now()).unwrap());
        assert!(!store.is_suppressed("zed@example.org").unwrap());
        assert_eq!(
            store
                .subscriber_count(Some(SubscriberStatus::Active))
                .unwrap(),
            0
        );
    }
}
