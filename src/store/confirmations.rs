//! Confirmation tokens of web sign-ups: `{id}.{128 random bits as hex}`, single use, with an
//! expiry. Only a SHA-256 of the secret half is stored, so a copy of the database confirms
//! nobody; the row is found by id and the hash compared in constant time. A new token
//! spends the subscriber's older open ones: only the latest mail's link confirms what the
//! latest sign-up asked for.
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};

use super::subscribers::COLUMNS_S;
use super::subscribers::{lift_suppression, readable, row_to_subscriber_at};
use subtle::ConstantTimeEq;

use super::{Sqlite, random_token, ts};
use crate::domain::{Confirmation, LiftedBy, Subscriber};

pub(super) fn hash(secret: &str) -> String {
    super::sha256_hex(secret)
}

/// The id and secret half of a token, or `None` when it is not `{id}.{secret}`.
pub(super) fn parse_token(token: &str) -> Option<(i64, &str)> {
    let (id, secret) = token.split_once('.')?;
    Some((id.parse().ok()?, secret))
}

/// Why a presented secret does not open its token.
pub(super) enum Refused {
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
pub(super) fn check_token(
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
pub(super) fn outcome(subscriber: Option<Subscriber>, used: bool, apply: bool) -> Confirmation {
    match subscriber {
        None => Confirmation::Invalid,
        Some(s) if used => Confirmation::AlreadyUsed(s),
        Some(s) if apply => Confirmation::Confirmed(s),
        Some(s) => Confirmation::Open(s),
    }
}

impl Sqlite {
    /// Issues a confirmation token for `subscriber_id`, valid for `ttl` from `now`. The
    /// returned token is the only copy of its secret.
    pub fn create_confirmation(
        &self,
        subscriber_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let secret = random_token();
        let conn = self.conn();
        conn.execute(
            "UPDATE confirmations SET used_at = ?2 WHERE subscriber_id = ?1 AND used_at IS NULL",
            params![subscriber_id, ts(now)],
        )?;
        conn.execute(
            "INSERT INTO confirmations (subscriber_id, secret_hash, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![subscriber_id, hash(&secret), ts(now), ts(now + ttl)],
        )?;
        // Old tokens are worthless a week after they expired: keep the table small.
        conn.execute(
            "DELETE FROM confirmations WHERE expires_at < ?1",
            [ts(now - Duration::days(7))],
        )?;
        Ok(format!("{}.{secret}", conn.last_insert_rowid()))
    }

    /// Uses a confirmation token: a pending subscriber becomes active and every open token of
    /// theirs is spent. Repeating it is harmless ([`Confirmation::AlreadyUsed`]).
    pub fn confirm_subscriber(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Confirmation> {
        self.use_confirmation(token, now, true)
    }

    /// What [`Store::confirm_subscriber`] would do with `token`, changing nothing
    /// ([`Confirmation::Open`] where it would confirm): for the page a GET shows.
    pub fn confirmation_state(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Confirmation> {
        self.use_confirmation(token, now, false)
    }

    fn use_confirmation(
        &self,
        token: &str,
        now: DateTime<Utc>,
        apply: bool,
    ) -> anyhow::Result<Confirmation> {
        let Some((id, secret)) = parse_token(token) else {
            return Ok(Confirmation::Invalid);
        };
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row: Option<(i64, String, i64, Option<i64>)> = tx
            .query_row(
                "SELECT subscriber_id, secret_hash, expires_at, used_at FROM confirmations WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((subscriber_id, stored_hash, expires_at, used_at)) = row else {
            return Ok(Confirmation::Invalid);
        };
        let used = match check_token(&stored_hash, secret, expires_at, used_at, now) {
            Ok(used) => used,
            Err(refused) => return Ok(refused.into()),
        };
        if !used && apply {
            tx.execute(
                "UPDATE confirmations SET used_at = ?2 WHERE subscriber_id = ?1 AND used_at IS NULL",
                params![subscriber_id, ts(now)],
            )?;
            tx.execute(
                "UPDATE subscribers SET status = 'active', confirmed_at = COALESCE(confirmed_at, ?2),
                        unsubscribed_at = NULL, updated_at = ?2
                 WHERE id = ?1 AND status = 'pending'",
                params![subscriber_id, ts(now)],
            )?;
            // The reader clicked a link mailed to the address: it takes mail again.
            let key: Option<String> = tx
                .query_row(
                    "SELECT email_key FROM subscribers WHERE id = ?1",
                    [subscriber_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(key) = key {
                lift_suppression(&tx, &key, LiftedBy::Reconfirmed, now)?;
            }
        }
        let subscriber = readable(
            tx.query_row(
                &format!("SELECT {COLUMNS_S} FROM subscribers s WHERE s.id = ?1"),
                [subscriber_id],
                |r| row_to_subscriber_at(r, 0),
            )
            .optional()?,
        );
        tx.commit()?;
        Ok(outcome(subscriber, used, apply))
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
