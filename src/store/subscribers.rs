//! Subscribers: add, list, find, update, remove; capability tokens; suppressions.
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Sqlite, StoreError, constant_time_eq, from_ts, random_token, ts};
use crate::domain::{
    DisplayName, LiftedBy, NewSubscriber, StoredName, Subscriber, SubscriberEmail,
    SubscriberStatus, SubscriberUpdate, Topics, UnreadableSubscriber,
};

pub(super) const COLUMNS: &str =
    "id, email, name, status, topics, frequency, timezone, send_hour, created_at, token";
/// The same columns of a `subscribers s` joined in another query.
pub(super) const COLUMNS_S: &str = "s.id, s.email, s.name, s.status, s.topics, s.frequency, s.timezone, s.send_hour, s.created_at, s.token";

pub(super) fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Sets a reader's status inside a transaction: every status change goes through here (the
/// preferences, the unsubscribe link, the CLI, a spam complaint). Into or out of
/// `unsubscribed` the capability token changes: links in mails sent before an unsubscribe
/// (preferences, unsubscribe) stop working, so none can rewrite a later sign-up of the same
/// address. Returns the rows changed.
pub(super) fn set_status(
    conn: &rusqlite::Connection,
    id: i64,
    status: SubscriberStatus,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE subscribers SET status = ?2,
            confirmed_at = CASE WHEN ?2 = 'active' THEN COALESCE(confirmed_at, ?3) ELSE confirmed_at END,
            unsubscribed_at = CASE WHEN ?2 = 'unsubscribed' THEN ?3 ELSE NULL END,
            token = CASE WHEN (?2 = 'unsubscribed') <> (status = 'unsubscribed')
                         THEN ?4 ELSE token END
         WHERE id = ?1",
        params![id, status.as_str(), ts(now), random_token()],
    )
}

/// Takes an address off the suppression list inside a transaction, keeping why it was on it
/// and how it came off (`suppression_lifts`, which `subscribers show` reads). Returns
/// whether it was on the list.
pub(super) fn lift_suppression(
    conn: &rusqlite::Connection,
    key: &str,
    by: LiftedBy,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    conn.execute(
        "INSERT INTO suppression_lifts (email_key, reason, suppressed_at, lifted_at, lifted_by)
         SELECT email_key, reason, created_at, ?2, ?3 FROM suppressions WHERE email_key = ?1",
        params![key, ts(now), by.as_str()],
    )?;
    Ok(conn.execute("DELETE FROM suppressions WHERE email_key = ?1", [key])? > 0)
}

