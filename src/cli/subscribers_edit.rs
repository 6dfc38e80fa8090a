//! Reader administration: `subscribers edit` (only the given fields change),
//! `subscribers show` (everything known about one reader, its tokens from
//! `subscriber_tokens.rs`), and the upsert behind `subscribers import --update`.
use chrono::{DateTime, Utc};
use clap::Args;

use crate::config::Settings;
use crate::domain::{DisplayName, Frequency, Subscriber, Topics};
use crate::domain::{NewSubscriber, StoredName, SubscriberUpdate};
use crate::store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The reader's address (any letter case).
    email: String,
    /// New topics, e.g. `"diffusion model", cat:cs.CL`; "" = the trending digest.
    #[arg(long)]
    topics: Option<String>,
    /// weekly or daily.
    #[arg(long)]
    frequency: Option<String>,
    /// The reader's IANA time zone, e.g. `America/New_York`; `default` = the schedule's.
    #[arg(long, value_name = "ZONE|default")]
    timezone: Option<String>,
    /// The local hour (0-23) of their digest; `default` = the schedule's time.
    #[arg(long, value_name = "0-23|default")]
    hour: Option<String>,
    /// Their name; "" removes it. At most 100 characters, no control characters, line
    /// breaks or bidirectional overrides.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The reader's address (any letter case).
    email: String,
    /// Also print the reader's current links (web copy, feed, preferences, unsubscribe),
    /// for support: each opens the reader's pages, so keep them private.
    #[arg(long)]
    links: bool,
}

pub(super) fn edit(store: &Store, args: EditArgs) -> anyhow::Result<i32> {
    let Some(s) = store.subscriber_by_email(&args.email)? else {
        eprintln!("no subscriber {}", args.email);
        return Ok(1);
    };
    // Everything is validated before anything changes, the same way `add` validates.
    let update = SubscriberUpdate {
        name: args
            .name
            .as_deref()
            .map(DisplayName::parse_optional)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--name: {e}"))?,
        status: None,
        topics: args.topics.as_deref().map(Topics::parse).transpose()?,
        frequency: args
            .frequency
            .as_deref()
            .map(str::parse::<Frequency>)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        timezone: args
            .timezone
            .as_deref()
            .map(|t| match t.trim() {
                "" | "default" => Ok(None),
                tz => super::subscribers::parse_tz(tz).map(Some),
            })
            .transpose()
            .map_err(|e| anyhow::anyhow!("--timezone: {e}"))?,
        send_hour: args
            .hour
            .as_deref()
            .map(parse_hour)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--hour: {e}"))?,
    };
    if update.name.is_none()
        && update.topics.is_none()
        && update.frequency.is_none()
        && update.timezone.is_none()
        && update.send_hour.is_none()
    {
        anyhow::bail!(
            "nothing to change: give --topics, --frequency, --timezone, --hour or --name"
        );
    }
    let s = store
        .update_subscriber(s.id, &update, Utc::now())?
        .ok_or_else(|| anyhow::anyhow!("{} was removed meanwhile", args.email))?;
    println!(
        "updated {}: {}, {}, {}",
        s.email,
        topics_line(&s.topics),
        s.frequency,
        when_line(&s)
    );
    Ok(0)
}

/// `"9"` → 9; `"default"` or `""` → none (the schedule's time).
fn parse_hour(h: &str) -> Result<Option<u8>, String> {
    match h.trim() {
        "" | "default" => Ok(None),
        h => match h.parse::<u8>() {
            Ok(n) if n <= 23 => Ok(Some(n)),
            _ => Err(format!("`{h}` is not an hour (0-23) or `default`")),
        },
    }
}

fn topics_line(t: &Topics) -> String {
    if t.is_trending() {
        "the trending digest (no topics)".into()
    } else {
        format!("topics: {t}")
    }
}

fn when_line(s: &Subscriber) -> String {
    match (s.send_hour, s.timezone) {
        (None, None) => "at the schedule's time".into(),
        (Some(h), tz) => format!(
            "at {h:02}:00 {}",
            tz.map_or("in the schedule's zone", |t| t.name())
        ),
        (None, Some(tz)) => format!("at the schedule's time in {}", tz.name()),
    }
}

