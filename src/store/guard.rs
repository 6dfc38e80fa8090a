//! The reputation guard's side of the store: the counts it judges (messages delivered since
//! the window's start or the last resume, and how many of them drew a hard bounce or a
//! complaint, per edition), and the pause it trips (`sending_pauses`: one in force at most,
//! kept until an operator resumes sending).
use super::error::{DbError, DbResult};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::db::{Conn, Row};
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{
    GuardCounts, GuardLimits, GuardState, ResumedPause, SendingPause, Since, Tally, Warmup,
    WarmupDay, judge,
};

const PAUSE_COLUMNS: &str =
    "paused_at, kind, edition, reports, delivered, threshold, reason, tripped_by";

fn row_to_pause(r: &Row<'_>) -> DbResult<SendingPause> {
    Ok(SendingPause {
        since: from_ts(r.get(0)?),
        kind: r.get::<String>(1)?.parse().map_err(DbError::msg)?,
        edition: r.get(2)?,
        reports: r.get(3)?,
        delivered: r.get(4)?,
        threshold: r.get(5)?,
        reason: r.get(6)?,
        tripped_by: r.get(7)?,
    })
}

/// The pause in force for newsletter `nl`, if any.
fn pause_in_force(c: &mut Conn<'_>, nl: &str) -> DbResult<Option<SendingPause>> {
    c.query_opt(
        &format!(
            "SELECT {PAUSE_COLUMNS} FROM sending_pauses WHERE in_force = 1 AND newsletter = $1"
        ),
        &[&nl],
        row_to_pause,
    )
}

/// Newsletter `nl`'s deliveries and reports since the window's start (or its last resume).
fn counts(
    c: &mut Conn<'_>,
    nl: &str,
    window_days: u32,
    now: DateTime<Utc>,
) -> DbResult<GuardCounts> {
    let last_resume: Option<i64> = c.value(
        "SELECT MAX(resumed_at) FROM sending_pauses WHERE newsletter = $1",
        &[&nl],
    )?;
    let since = Since::at(now, window_days, last_resume.map(from_ts));
    // A delivery reported twice (two DSNs for one message) counts once. Strictly after the
    // start: times are whole seconds, and a message sent in the second of a resume may be
    // one the resume accepted. The messages the relay refused outright (a 5xx reply: failed,
    // with a hard bounce recorded by `finish_deliveries`) were attempted and bounced as
    // surely as a DSN says, so they count in both; each half reads by its own index.
    let editions = c.query(
        "SELECT e.period_key, COUNT(*),
                CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM bounces b
                                           WHERE b.delivery_id = d.id AND b.kind = 'hard')
                         THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM bounces b
                                           WHERE b.delivery_id = d.id AND b.kind = 'complaint')
                         THEN 1 ELSE 0 END) AS BIGINT)
         FROM (SELECT id, edition_id FROM deliveries WHERE state = 'sent' AND sent_at > $1
               UNION ALL
               SELECT id, edition_id FROM deliveries f
                WHERE f.state = 'failed' AND f.updated_at > $1
                  AND EXISTS (SELECT 1 FROM bounces b
                              WHERE b.delivery_id = f.id AND b.kind = 'hard')) d
         JOIN editions e ON e.id = d.edition_id
         WHERE e.newsletter = $2
         GROUP BY e.id, e.period_key
         ORDER BY e.id",
        &[&ts(since.instant()), &nl],
        |r| {
            Ok((
                r.get::<String>(0)?,
                Tally {
                    delivered: r.get(1)?,
                    hard: r.get(2)?,
                    complaints: r.get(3)?,
                },
            ))
        },
    )?;
    Ok(GuardCounts { since, editions })
}

impl Store {
    /// The pause in force, if any. Read on the writer: the delivery engine decides by it.
    pub fn sending_pause(&self) -> Result<Option<SendingPause>, StoreError> {
        self.write("sending_pause", |c| pause_in_force(c, self.newsletter()))
    }

    /// What the guard counts at `now` over a window of `window_days` (restarted at the last
    /// resume when that is later).
    pub fn guard_counts(
        &self,
        window_days: u32,
        now: DateTime<Utc>,
    ) -> Result<GuardCounts, StoreError> {
        self.read("guard_counts", |c| {
            counts(c, self.newsletter(), window_days, now)
        })
    }

