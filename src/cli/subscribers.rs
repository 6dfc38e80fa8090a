use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use clap::Subcommand;

use super::listmonk::CsvFormat;
use super::subscriber_csv;
use super::subscriber_tokens::TokenChoice;
use super::subscribers_edit::{EditArgs, Given, ShowArgs, Tally, upsert};
use crate::config::Settings;
use crate::domain::NewSubscriber;
use crate::domain::{DisplayName, Frequency, SubscriberEmail, SubscriberStatus, Topics};
use crate::store::{Store, StoreError};

#[derive(Debug, Subcommand)]
pub enum SubscribersCommand {
    /// Add an active subscriber.
    Add {
        email: String,
        /// Topics, e.g. `"diffusion model", cat:cs.CL, author:Hinton, min_upvotes:5`;
        /// none = the trending digest.
        #[arg(long, default_value = "")]
        topics: String,
        /// Their name, shown beside the address in the `To:` header: at most 100
        /// characters, no control characters, line breaks or bidirectional overrides.
        #[arg(long)]
        name: Option<String>,
        /// weekly or daily.
        #[arg(long, default_value = "weekly")]
        frequency: String,
        /// The reader's IANA time zone, e.g. `America/New_York`; default the schedule's.
        #[arg(long, value_parser = parse_tz)]
        timezone: Option<chrono_tz::Tz>,
        /// The local hour (0-23) the reader wants the digest, on the schedule's days;
        /// default the schedule's time.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=23))]
        hour: Option<u8>,
    },
    /// List subscribers (tab-separated: email, status, frequency, topics).
    List {
        /// Only this status: active, pending, paused or unsubscribed.
        #[arg(long)]
        status: Option<String>,
    },
    /// Unsubscribe an address (kept on record); with --purge delete it and its history.
    Remove {
        email: String,
        #[arg(long)]
        purge: bool,
    },
    /// Import a CSV with the header `email,name,topics,status[,frequency,timezone,send_hour]`
    /// (`timezone` an IANA name, `send_hour` 0-23; empty = the schedule's), or listmonk's
    /// `email,name,attributes` (paperpost's fields in the JSON attributes; detected from the
    /// header). Bad rows are reported by line and skipped; good rows go in.
    Import {
        file: PathBuf,
        /// Update addresses already known from their row (only the columns the file has)
        /// instead of skipping them.
        #[arg(long)]
        update: bool,
        /// The file's layout; default: detected from the header row.
        #[arg(long, value_enum)]
        format: Option<CsvFormat>,
    },
    /// Export every subscriber as CSV (the format `import` reads).
    Export {
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// paperpost's columns, or listmonk's `email,name,attributes`.
        #[arg(long, value_enum, default_value = "paperpost")]
        format: CsvFormat,
    },
    /// Change a reader's topics, frequency, time zone, hour or name; only the given fields
    /// change, validated as `add` validates them.
    Edit(EditArgs),
    /// Everything known about one reader: topics, status, dates, their last digest,
    /// whether their address is suppressed and why, their likes, what seeded their profile
    /// (files, counts, the first titles), and their link tokens (per purpose: generation
    /// and last revocation; the links themselves only with --links).
    Show(ShowArgs),
    /// Seed a reader's profile from their library file: BibTeX/BibLaTeX, RIS, CSL-JSON or
    /// CSV (Zotero, JabRef, Google Scholar, Mendeley, EndNote exports); `--clear` forgets it.
    ///
    /// Each entry becomes a profile document keyed by its arXiv id (from `eprint` with
    /// `archivePrefix`, `arXiv:` in a note or journal, an arxiv.org link, an arXiv DOI),
    /// else its DOI, else its title. Entries naming a stored paper count as that paper
    /// liked; the others are kept with the file's title and abstract. A second file adds to
    /// the first (the newest file's version of a paper wins); `--replace` starts over; the
    /// same file twice changes nothing. A reader keeps at most 2,000 seeds.
    ///
    /// An entry with no arXiv id, DOI or title is bad: every bad entry is reported by line
    /// and nothing is imported (exit 1), unless `--skip-bad` imports the good ones.
    Seed(super::seed::SeedArgs),
    /// Revoke a reader's link tokens: every earlier link of that purpose stops working, and
    /// their next digest carries new ones. Unsubscribing revokes all of them.
    Revoke {
        /// The reader's address (any letter case).
        email: String,
        /// Which links: `copy` (web copies), `feed` (the Atom feed), `manage` (preferences,
        /// 👍/👎, unsubscribe) or `all`.
        #[arg(long = "token", value_enum)]
        token: TokenChoice,
    },
}