/// Refuses topics whose stored line would not read back as the same topics (today a phrase
/// holding quotes can be written so that its line re-parses differently or not at all):
/// what is stored must never be a row that fails or changes on the next read.
pub fn check_storable_topics(topics: &Topics) -> Result<(), String> {
    let line = topics.to_string();
    match Topics::parse(&line) {
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

fn row_to_subscriber(r: &Row<'_>) -> rusqlite::Result<SubscriberRow> {
    row_to_subscriber_at(r, 0)
}

/// Reads the [`COLUMNS`] starting at column `at`. Every text column is read as raw bytes,
/// so a stored invalid UTF-8 byte is a reason, not an error of the whole query.
pub(super) fn row_to_subscriber_at(r: &Row<'_>, at: usize) -> rusqlite::Result<SubscriberRow> {
    let text = |i: usize| -> rusqlite::Result<StoredText> {
        use rusqlite::types::ValueRef;
        Ok(match r.get_ref(at + i)? {
            ValueRef::Null => None,
            ValueRef::Text(b) | ValueRef::Blob(b) => Some(
                String::from_utf8(b.to_vec()).map_err(|_| String::from_utf8_lossy(b).into_owned()),
            ),
            ValueRef::Integer(n) => Some(Ok(n.to_string())),
            ValueRef::Real(x) => Some(Ok(x.to_string())),
        })
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
        token: text(9)?,
    }
    .parse())
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
    pub token: StoredText,
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
        let topics =
            Topics::parse(&topics).map_err(|e| unreadable(format!("topics `{topics}`: {e}")))?;
        let frequency = field("frequency", self.frequency)?.unwrap_or_default();
        let frequency = frequency
            .parse()
            .map_err(|e| unreadable(format!("frequency: {e}")))?;
        let timezone = field("timezone", self.timezone)?.and_then(|t| t.parse().ok());
        let token_secret = field("token", self.token)?.unwrap_or_default();
        Ok(Subscriber {
            id,
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
            token_secret,
        })
    }
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

impl Sqlite {
    /// Adds a subscriber; an address already known (in any letter case) is refused.
    #[tracing::instrument(name = "Adding a subscriber", skip_all)]
    pub fn add_subscriber(
        &self,
        new: &NewSubscriber,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Subscriber> {
        check_storable_topics(&new.topics).map_err(|reason| StoreError::Invalid {
            op: "add_subscriber",
            reason,
        })?;
        let conn = self.conn();
        let key = email_key(new.email.as_ref());
        let result = conn.execute(
            "INSERT INTO subscribers (email, email_key, name, status, topics, frequency, timezone,
                                      send_hour, token, created_at, updated_at, confirmed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)",
            params![
                new.email.as_ref(),
                key,
                new.name.as_ref().map(DisplayName::as_str),
                new.status.as_str(),
                new.topics.to_string(),
                new.frequency.as_str(),
                new.timezone.map(|t| t.name().to_string()),
                new.send_hour,
                random_token(),
                ts(now),
                (new.status == SubscriberStatus::Active).then(|| ts(now)),
            ],
        );
        match result {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(StoreError::Conflict {
                    op: "add_subscriber",
                    what: format!("the subscriber {}", new.email),
                }
                .into());
            }
            other => other?,
        };
        let id = conn.last_insert_rowid();
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM subscribers WHERE id = ?1"),
            [id],
            row_to_subscriber,
        )?
        .map_err(|u| {
            StoreError::Corrupt {
                op: "add_subscriber",
                table: "subscribers".into(),
                key: format!("id {id}"),
                reason: u.reason,
            }
            .into()
        })
    }

    pub fn subscriber_by_email(&self, email: &str) -> anyhow::Result<Option<Subscriber>> {
        Ok(readable(
            self.reader()
                .query_row(
                    &format!("SELECT {COLUMNS} FROM subscribers WHERE email_key = ?1"),
                    [email_key(email)],
                    row_to_subscriber,
                )
                .optional()?,
        ))
    }

    pub fn subscriber_by_id(&self, id: i64) -> anyhow::Result<Option<Subscriber>> {
        Ok(readable(
            self.reader()
                .query_row(
                    &format!("SELECT {COLUMNS} FROM subscribers WHERE id = ?1"),
                    [id],
                    row_to_subscriber,
                )
                .optional()?,
        ))
    }

    /// Finds the subscriber a public token (`{id}.{secret}`) belongs to, comparing the secret
    /// in constant time. Any malformed or wrong token is simply `None`.
    pub fn subscriber_by_token(&self, token: &str) -> anyhow::Result<Option<Subscriber>> {
        let Some((id, secret)) = token.split_once('.') else {
            return Ok(None);
        };
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(self
            .subscriber_by_id(id)?
            .filter(|s| constant_time_eq(s.token_secret.as_bytes(), secret.as_bytes())))
    }

    /// All readable subscribers, optionally only those with `status`, in id order. A row that
    /// cannot be read is logged (warn, naming the reader and why) and skipped.
    pub fn subscribers(&self, status: Option<SubscriberStatus>) -> anyhow::Result<Vec<Subscriber>> {
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
    ) -> anyhow::Result<(Vec<Subscriber>, Vec<UnreadableSubscriber>)> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM subscribers WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([status.map(|s| s.as_str())], row_to_subscriber)?;
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        for row in rows {
            match row? {
                Ok(s) => good.push(s),
                Err(u) => bad.push(u),
            }
        }
        Ok((good, bad))
    }

    /// Applies a preferences change; returns the updated subscriber.
    pub fn update_subscriber(
        &self,
        id: i64,
        update: &SubscriberUpdate,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Subscriber>> {
        if let Some(t) = &update.topics {
            check_storable_topics(t).map_err(anyhow::Error::msg)?;
        }
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if let Some(name) = &update.name {
                tx.execute(
                    "UPDATE subscribers SET name = ?2 WHERE id = ?1",
                    params![id, name.as_ref().map(DisplayName::as_str)],
                )?;
            }
            if let Some(status) = update.status {
                set_status(&tx, id, status, now)?;
            }
            if let Some(topics) = &update.topics {
                tx.execute(
                    "UPDATE subscribers SET topics = ?2 WHERE id = ?1",
                    params![id, topics.to_string()],
                )?;
            }
            if let Some(f) = update.frequency {
                tx.execute(
                    "UPDATE subscribers SET frequency = ?2 WHERE id = ?1",
                    params![id, f.as_str()],
                )?;
            }
            if let Some(tz) = &update.timezone {
                tx.execute(
                    "UPDATE subscribers SET timezone = ?2 WHERE id = ?1",
                    params![id, tz.map(|t| t.name().to_string())],
                )?;
            }
            if let Some(h) = &update.send_hour {
                tx.execute(
                    "UPDATE subscribers SET send_hour = ?2 WHERE id = ?1",
                    params![id, h],
                )?;
            }
            tx.execute(
                "UPDATE subscribers SET updated_at = ?2 WHERE id = ?1",
                params![id, ts(now)],
            )?;
            tx.commit()?;
        }
        self.subscriber_by_id(id)
    }

    /// Deletes a subscriber and everything recorded about them (erasure on request). Runs
    /// never call this; unsubscribing only changes the status.
    pub fn delete_subscriber(&self, email: &str) -> anyhow::Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM subscribers WHERE email_key = ?1",
            [email_key(email)],
        )?;
        Ok(n > 0)
    }

    pub fn subscriber_count(&self, status: Option<SubscriberStatus>) -> anyhow::Result<i64> {
        Ok(self.reader().query_row(
            "SELECT COUNT(*) FROM subscribers WHERE ?1 IS NULL OR status = ?1",
            [status.map(|s| s.as_str())],
            |r| r.get(0),
        )?)
    }

    /// Puts an address on the suppression list (hard bounce); later sends skip it.
    pub fn suppress(&self, email: &str, reason: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.conn().execute(
            "INSERT INTO suppressions (email_key, reason, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason",
            params![email_key(email), reason, ts(now)],
        )?;
        Ok(())
    }

    pub fn is_suppressed(&self, email: &str) -> anyhow::Result<bool> {
        Ok(self
            .reader()
            .query_row(
                "SELECT 1 FROM suppressions WHERE email_key = ?1",
                [email_key(email)],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Why an address is on the suppression list (the SMTP reply that put it there), if it is.
    pub fn suppression_reason(&self, email: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .reader()
            .query_row(
                "SELECT reason FROM suppressions WHERE email_key = ?1",
                [email_key(email)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The suppression list: (address, reason).
    pub fn suppressions(&self) -> anyhow::Result<Vec<(String, String)>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare("SELECT email_key, reason FROM suppressions ORDER BY email_key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn unsuppress(&self, email: &str, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let lifted = lift_suppression(&tx, &email_key(email), LiftedBy::Operator, now)?;
        tx.commit()?;
        Ok(lifted)
    }
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
    fn tokens_find_their_subscriber_and_nothing_else() {
        let store = Store::for_tests().unwrap();
        let s = store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        assert_eq!(s.token_secret.len(), 32);
        let found = store
            .subscriber_by_token(&s.public_token())
            .unwrap()
            .unwrap();
        assert_eq!(found.id, s.id);
        for bad in [
            "",
            "x",
            "1.",
            &format!("{}.{}", s.id, "0".repeat(32)),
            &format!("{}.{}", s.id + 1, s.token_secret),
        ] {
            assert!(store.subscriber_by_token(bad).unwrap().is_none(), "{bad}");
        }
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
        assert_eq!(s2.token_secret, s.token_secret, "pausing keeps the links");
    }

    #[test]
    fn the_token_changes_on_unsubscribe_and_on_coming_back() {
        let store = Store::for_tests().unwrap();
        let s = store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        let to = |status| SubscriberUpdate {
            status: Some(status),
            ..Default::default()
        };
        let gone = store
            .update_subscriber(s.id, &to(SubscriberStatus::Unsubscribed), Utc::now())
            .unwrap()
            .unwrap();
        assert_ne!(gone.token_secret, s.token_secret);
        assert!(
            store
                .subscriber_by_token(&s.public_token())
                .unwrap()
                .is_none()
        );
        let again = store
            .update_subscriber(s.id, &to(SubscriberStatus::Unsubscribed), Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(
            again.token_secret, gone.token_secret,
            "no change, no new token"
        );
        let back = store
            .update_subscriber(s.id, &to(SubscriberStatus::Pending), Utc::now())
            .unwrap()
            .unwrap();
        assert_ne!(back.token_secret, gone.token_secret);
        assert_ne!(back.token_secret, s.token_secret);
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