    /// Judges the rates at `now` and pauses sending when one is over its threshold, in one
    /// transaction: a pause already in force is returned as it is; a new one is recorded
    /// with `tripped_by` (what found it). Race-free across processes: the pause in force
    /// holds the one `in_force` key, so of two checks tripping at once one inserts and the
    /// other finds its pause.
    pub fn check_guard(
        &self,
        limits: &GuardLimits,
        now: DateTime<Utc>,
        tripped_by: &str,
    ) -> Result<GuardState, StoreError> {
        self.transaction("check_guard", |c| {
            let nl = self.newsletter();
            if let Some(p) = pause_in_force(c, nl)? {
                return Ok(GuardState::Paused(p));
            }
            let counts = counts(c, nl, limits.window_days, now)?;
            let Some(breach) = judge(limits, &counts) else {
                return Ok(GuardState::Clear);
            };
            let pause = SendingPause {
                since: now,
                kind: breach.kind,
                edition: breach.edition.clone(),
                reports: breach.reports,
                delivered: breach.delivered,
                threshold: breach.threshold,
                reason: breach.describe(),
                tripped_by: tripped_by.to_string(),
            };
            let inserted = c.execute(
                "INSERT INTO sending_pauses (paused_at, kind, edition, reports, delivered,
                                             threshold, reason, tripped_by, in_force,
                                             newsletter)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)
                 ON CONFLICT (newsletter, in_force) DO NOTHING",
                &[
                    &ts(now),
                    &pause.kind.as_str(),
                    &pause.edition,
                    &pause.reports,
                    &pause.delivered,
                    &pause.threshold,
                    &pause.reason,
                    &pause.tripped_by,
                    &nl,
                ],
            )?;
            if inserted > 0 {
                return Ok(GuardState::Tripped(pause));
            }
            // Another process tripped it between our look and our insert.
            Ok(pause_in_force(c, nl)?.map_or(GuardState::Clear, GuardState::Paused))
        })
    }

    /// Lifts the pause in force, recording when and by whom; `None` when sending was not
    /// paused. From then on the guard counts only messages sent after `now` (see
    /// [`Since`]), so the reports that tripped it do not trip it again.
    pub fn resume_sending(
        &self,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ResumedPause>, StoreError> {
        self.transaction("resume_sending", |c| {
            let Some(pause) = pause_in_force(c, self.newsletter())? else {
                return Ok(None);
            };
            c.execute(
                "UPDATE sending_pauses SET in_force = NULL, resumed_at = $1, resumed_by = $2
                 WHERE in_force = 1 AND newsletter = $3",
                &[&ts(now), &by, &self.newsletter()],
            )?;
            Ok(Some(ResumedPause {
                pause,
                resumed_at: from_ts(ts(now)),
                resumed_by: by.to_string(),
            }))
        })
    }

    /// Where the warm-up of `domain` stands at `now`: its first day (UTC) is recorded on the
    /// first call (`meta`, per domain, so a new From domain warms up anew), and today's use
    /// is every message sent since midnight UTC plus every row being sent now, by any run.
    pub fn warmup_day(
        &self,
        warmup: &Warmup,
        domain: &str,
        now: DateTime<Utc>,
    ) -> Result<WarmupDay, StoreError> {
        let today = now.date_naive();
        let first = self.meta_or_init(&format!("warmup_began:{domain}"), || today.to_string())?;
        let first: NaiveDate = first.parse().map_err(|e| StoreError::Invalid {
            op: "warmup_day",
            reason: format!("meta warmup_began:{domain} = {first:?} is not a date: {e}"),
        })?;
        let midnight = ts(today.and_time(NaiveTime::MIN).and_utc());
        let used: i64 = self.write("warmup_day", |c| {
            c.value(
                "SELECT (SELECT COUNT(*) FROM deliveries WHERE state = 'sent' AND sent_at >= $1)
                      + (SELECT COUNT(*) FROM deliveries WHERE state = 'sending')",
                &[&midnight],
            )
        })?;
        Ok(WarmupDay::at(
            warmup,
            (today - first).num_days(),
            u64::try_from(used).unwrap_or(0),
        ))
    }

    /// The latest lifted pause, for `status`.
    pub fn last_resumed_pause(&self) -> Result<Option<ResumedPause>, StoreError> {
        self.read("last_resumed_pause", |c| {
            c.query_opt(
                &format!(
                    "SELECT {PAUSE_COLUMNS}, resumed_at, resumed_by FROM sending_pauses
                     WHERE resumed_at IS NOT NULL AND newsletter = $1
                     ORDER BY resumed_at DESC, id DESC LIMIT 1"
                ),
                &[&self.newsletter()],
                |r| {
                    Ok(ResumedPause {
                        pause: row_to_pause(r)?,
                        resumed_at: from_ts(r.get(8)?),
                        resumed_by: r.get(9)?,
                    })
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::GuardKind;
    use chrono::Duration;

    const LIMITS: GuardLimits = GuardLimits {
        complaint_rate: 0.1,
        hard_bounce_rate: 0.2,
        window_days: 30,
        min_sample: 10,
    };

    /// Edition 2026-W49 (id 1) with `sent` deliveries sent at `sent_at` (ids 1…), `hard` of
    /// them hard-bounced (the first one twice) and `complaints` complained about.
    fn store_with(sent: i64, hard: i64, complaints: i64, sent_at: DateTime<Utc>) -> Store {
        let store = Store::for_tests().unwrap();
        store.raw_execute(&rows(sent, hard, complaints, sent_at));
        store
    }

    /// The SQL of [`store_with`]'s rows, for a store made otherwise.
    fn rows(sent: i64, hard: i64, complaints: i64, sent_at: DateTime<Utc>) -> String {
        let t = ts(sent_at);
        let mut sql = format!(
            "INSERT INTO editions (id, period_key, created_at) VALUES (1, '2026-W49', {t});
             INSERT INTO bounce_messages (hash, outcome, ingested_at) VALUES ('m', 'matched', {t});"
        );
        for i in 1..=sent {
            sql.push_str(&format!(
                "INSERT INTO subscribers (id, email, email_key, status, token_salt, created_at,
                                          updated_at)
                 VALUES ({i}, 'r{i}@example.org', 'r{i}@example.org', 'active', 's', {t}, {t});
                 INSERT INTO deliveries (id, edition_id, subscriber_id, state, picks, message_id,
                                         created_at, updated_at, sent_at)
                 VALUES ({i}, 1, {i}, 'sent', '[]', '<{i}@example.org>', {t}, {t}, {t});"
            ));
        }
        let report = |kind: &str, i: i64| {
            format!(
                "INSERT INTO bounces (message_hash, kind, email_key, delivery_id, edition_id,
                                      reason, at)
                 VALUES ('m', '{kind}', 'r{i}@example.org', {i}, 1, 'r', {t});"
            )
        };
        for i in 1..=hard {
            sql.push_str(&report("hard", i));
        }
        if hard > 0 {
            sql.push_str(&report("hard", 1));
        }
        for i in 1..=complaints {
            sql.push_str(&report("complaint", sent + 1 - i));
        }
        sql
    }

    #[test]
    fn a_relays_permanent_refusal_counts_as_an_attempt_that_hard_bounced() {
        // Nine digests delivered; the tenth refused by the relay with a 5xx.
        let now = Utc::now();
        let store = store_with(9, 0, 0, now - Duration::minutes(1));
        let t = ts(now);
        store.raw_execute(&format!(
            "INSERT INTO subscribers (id, email, email_key, status, token_salt, created_at,
                                      updated_at)
             VALUES (10, 'r10@example.org', 'r10@example.org', 'active', 's', {t}, {t});
             INSERT INTO deliveries (id, edition_id, subscriber_id, state, picks, message_id,
                                     created_at, updated_at)
             VALUES (10, 1, 10, 'pending', '[]', '<10@example.org>', {t}, {t});"
        ));
        let claimed = store
            .claim_deliveries("me", now, Duration::minutes(5), 10)
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let refused = crate::domain::Finish::Failed {
            error: "550 5.1.1 <r10@example.org>: no such user".into(),
            suppress: Some("r10@example.org".into()),
        };
        assert_eq!(
            store
                .finish_deliveries("me", &[(10, refused.clone())], now)
                .unwrap(),
            [true]
        );
        let counts = store.guard_counts(30, now).unwrap();
        let tally = counts.editions[0].1;
        assert_eq!((tally.delivered, tally.hard), (10, 1), "{counts:?}");
        let bounces = store.recent_bounces(5).unwrap();
        assert_eq!(bounces.len(), 1);
        assert_eq!(bounces[0].kind, "hard");
        assert!(store.is_suppressed("r10@example.org").unwrap());
        let strict = GuardLimits {
            hard_bounce_rate: 0.05,
            ..LIMITS
        };
        assert!(matches!(
            store.check_guard(&strict, now, "send").unwrap(),
            GuardState::Tripped(p) if p.kind == GuardKind::HardBounce && p.reports == 1
        ));
        let editions = store.edition_bounces().unwrap();
        assert_eq!((editions[0].sent, editions[0].hard), (10, 1));
    }

    #[test]
    fn a_rate_over_its_threshold_pauses_sending_once_with_the_numbers() {
        let now = Utc::now();
        // 2 complaints in 10 delivered (20 %); 2 hard bounces (one reported twice: 20 %, not 30 %).
        let store = store_with(10, 2, 2, now - Duration::hours(1));
        let counts = store.guard_counts(30, now).unwrap();
        assert_eq!(
            counts.editions,
            [(
                "2026-W49".to_string(),
                Tally {
                    delivered: 10,
                    hard: 2,
                    complaints: 2
                }
            )]
        );
        assert_eq!(store.sending_pause().unwrap(), None);

        let first = store.check_guard(&LIMITS, now, "bounces ingest").unwrap();
        let again = store.check_guard(&LIMITS, now, "send").unwrap();

        let GuardState::Tripped(pause) = first else {
            panic!("not tripped: {first:?}")
        };
        assert_eq!(pause.kind, GuardKind::Complaint);
        assert_eq!((pause.reports, pause.delivered), (2, 10));
        assert_eq!(
            pause.reason,
            "complaint rate 20.00 % (2 of 10 delivered, edition 2026-W49) is over 10.00 % \
             ([delivery.guard] complaint_rate)"
        );
        let stored = store.sending_pause().unwrap().unwrap();
        assert_eq!(stored.tripped_by, "bounces ingest");
        assert_eq!(stored.since, from_ts(ts(now)));
        assert_eq!(again, GuardState::Paused(stored));
    }

    #[test]
    fn under_the_minimum_sample_or_outside_the_window_nothing_trips() {
        let now = Utc::now();
        // 1 hard bounce and 1 complaint in 3 sends: no evidence yet.
        let small = store_with(3, 1, 1, now);
        assert_eq!(
            small.check_guard(&LIMITS, now, "send").unwrap(),
            GuardState::Clear
        );
        // Bad numbers, but sent 40 days ago: outside the 30-day window.
        let old = store_with(10, 5, 5, now - Duration::days(40));
        assert_eq!(
            old.check_guard(&LIMITS, now, "send").unwrap(),
            GuardState::Clear
        );
        assert_eq!(old.guard_counts(30, now).unwrap().editions, []);
        assert_eq!(old.guard_counts(60, now).unwrap().editions.len(), 1);
    }

    #[test]
    fn a_resume_lifts_the_pause_and_the_same_reports_do_not_trip_it_again() {
        let now = Utc::now();
        let store = store_with(20, 0, 5, now - Duration::hours(2));
        assert!(matches!(
            store.check_guard(&LIMITS, now, "send").unwrap(),
            GuardState::Tripped(_)
        ));
        let later = now + Duration::minutes(5);

        let resumed = store.resume_sending("cli:ada", later).unwrap().unwrap();
        let twice = store.resume_sending("cli:ada", later).unwrap();
        let after = store.check_guard(&LIMITS, later, "send").unwrap();

        assert_eq!(resumed.resumed_by, "cli:ada");
        assert_eq!(resumed.pause.reports, 5);
        assert_eq!(twice, None, "nothing to resume");
        assert_eq!(after, GuardState::Clear);
        assert_eq!(store.sending_pause().unwrap(), None);
        let counts = store.guard_counts(30, later).unwrap();
        assert_eq!(
            counts.since,
            Since::Resume {
                at: from_ts(ts(later))
            }
        );
        assert_eq!(store.last_resumed_pause().unwrap(), Some(resumed));
        // Messages sent after the resume count again: 5 complaints in 10 trip it anew.
        store.raw_execute(&format!(
            "UPDATE deliveries SET sent_at = {} WHERE id > 10",
            ts(later + Duration::minutes(1))
        ));
        let t = later + Duration::minutes(2);
        let GuardState::Tripped(p) = store.check_guard(&LIMITS, t, "send").unwrap() else {
            panic!("a new pause")
        };
        assert_eq!((p.reports, p.delivered), (5, 10));
    }

    #[test]
    fn of_several_processes_tripping_at_once_one_records_the_pause() {
        use crate::store::attempts::tests::{race, stores_on_one_database};
        let (stores, _dir) = stores_on_one_database(4);
        let now = Utc::now();
        // Ten delivered, all ten complained about.
        stores[0].raw_execute(&rows(10, 0, 10, now));

        let states = race(&stores, |_, s| s.check_guard(&LIMITS, now, "send").unwrap());

        let tripped = states
            .iter()
            .filter(|s| matches!(s, GuardState::Tripped(_)))
            .count();
        assert_eq!(tripped, 1, "{states:?}");
        assert!(states.iter().all(|s| s.pause().is_some()), "{states:?}");
    }
}
