//! The status report's views: `paperpost status` ([`render_status_text`]) and the web
//! server's status page ([`render_status_page`]), from the [`StatusReport`] the pipeline's
//! query built.
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};

use crate::domain::{
    DeliveryCounts, DeliveryState, EditionBounces, ResumedPause, RunRecord, StatusReport,
};

const STATUS_CSS: &str = include_str!("../../templates/status.css");

/// `hard 1 (0.5%), soft 0 (0.0%), complaints 1 (0.5%)`.
fn bounce_line(b: &EditionBounces) -> String {
    format!(
        "bounces: hard {} ({}), soft {} ({}); complaints {} ({})",
        b.hard,
        b.rate(b.hard),
        b.soft,
        b.rate(b.soft),
        b.complaints,
        b.rate(b.complaints)
    )
}

/// `last resumed 2026-12-07 17:00 UTC by cli:ada; it had been paused since …: …`.
fn resume_line(r: &ResumedPause) -> String {
    format!(
        "last resumed {} by {}; it had been paused since {}: {}",
        r.resumed_at.format("%Y-%m-%d %H:%M UTC"),
        r.resumed_by,
        r.pause.since.format("%Y-%m-%d %H:%M UTC"),
        r.pause.reason
    )
}

/// `bounce reports not believed: 3 (unverified: nothing changed)`.
fn unverified_line(n: i64) -> String {
    format!(
        "bounce reports not believed: {n} (unverified: no VERP token or Message-ID of ours; nothing changed)"
    )
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

fn local_opt(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map_or_else(|| "—".to_string(), |t| local(t, tz))
}

/// One line about a run: what it was and what came of it.
pub fn describe_run(r: &RunRecord) -> String {
    let mut parts = Vec::new();
    match r.kind.as_str() {
        "fetch" => {
            for s in &r.sources {
                parts.push(match &s.error {
                    None if s.not_modified > 0 && s.papers == 0 => {
                        format!("{}: not modified", s.name)
                    }
                    None if s.skipped > 0 => format!(
                        "{}: {} ({} new, {} skipped)",
                        s.name,
                        crate::domain::count(s.papers, "paper", "papers"),
                        s.new,
                        s.skipped
                    ),
                    None => format!(
                        "{}: {} ({} new)",
                        s.name,
                        crate::domain::count(s.papers, "paper", "papers"),
                        s.new
                    ),
                    Some(e) => format!("{}: FAILED ({e})", s.name),
                });
            }
            if r.sources.is_empty() {
                parts.push("no sources configured".into());
            }
        }
        "send" => {
            if let Some(k) = &r.period_key {
                parts.push(format!("edition {k}: {} digests planned", r.planned));
            }
            parts.push(format!(
                "sent {}, failed {}, retry {}, unknown {}",
                r.sent, r.failed, r.retry, r.unknown
            ));
        }
        _ => {
            if let Some(k) = &r.period_key {
                parts.push(format!("edition {k}"));
            }
        }
    }
    if let Some(n) = &r.note {
        parts.push(n.clone());
    }
    parts.join("; ")
}

fn counts_line(e: &DeliveryCounts) -> String {
    let mut parts: Vec<String> = e
        .counts
        .iter()
        .map(|(state, n)| format!("{state} {n}"))
        .collect();
    if e.reclaimed > 0 {
        parts.push(format!("reclaimed after a crash {}", e.reclaimed));
    }
    parts.join(", ")
}

/// `paperpost status`.
pub fn render_status_text(s: &StatusReport) -> String {
    use std::fmt::Write;
    let tz = s.timezone;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} status at {} (times in {})",
        s.newsletter,
        local(s.generated_at, tz),
        tz.name()
    );
    let _ = writeln!(o, "scheduler last ran: {}", local_opt(s.last_tick, tz));
    if let Some(p) = &s.pause {
        let _ = writeln!(
            o,
            "\nSENDING PAUSED by the reputation guard (tripped by {}):\n  {}\n  {} queued; \
             `{}` lifts the pause",
            p.tripped_by,
            p.describe(),
            crate::domain::count(
                usize::try_from(s.queue.outstanding()).unwrap_or(0),
                "delivery stays",
                "deliveries stay"
            ),
            s.resume_command
        );
    }
    let _ = writeln!(o, "\nNext runs");
    for n in &s.next {
        let _ = writeln!(
            o,
            "  {:<15} {:<28} {}",
            n.what,
            local_opt(n.at, tz),
            n.detail
        );
    }
    let _ = writeln!(o, "\nLast runs");
    if s.runs.is_empty() {
        let _ = writeln!(o, "  none yet");
    }
    for r in &s.runs {
        let _ = writeln!(
            o,
            "  {:<28} {:<7} {}",
            local_opt(r.started_at, tz),
            r.kind,
            describe_run(r)
        );
    }
    let _ = writeln!(o, "\nEditions");
    if s.editions.is_empty() {
        let _ = writeln!(o, "  none yet");
    }
    for e in &s.editions {
        let _ = writeln!(o, "  {:<12} {}", e.period_key, counts_line(e));
        if let Some(b) = s.bounces_of(&e.period_key) {
            let _ = writeln!(o, "  {:<12} {}", "", bounce_line(b));
        }
    }
    if s.unverified_reports > 0 {
        let _ = writeln!(o, "  {}", unverified_line(s.unverified_reports));
    }
    let q = &s.queue;
    let _ = writeln!(
        o,
        "\nDelivery queue: {} outstanding (pending {}, sending {}, retry {}); next retry: {}",
        q.outstanding(),
        q.pending,
        q.sending,
        q.retry,
        local_opt(q.next_retry, tz)
    );
    if s.pause.is_none()
        && let Some(g) = &s.guard
    {
        let _ = writeln!(o, "Sending guard: {}", g.describe());
    }
    if let Some(r) = &s.last_resume {
        let _ = writeln!(o, "Sending guard: {}", resume_line(r));
    }
    o
}