fn at(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(super) fn show(settings: &Settings, store: &Store, args: ShowArgs) -> anyhow::Result<i32> {
    let Some(s) = store.subscriber_by_email(&args.email)? else {
        eprintln!("no subscriber {}", args.email);
        return Ok(1);
    };
    let dates = store.subscriber_dates(s.id)?;
    match &s.name {
        Some(n) => println!("{} ({n})", s.email),
        None => println!("{}", s.email),
    }
    if let Some(Err(e)) = s.name.as_ref().map(StoredName::display_name) {
        println!(
            "  name:         unusable, no digest can be addressed with it: {e} \
             (`paperpost subscribers edit {} --name …` replaces it)",
            s.email
        );
    }
    println!("  status:       {}", s.status);
    if s.topics.is_trending() {
        println!("  topics:       none (the trending digest)");
    } else {
        println!("  topics:       {}", s.topics);
    }
    println!("  frequency:    {}, {}", s.frequency, when_line(&s));
    if let Some(d) = &dates {
        println!("  created:      {}", at(d.created_at));
        if let Some(t) = d.confirmed_at {
            println!("  confirmed:    {}", at(t));
        }
        if let Some(t) = d.unsubscribed_at {
            println!("  unsubscribed: {}", at(t));
        }
    }
    match store.last_digest(s.id)? {
        None => println!("  last digest:  none yet"),
        Some(d) => {
            let when = d
                .sent_at
                .map_or_else(|| format!("planned {}", at(d.planned_at)), at);
            let error = d.last_error.map_or(String::new(), |e| format!(": {e}"));
            println!(
                "  last digest:  {} {} {when} ({}){error}",
                d.period_key,
                d.state,
                crate::domain::count(d.papers, "paper", "papers")
            );
        }
    }
    match store.suppression(s.email.as_ref())? {
        None => println!("  suppressed:   no"),
        Some(x) => println!(
            "  suppressed:   since {}: {} (`paperpost deliveries unsuppress {}` lifts it)",
            at(x.since),
            x.reason,
            s.email
        ),
    }
    for lift in store.suppression_lifts(s.email.as_ref())?.iter().take(3) {
        let how = match lift.lifted_by {
            crate::domain::LiftedBy::Reconfirmed => "on re-confirmation",
            crate::domain::LiftedBy::Operator => "by the operator (deliveries unsuppress)",
        };
        println!(
            "  suppression ({}, since {}) lifted {how} at {}",
            lift.reason,
            at(lift.suppressed_at),
            at(lift.lifted_at)
        );
    }
    let feedback = store.feedback_of(s.id)?;
    for (verdict, label) in [
        (crate::domain::Feedback::Like, "likes:   "),
        (crate::domain::Feedback::Dislike, "dislikes:"),
    ] {
        let ids: Vec<String> = feedback
            .iter()
            .filter(|r| r.feedback == verdict)
            .map(|r| r.paper_id.to_string())
            .collect();
        if ids.is_empty() {
            println!("  {label}     none");
        } else {
            println!("  {label}     {}", ids.join(", "));
        }
    }
    print_seeds(store, s.id)?;
    super::subscriber_tokens::print_tokens(&s);
    if args.links {
        super::subscriber_tokens::print_links(settings, store, &s)?;
    }
    Ok(0)
}

/// What seeded the reader's profile (`subscribers seed`): per file, then the first titles.
fn print_seeds(store: &Store, subscriber_id: i64) -> anyhow::Result<()> {
    const TITLES: usize = 5;
    let seeds = store.seed_summary(subscriber_id, TITLES)?;
    if seeds.files.is_empty() {
        println!("  seeds:        none (`paperpost subscribers seed EMAIL FILE` adds a library)");
        return Ok(());
    }
    println!(
        "  seeds:        {}, {} of them stored papers (they count as liked)",
        crate::domain::count(seeds.total, "paper", "papers"),
        seeds.matched
    );
    for f in &seeds.files {
        println!(
            "    from {} ({}, {}): {}, {} matched",
            f.file_name,
            f.format,
            at(f.imported_at),
            crate::domain::count(f.seeds, "paper", "papers"),
            f.matched
        );
    }
    for t in &seeds.first_titles {
        println!("    - {}", crate::domain::shorten(t, 100));
    }
    if seeds.total > seeds.first_titles.len() {
        println!("    … and {} more", seeds.total - seeds.first_titles.len());
    }
    Ok(())
}

/// Which columns an imported row gave: on `--update` only those change.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Given {
    pub name: bool,
    pub topics: bool,
    pub status: bool,
    pub frequency: bool,
    pub timezone: bool,
    pub send_hour: bool,
}