pub(super) fn run(
    settings: &Settings,
    store: &Store,
    cmd: SubscribersCommand,
) -> anyhow::Result<i32> {
    match cmd {
        SubscribersCommand::Add {
            email,
            topics,
            name,
            frequency,
            timezone,
            hour,
        } => {
            let new = NewSubscriber {
                email: SubscriberEmail::parse(&email).map_err(anyhow::Error::msg)?,
                name: name
                    .as_deref()
                    .map(DisplayName::parse_optional)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--name: {e}"))?
                    .flatten(),
                status: SubscriberStatus::Active,
                topics: Topics::parse(&topics)?,
                frequency: frequency.parse::<Frequency>().map_err(anyhow::Error::msg)?,
                timezone,
                send_hour: hour,
            };
            if let Some(reason) = store.suppression_reason(new.email.as_ref())? {
                eprintln!(
                    "{} cannot be subscribed: the address is on the suppression list ({reason})",
                    new.email
                );
                return Ok(1);
            }
            match store.add_subscriber(&new, Utc::now()) {
                Ok(s) => {
                    let when = match (s.send_hour, s.timezone) {
                        (None, None) => String::new(),
                        (Some(h), tz) => format!(
                            ", at {h:02}:00 {}",
                            tz.map_or("in the schedule's zone", |t| t.name())
                        ),
                        (None, Some(tz)) => format!(", at the schedule's time in {}", tz.name()),
                    };
                    println!(
                        "added {} ({}, {}{when})",
                        s.email,
                        describe(&s.topics),
                        s.frequency
                    );
                    Ok(0)
                }
                Err(StoreError::Conflict { .. }) => add_again(store, new),
                Err(e) => Err(e.into()),
            }
        }
        SubscribersCommand::List { status } => {
            let status = status
                .map(|s| s.parse::<SubscriberStatus>())
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let (good, bad) = store.subscribers_checked(status)?;
            for s in good {
                println!("{}\t{}\t{}\t{}", s.email, s.status, s.frequency, s.topics);
            }
            report_unreadable(&bad);
            Ok(0)
        }
        SubscribersCommand::Remove { email, purge } => {
            if purge {
                // By address alone, so a stored row that no longer reads can be deleted too.
                if !store.delete_subscriber(&email)? {
                    eprintln!("no subscriber {email}");
                    return Ok(1);
                }
                println!("deleted {} and their delivery history", email.trim());
                return Ok(0);
            }
            let Some(s) = store.subscriber_by_email(&email)? else {
                eprintln!(
                    "no readable subscriber {email} (a stored row that cannot be read is deleted with --purge)"
                );
                return Ok(1);
            };
            {
                let u = crate::domain::SubscriberUpdate {
                    status: Some(SubscriberStatus::Unsubscribed),
                    ..Default::default()
                };
                store.update_subscriber(s.id, &u, Utc::now())?;
                println!("unsubscribed {}", s.email);
            }
            Ok(0)
        }
        SubscribersCommand::Import {
            file,
            update,
            format,
        } => import(store, &file, update, format),
        SubscribersCommand::Edit(args) => super::subscribers_edit::edit(store, args),
        SubscribersCommand::Show(args) => super::subscribers_edit::show(settings, store, args),
        SubscribersCommand::Seed(args) => super::seed::run(store, args),
        SubscribersCommand::Revoke { email, token } => {
            super::subscriber_tokens::revoke(store, &email, token)
        }
        SubscribersCommand::Export { out, format } => {
            let mut w: Box<dyn Write> = match &out {
                Some(p) => Box::new(std::fs::File::create(p)?),
                None => Box::new(std::io::stdout().lock()),
            };
            match format {
                CsvFormat::Paperpost => export(store, &mut w)?,
                CsvFormat::Listmonk => super::listmonk::export(store, &mut w)?,
            }
            Ok(0)
        }
    }
}

