//! Confirmation tokens of web sign-ups: `{id}.{128 random bits as hex}`, single use, with an
//! expiry. Only a SHA-256 of the secret half is stored, so a copy of the database confirms
//! nobody; the row is found by id and the hash compared in constant time. A new token
//! spends the subscriber's older open ones: only the latest mail's link confirms what the
//! latest sign-up asked for.
//!
//! Every token operation of one reader runs one at a time: on SQLite the transaction holds
//! the database's one write lock from its start (IMMEDIATE); on PostgreSQL it first locks
//! the reader's row (`SELECT … FOR UPDATE`, see [`lock_reader`]).
use super::error::DbResult;
use chrono::{DateTime, Duration, Utc};
use subtle::ConstantTimeEq;

use super::db::{Conn, Param};
use super::subscribers::{COLUMNS_S, readable};
use super::subscribers::{lift_suppression, subscriber_at};
use super::{Store, StoreError, random_token, ts};
use crate::domain::{Confirmation, LiftedBy, Subscriber};

fn hash(secret: &str) -> String {
    super::sha256_hex(secret)
}

/// The id and secret half of a token, or `None` when it is not `{id}.{secret}`.
fn parse_token(token: &str) -> Option<(i64, &str)> {
    let (id, secret) = token.split_once('.')?;
    Some((id.parse().ok()?, secret))
}

/// Why a presented secret does not open its token.
enum Refused {
    Invalid,
    Expired,
}

impl From<Refused> for Confirmation {
    fn from(r: Refused) -> Confirmation {
        match r {
            Refused::Invalid => Confirmation::Invalid,
            Refused::Expired => Confirmation::Expired,
        }
    }
}