/// The status as a standalone HTML page (the web server mounts it at `/status`). Every value
/// is escaped by maud.
pub fn render_status_page(s: &StatusReport) -> Markup {
    let tz = s.timezone;
    let title = format!("{} status", s.newsletter);
    let states = DeliveryState::ALL;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content="60";
                meta name="robots" content="noindex";
                title { (title) }
                style { (maud::PreEscaped(STATUS_CSS)) }
            }
            body {
                main {
                    header {
                        p.brand { (s.newsletter) }
                        h1 { "Status" }
                        p.mu {
                            "As of " (local(s.generated_at, tz)) " · times in " (tz.name())
                            " · scheduler last ran " (local_opt(s.last_tick, tz))
                        }
                    }
                    @if let Some(p) = &s.pause {
                        section.card.bad #paused {
                            h2 { "Sending paused" }
                            p { strong { (p.describe()) } }
                            p.mu {
                                "Tripped by " (p.tripped_by) " at " (local(p.since, tz)) ". "
                                (s.queue.outstanding()) " deliveries stay queued until sending is "
                                "resumed (" code { (s.resume_command) } ")."
                            }
                        }
                    }
                    section.card {
                        h2 { "Next runs" }
                        table {
                            thead { tr { th { "What" } th { "When" } th { "Schedule" } } }
                            tbody {
                                @for n in &s.next {
                                    tr { td { (n.what) } td.nw { (local_opt(n.at, tz)) } td.mu { (n.detail) } }
                                }
                            }
                        }
                    }
                    section.card {
                        h2 { "Last runs" }
                        @if s.runs.is_empty() {
                            p.mu { "None yet." }
                        } @else {
                            table {
                                thead { tr { th { "Started" } th { "Run" } th { "Result" } } }
                                tbody {
                                    @for r in &s.runs {
                                        tr class=(if r.kind == "error" || r.failed > 0 || r.sources.iter().any(|s| s.error.is_some()) { "bad" } else { "" }) {
                                            td.nw { (local_opt(r.started_at, tz)) }
                                            td { (r.kind) }
                                            td { (describe_run(r)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    section.card {
                        h2 { "Delivery queue" }
                        p {
                            strong { (s.queue.outstanding()) } " outstanding: "
                            (s.queue.pending) " pending, " (s.queue.sending) " sending, "
                            (s.queue.retry) " to retry (next " (local_opt(s.queue.next_retry, tz)) ")."
                        }
                        @if !s.editions.is_empty() {
                            table {
                                thead {
                                    tr {
                                        th { "Edition" }
                                        @for st in states { th.num { (st) } }
                                        th.num { "hard bounces" }
                                        th.num { "soft bounces" }
                                        th.num { "complaints" }
                                    }
                                }
                                tbody {
                                    @for e in &s.editions {
                                        tr {
                                            td.nw { (e.period_key) }
                                            @for st in states {
                                                td.num { (e.counts.iter().find(|c| c.0 == st).map_or(0, |c| c.1)) }
                                            }
                                            @let b = s.bounces_of(&e.period_key).cloned().unwrap_or_default();
                                            td.num { (b.hard) " (" (b.rate(b.hard)) ")" }
                                            td.num { (b.soft) " (" (b.rate(b.soft)) ")" }
                                            td.num { (b.complaints) " (" (b.rate(b.complaints)) ")" }
                                        }
                                    }
                                }
                            }
                        }
                        @if s.unverified_reports > 0 {
                            p.mu { (unverified_line(s.unverified_reports)) }
                        }
                        @if let (None, Some(g)) = (&s.pause, &s.guard) {
                            p.mu #guard { "Sending guard: " (g.describe()) }
                        }
                        @if let Some(r) = &s.last_resume {
                            p.mu { "Sending guard: " (resume_line(r)) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NextRun, QueueStatus, SendingPause, SourceRunRecord};

    fn report() -> StatusReport {
        let now = DateTime::parse_from_rfc3339("2026-11-26T08:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        StatusReport {
            newsletter: "paper<post>".into(),
            resume_command: crate::domain::resume_command("main"),
            generated_at: now,
            timezone: chrono_tz::Europe::Berlin,
            last_tick: Some(now),
            next: vec![NextRun {
                what: "fetch".into(),
                at: Some(now),
                detail: "`0 * * * *` in Europe/Berlin".into(),
            }],
            runs: vec![RunRecord {
                kind: "fetch".into(),
                sources: vec![
                    SourceRunRecord {
                        name: "hf".into(),
                        papers: 29,
                        new: 3,
                        ..Default::default()
                    },
                    SourceRunRecord {
                        name: "arxiv".into(),
                        error: Some("HTTP 503 <oops>".into()),
                        ..Default::default()
                    },
                ],
                started_at: Some(now),
                ..Default::default()
            }],
            editions: vec![DeliveryCounts {
                period_key: "2026-W48".into(),
                counts: vec![(DeliveryState::Sent, 3), (DeliveryState::Skipped, 1)],
                reclaimed: 0,
            }],
            bounces: vec![EditionBounces {
                period_key: "2026-W48".into(),
                sent: 3,
                hard: 1,
                soft: 0,
                complaints: 1,
            }],
            unverified_reports: 2,
            queue: QueueStatus {
                retry: 1,
                ..Default::default()
            },
            pause: None,
            guard: None,
            last_resume: None,
        }
    }

    #[test]
    fn the_text_shows_next_runs_sources_and_the_queue() {
        let text = render_status_text(&report());
        assert!(text.contains("Thu 2026-11-26 09:30 CET"), "{text}");
        assert!(text.contains("hf: 29 papers (3 new); arxiv: FAILED (HTTP 503 <oops>)"));
        assert!(text.contains("2026-W48     sent 3, skipped 1"), "{text}");
        assert!(
            text.contains("bounces: hard 1 (33.3%), soft 0 (0.0%); complaints 1 (33.3%)"),
            "{text}"
        );
        assert!(text.contains("1 outstanding (pending 0, sending 0, retry 1)"));
        assert!(
            text.contains("bounce reports not believed: 2 (unverified"),
            "{text}"
        );
    }

    #[test]
    fn a_pause_is_said_first_with_why_since_when_and_the_numbers() {
        let mut s = report();
        s.pause = Some(SendingPause {
            since: s.generated_at,
            kind: crate::domain::GuardKind::Complaint,
            edition: Some("2026-W48".into()),
            reports: 21,
            delivered: 5000,
            threshold: 0.003,
            reason: "complaint rate 0.42 % (21 of 5,000 delivered, edition 2026-W48) is over \
                     0.30 % ([delivery.guard] complaint_rate)"
                .into(),
            tripped_by: "bounces ingest".into(),
        });
        let text = render_status_text(&s);
        assert!(
            text.contains(
                "SENDING PAUSED by the reputation guard (tripped by bounces ingest):\n  sending \
                 paused since 2026-11-26 08:30 UTC: complaint rate 0.42 % (21 of 5,000 \
                 delivered, edition 2026-W48)"
            ),
            "{text}"
        );
        assert!(text.contains("1 delivery stays queued"), "{text}");
        let html = render_status_page(&s).into_string();
        assert!(html.contains("id=\"paused\""), "{html}");
        assert!(html.contains("21 of 5,000 delivered"), "{html}");
        s.last_resume = Some(ResumedPause {
            pause: s.pause.take().unwrap(),
            resumed_at: s.generated_at,
            resumed_by: "cli:ada".into(),
        });
        let text = render_status_text(&s);
        assert!(!text.contains("SENDING PAUSED"), "{text}");
        assert!(
            text.contains("Sending guard: last resumed 2026-11-26 08:30 UTC by cli:ada"),
            "{text}"
        );
    }

    #[test]
    fn while_nothing_is_paused_the_guard_shows_its_rates_against_the_thresholds() {
        use crate::domain::{GuardLimits, GuardWatch, Since, Tally};
        let mut s = report();
        let limits = GuardLimits {
            complaint_rate: 0.003,
            hard_bounce_rate: 0.05,
            window_days: 30,
            min_sample: 1000,
        };
        s.guard = Some(GuardWatch {
            limits,
            since: Since::Window {
                days: 30,
                from: s.generated_at,
            },
            window: Tally {
                delivered: 4800,
                hard: 24,
                complaints: 1,
            },
        });
        let text = render_status_text(&s);
        assert!(
            text.contains(
                "Sending guard: complaints 0.02 % (1 of 4,800 delivered in the last 30 days; \
                 pauses above 0.30 %), hard bounces 0.50 % (24; pauses above 5.00 %)\n"
            ),
            "{text}"
        );
        let html = render_status_page(&s).into_string();
        assert!(html.contains("id=\"guard\""), "{html}");
        // Under min_sample it says so; while paused, the pause says it all.
        s.guard.as_mut().unwrap().window.delivered = 300;
        assert!(render_status_text(&s).contains("not judged until 1,000 are delivered"));
        s.pause = Some(SendingPause {
            since: s.generated_at,
            kind: crate::domain::GuardKind::Complaint,
            edition: None,
            reports: 9,
            delivered: 1000,
            threshold: 0.003,
            reason: "complaint rate 0.90 %".into(),
            tripped_by: "send".into(),
        });
        assert!(!render_status_text(&s).contains("Sending guard: complaints"));
    }

    #[test]
    fn the_page_escapes_everything() {
        let html = render_status_page(&report()).into_string();
        assert!(html.contains("paper&lt;post&gt;"));
        assert!(html.contains("HTTP 503 &lt;oops&gt;"));
        assert!(!html.contains("<oops>"));
        assert!(html.contains("<td class=\"num\">3</td>"));
    }
}