/// `subscribers add` of a known address: an unsubscribed reader is subscribed again with the
/// given settings; anyone else is left as they are.
fn add_again(store: &Store, new: NewSubscriber) -> anyhow::Result<i32> {
    let Some(s) = store.subscriber_by_email(new.email.as_ref())? else {
        anyhow::bail!("{} is already known but could not be read back", new.email);
    };
    if s.status != SubscriberStatus::Unsubscribed {
        match s.status {
            SubscriberStatus::Active => {
                eprintln!("{} is already subscribed; nothing changed", s.email)
            }
            other => eprintln!("{} is already known ({other}); nothing changed", s.email),
        }
        return Ok(1);
    }
    let update = crate::domain::SubscriberUpdate {
        name: new.name.map(Some),
        status: Some(SubscriberStatus::Active),
        topics: Some(new.topics),
        frequency: Some(new.frequency),
        timezone: Some(new.timezone),
        send_hour: Some(new.send_hour),
    };
    let s = store
        .update_subscriber(s.id, &update, Utc::now())?
        .ok_or_else(|| anyhow::anyhow!("{} vanished while re-subscribing", new.email))?;
    println!(
        "re-subscribed {} (it was unsubscribed; {}, {})",
        s.email,
        describe(&s.topics),
        s.frequency
    );
    Ok(0)
}

pub(super) fn parse_tz(s: &str) -> Result<chrono_tz::Tz, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not an IANA time zone like `Europe/Berlin`"))
}

fn describe(t: &Topics) -> String {
    if t.is_trending() {
        "trending digest".into()
    } else {
        format!("topics: {t}")
    }
}

fn import(
    store: &Store,
    file: &std::path::Path,
    update: bool,
    format: Option<CsvFormat>,
) -> anyhow::Result<i32> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| anyhow::anyhow!("{}: cannot read the header row: {e}", file.display()))?
        .clone();
    let listmonk = format.map_or_else(
        || super::listmonk::is_listmonk_header(&headers),
        |f| f == CsvFormat::Listmonk,
    );
    if listmonk {
        return super::listmonk::import(store, file, reader, &headers, update);
    }
    let has = |c: &str| headers.iter().any(|h| h.eq_ignore_ascii_case(c));
    let given = Given {
        name: has("name"),
        topics: has("topics"),
        status: has("status"),
        frequency: has("frequency"),
        timezone: has("timezone"),
        send_hour: has("send_hour"),
    };
    // paperpost's own format: read row by row from the bytes, so a bad row (invalid UTF-8,
    // wrong field count, unclosed quote…) is reported by line and the rest still goes in.
    let data =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let rows = subscriber_csv::read_rows(&data)
        .map_err(|e| anyhow::anyhow!("{}:1: {e}", file.display()))?;
    let mut tally = Tally::default();
    let now = Utc::now();
    for (line, row) in rows {
        let outcome = row.and_then(|new| upsert(store, &new, given, update, now));
        tally.record(file, line, outcome);
    }
    Ok(tally.finish())
}

fn export(store: &Store, w: &mut dyn Write) -> anyhow::Result<()> {
    let (good, bad) = store.subscribers_checked(None)?;
    subscriber_csv::write(&good, w)?;
    report_unreadable(&bad);
    Ok(())
}

/// Says on stderr which stored readers could not be read (and so are not listed).
fn report_unreadable(bad: &[crate::domain::UnreadableSubscriber]) {
    for u in bad {
        eprintln!("{u} (fix it with `subscribers remove --purge` and `add`)");
    }
}