/// What a stored token row says about a presented secret at `now`: `Ok(used)` when it
/// matches and is either spent (`true`) or still open (`false`), else why not.
fn check_token(
    stored_hash: &str,
    secret: &str,
    expires_at: i64,
    used_at: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, Refused> {
    // In time that depends only on the length (`subtle`): the stored hash is a secret's.
    if !bool::from(stored_hash.as_bytes().ct_eq(hash(secret).as_bytes())) {
        return Err(Refused::Invalid);
    }
    let used = used_at.is_some();
    if !used && ts(now) >= expires_at {
        return Err(Refused::Expired);
    }
    Ok(used)
}

/// The answer once the token checked out: `subscriber` is the reader read back (`None`
/// when gone or unreadable).
fn outcome(subscriber: Option<Subscriber>, used: bool, apply: bool) -> Confirmation {
    match subscriber {
        None => Confirmation::Invalid,
        Some(s) if used => Confirmation::AlreadyUsed(s),
        Some(s) if apply => Confirmation::Confirmed(s),
        Some(s) => Confirmation::Open(s),
    }
}

/// Locks the row of the reader `reader_sql` selects (its one parameter is `param`) until
/// the transaction ends, so that reader's token operations from several processes run one
/// after the other: `FOR UPDATE` on PostgreSQL; on SQLite a plain read, the transaction
/// having taken the database's one write lock when it began.
fn lock_reader(c: &mut Conn<'_>, reader_sql: &str, param: &dyn Param) -> DbResult<()> {
    let sql = format!(
        "SELECT 1 FROM subscribers WHERE id = ({reader_sql}){}",
        c.for_update()
    );
    c.query_opt(&sql, &[param], |_| Ok(()))?;
    Ok(())
}

impl Store {
    /// Issues a confirmation token for `subscriber_id`, valid for `ttl` from `now`. The
    /// returned token is the only copy of its secret. The reader is locked first, as a
    /// confirm does ([`lock_reader`]), so the older open tokens spent here cannot be used
    /// by a confirm racing with this.
    pub fn create_confirmation(
        &self,
        subscriber_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, StoreError> {
        let secret = random_token();
        self.transaction("create_confirmation", |c| {
            lock_reader(c, "$1", &subscriber_id)?;
            c.execute(
                "UPDATE confirmations SET used_at = $1 WHERE subscriber_id = $2 AND used_at IS NULL",
                &[&ts(now), &subscriber_id],
            )?;
            let id: i64 = c.value(
                "INSERT INTO confirmations (subscriber_id, secret_hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&subscriber_id, &hash(&secret), &ts(now), &ts(now + ttl)],
            )?;
            // Old tokens are worthless a week after they expired: keep the table small.
            c.execute(
                "DELETE FROM confirmations WHERE expires_at < $1",
                &[&ts(now - Duration::days(7))],
            )?;
            Ok(format!("{id}.{secret}"))
        })
    }

    /// Uses a confirmation token: a pending subscriber becomes active and every open token of
    /// theirs is spent. Repeating it is harmless ([`Confirmation::AlreadyUsed`]).
    pub fn confirm_subscriber(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Confirmation, StoreError> {
        self.use_confirmation("confirm_subscriber", token, now, true)
    }

    /// What [`Store::confirm_subscriber`] would do with `token`, changing nothing
    /// ([`Confirmation::Open`] where it would confirm): for the page a GET shows.
    pub fn confirmation_state(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Confirmation, StoreError> {
        self.use_confirmation("confirmation_state", token, now, false)
    }

    /// Single use across processes: before reading the token, a confirm locks its reader
    /// ([`lock_reader`]; on PostgreSQL, under READ COMMITTED, the token is read after the
    /// lock is held). Of two concurrent confirms of one token the second waits for the first
    /// to commit, then sees the token spent: one `Confirmed`, one `AlreadyUsed`. Locking the
    /// reader rather than the token row also orders a confirm against
    /// [`Store::create_confirmation`] and against a confirm of another of the reader's
    /// tokens, which spends this one too (no deadlock: one lock per operation).
    fn use_confirmation(
        &self,
        op: &'static str,
        token: &str,
        now: DateTime<Utc>,
        apply: bool,
    ) -> Result<Confirmation, StoreError> {
        let Some((id, secret)) = parse_token(token) else {
            return Ok(Confirmation::Invalid);
        };
        self.transaction(op, |c| {
            if apply {
                lock_reader(
                    c,
                    "SELECT subscriber_id FROM confirmations WHERE id = $1",
                    &id,
                )?;
            }
            let Some((subscriber_id, stored_hash, expires_at, used_at)) = c.query_opt(
                "SELECT subscriber_id, secret_hash, expires_at, used_at FROM confirmations
                 WHERE id = $1",
                &[&id],
                |r| {
                    Ok((
                        r.get::<i64>(0)?,
                        r.get::<String>(1)?,
                        r.get::<i64>(2)?,
                        r.get::<Option<i64>>(3)?,
                    ))
                },
            )?
            else {
                return Ok(Confirmation::Invalid);
            };
            let used = match check_token(&stored_hash, secret, expires_at, used_at, now) {
                Ok(used) => used,
                Err(refused) => return Ok(refused.into()),
            };
            if !used && apply {
                c.execute(
                    "UPDATE confirmations SET used_at = $1
                     WHERE subscriber_id = $2 AND used_at IS NULL",
                    &[&ts(now), &subscriber_id],
                )?;
                c.execute(
                    "UPDATE subscribers SET status = 'active',
                            confirmed_at = COALESCE(confirmed_at, $1),
                            unsubscribed_at = NULL, updated_at = $1
                     WHERE id = $2 AND status = 'pending'",
                    &[&ts(now), &subscriber_id],
                )?;
                // The reader clicked a link mailed to the address: it takes mail again.
                let key: Option<String> = c.query_opt(
                    "SELECT email_key FROM subscribers WHERE id = $1",
                    &[&subscriber_id],
                    |r| r.get(0),
                )?;
                if let Some(key) = key {
                    lift_suppression(c, &key, LiftedBy::Reconfirmed, now)?;
                }
            }
            let subscriber = c.query_opt(
                &format!("SELECT {COLUMNS_S} FROM subscribers s WHERE s.id = $1"),
                &[&subscriber_id],
                |r| subscriber_at(r, 0),
            )?;
            Ok(outcome(readable(subscriber), used, apply))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NewSubscriber;
    use crate::domain::{Subscriber, SubscriberEmail, SubscriberStatus, Topics};
    use crate::store::Store;

    fn pending(store: &Store) -> Subscriber {
        let mut new = NewSubscriber::active(
            SubscriberEmail::parse("ada@example.org").unwrap(),
            Topics::default(),
        );
        new.status = SubscriberStatus::Pending;
        store.add_subscriber(&new, Utc::now()).unwrap()
    }

    #[test]
    fn a_token_confirms_once_and_then_reports_it_was_used() {
        let store = Store::for_tests().unwrap();
        let s = pending(&store);
        let now = Utc::now();
        let older = store
            .create_confirmation(s.id, now, Duration::hours(48))
            .unwrap();
        let token = store
            .create_confirmation(s.id, now, Duration::hours(48))
            .unwrap();
        assert!(
            matches!(
                store.confirmation_state(&older, now).unwrap(),
                Confirmation::AlreadyUsed(_)
            ),
            "a newer token spends the older one"
        );
        let Confirmation::Open(o) = store.confirmation_state(&token, now).unwrap() else {
            panic!("looking changes nothing");
        };
        assert_eq!(o.status, SubscriberStatus::Pending);
        let Confirmation::Confirmed(c) = store.confirm_subscriber(&token, now).unwrap() else {
            panic!("first use confirms");
        };
        assert_eq!(c.status, SubscriberStatus::Active);
        for t in [&token, &older] {
            assert!(matches!(
                store.confirm_subscriber(t, now).unwrap(),
                Confirmation::AlreadyUsed(_)
            ));
        }
    }

    #[test]
    fn expired_wrong_and_malformed_tokens_change_nothing() {
        let store = Store::for_tests().unwrap();
        let s = pending(&store);
        let now = Utc::now();
        let token = store
            .create_confirmation(s.id, now, Duration::hours(48))
            .unwrap();
        let later = now + Duration::hours(48);
        assert!(matches!(
            store.confirm_subscriber(&token, later).unwrap(),
            Confirmation::Expired
        ));
        let (id, _) = token.split_once('.').unwrap();
        for bad in [
            "",
            "x",
            "1",
            &format!("{id}.{}", "0".repeat(32)),
            &format!("{id}x.abc"),
        ] {
            assert!(
                matches!(
                    store.confirm_subscriber(bad, now).unwrap(),
                    Confirmation::Invalid
                ),
                "{bad}"
            );
        }
        let s = store.subscriber_by_id(s.id).unwrap().unwrap();
        assert_eq!(s.status, SubscriberStatus::Pending);
    }

    #[test]
    fn two_instances_confirming_one_token_at_once_confirm_it_once() {
        let (stores, _dir) = crate::store::attempts::tests::stores_on_one_database(6);
        let s = pending(&stores[0]);
        let now = Utc::now();
        let token = stores[0]
            .create_confirmation(s.id, now, Duration::hours(48))
            .unwrap();
        let answers = crate::store::attempts::tests::race(&stores, |_, store| {
            store.confirm_subscriber(&token, now).unwrap()
        });
        let confirmed = answers
            .iter()
            .filter(|a| matches!(a, Confirmation::Confirmed(_)))
            .count();
        let used = answers
            .iter()
            .filter(|a| matches!(a, Confirmation::AlreadyUsed(_)))
            .count();
        assert_eq!((confirmed, used), (1, 5), "{answers:?}");
        let s = stores[1].subscriber_by_id(s.id).unwrap().unwrap();
        assert_eq!(s.status, SubscriberStatus::Active);
    }

    #[test]
    fn confirming_lifts_the_suppression_and_remembers_why_and_how() {
        use crate::domain::LiftedBy;
        let store = Store::for_tests().unwrap();
        let s = pending(&store);
        let t0 = Utc::now() - Duration::days(3);
        store
            .suppress("ada@example.org", "hard bounce: 5.1.1 no such user", t0)
            .unwrap();
        let now = Utc::now();
        let token = store
            .create_confirmation(s.id, now, Duration::hours(48))
            .unwrap();
        // Looking at the link lifts nothing; the click does.
        store.confirmation_state(&token, now).unwrap();
        assert!(store.is_suppressed("ada@example.org").unwrap());
        assert!(matches!(
            store.confirm_subscriber(&token, now).unwrap(),
            Confirmation::Confirmed(_)
        ));
        assert!(!store.is_suppressed("ada@example.org").unwrap());
        let lifts = store.suppression_lifts("ADA@example.org").unwrap();
        assert_eq!(lifts.len(), 1);
        assert_eq!(lifts[0].reason, "hard bounce: 5.1.1 no such user");
        assert_eq!(lifts[0].lifted_by, LiftedBy::Reconfirmed);
        assert_eq!(lifts[0].suppressed_at.timestamp(), t0.timestamp());
        assert_eq!(lifts[0].lifted_at.timestamp(), now.timestamp());
        // The operator's unsuppress is remembered too, newest first.
        store.suppress("ada@example.org", "complaint", now).unwrap();
        assert!(
            store
                .unsuppress("ada@example.org", now + Duration::hours(1))
                .unwrap()
        );
        let lifts = store.suppression_lifts("ada@example.org").unwrap();
        assert_eq!(
            lifts.iter().map(|l| l.lifted_by).collect::<Vec<_>>(),
            [LiftedBy::Operator, LiftedBy::Reconfirmed]
        );
    }
}