/// What an upsert did to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upserted {
    Added,
    Updated,
    Unchanged,
}

/// Adds `new`; with `update`, an address already known is updated instead, in the fields
/// the row `given` (without `update` it is refused as a duplicate).
pub(super) fn upsert(
    store: &Store,
    new: &NewSubscriber,
    given: Given,
    update: bool,
    now: DateTime<Utc>,
) -> Result<Upserted, String> {
    match store.add_subscriber(new, now) {
        Ok(_) => return Ok(Upserted::Added),
        Err(StoreError::Conflict { .. }) if !update => {
            return Err(format!(
                "{} is already subscribed (--update updates known addresses)",
                new.email
            ));
        }
        Err(StoreError::Conflict { .. }) => {}
        Err(e) => return Err(e.to_string()),
    }
    let old = store
        .subscriber_by_email(new.email.as_ref())
        .map_err(|e| format!("{e:#}"))?
        .ok_or_else(|| format!("{} was removed meanwhile", new.email))?;
    let change = |given: bool, same: bool| given && !same;
    let u = SubscriberUpdate {
        name: change(given.name, same_name(&old.name, &new.name)).then(|| new.name.clone()),
        status: change(given.status, old.status == new.status).then_some(new.status),
        topics: change(given.topics, old.topics == new.topics).then(|| new.topics.clone()),
        frequency: change(given.frequency, old.frequency == new.frequency).then_some(new.frequency),
        timezone: change(given.timezone, old.timezone == new.timezone).then_some(new.timezone),
        send_hour: change(given.send_hour, old.send_hour == new.send_hour).then_some(new.send_hour),
    };
    if u.name.is_none()
        && u.status.is_none()
        && u.topics.is_none()
        && u.frequency.is_none()
        && u.timezone.is_none()
        && u.send_hour.is_none()
    {
        return Ok(Upserted::Unchanged);
    }
    store
        .update_subscriber(old.id, &u, now)
        .map_err(|e| format!("{e:#}"))?;
    Ok(Upserted::Updated)
}

/// Whether the stored name is the one a row gives (a stored name today's rules refuse is
/// never the same: the row replaces it).
fn same_name(old: &Option<StoredName>, new: &Option<DisplayName>) -> bool {
    match (old, new) {
        (None, None) => true,
        (Some(o), Some(n)) => o == n,
        _ => false,
    }
}

/// Counts of an import, printed at its end.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub bad: usize,
}

impl Tally {
    /// Counts one row's outcome; a bad row is reported as `file:line: message`.
    pub fn record(&mut self, file: &std::path::Path, line: u64, outcome: Result<Upserted, String>) {
        match outcome {
            Ok(Upserted::Added) => self.added += 1,
            Ok(Upserted::Updated) => self.updated += 1,
            Ok(Upserted::Unchanged) => self.unchanged += 1,
            Err(msg) => {
                self.bad += 1;
                eprintln!("{}:{line}: {msg}", file.display());
            }
        }
    }

    /// Prints the summary; the exit code (1 when some rows were skipped).
    pub fn finish(&self) -> i32 {
        let mut parts = vec![format!("imported {} subscribers", self.added)];
        if self.updated + self.unchanged > 0 {
            parts.push(format!("updated {}", self.updated));
            parts.push(format!("{} unchanged", self.unchanged));
        }
        if self.bad > 0 {
            parts.push(format!("{} rows skipped", self.bad));
        }
        println!("{}", parts.join(", "));
        i32::from(self.bad > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_0_to_23_or_default() {
        assert_eq!(parse_hour("9"), Ok(Some(9)));
        assert_eq!(parse_hour("default"), Ok(None));
        for bad in ["24", "-1", "nine", "9.5"] {
            assert!(parse_hour(bad).is_err(), "{bad}");
        }
    }
}
