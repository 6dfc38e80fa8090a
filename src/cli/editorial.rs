//! `paperpost editions note|pin|unpin|show`: the editor's note and picks of an edition
//! (flattened into `paperpost editions`' subcommands by `super::editions`).
use chrono::Utc;
use clap::Subcommand;

use crate::config::Settings;
use crate::domain::{
    NOTE_MAX_CHARS, PIN_NOTE_MAX_CHARS, PaperId, parse_note, parse_pin_id, resolve_edition,
};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum EditorialCommand {
    /// Set the editor's note of an edition (shown at the top of every digest of it and in
    /// the archive); an empty note removes it. The edition need not be planned yet; each
    /// digest keeps the note as it was when that digest was planned. At most 500 characters.
    Note {
        /// The edition: its period key, `2026-W48` (a week) or `2026-11-28` (a day), or
        /// `next` (the week `send` plans now in the newsletter's time zone) or `next-day`
        /// (the day it plans for daily readers). Which key that was is printed.
        edition: String,
        /// The note, a sentence or two.
        text: String,
    },
    /// Pin a paper to an edition as an editor's pick: it heads every digest of the edition
    /// (counting towards `max_papers`) unless the reader already got it. Pins are resolved
    /// when a reader's digest is planned: a pin made later reaches only readers planned later.
    Pin {
        /// The edition's period key, e.g. `2026-W48`, or `next` / `next-day` (as for `note`).
        edition: String,
        /// The paper's arXiv id in any spelling (`2410.18975`, `arXiv:2410.18975v2`, its URL).
        arxiv_id: String,
        /// Why the editor picked it (at most 200 characters).
        #[arg(long)]
        note: Option<String>,
    },
    /// Remove a pinned paper from an edition.
    Unpin {
        /// The edition's period key, or `next` / `next-day` (as for `note`).
        edition: String,
        arxiv_id: String,
    },
    /// Show an edition's note and picks.
    Show {
        /// The edition's period key, or `next` / `next-day` (as for `note`).
        edition: String,
    },
}

pub(super) fn run(
    settings: &Settings,
    store: &Store,
    cmd: EditorialCommand,
) -> anyhow::Result<i32> {
    let now = Utc::now();
    let period_key = |edition: &str| period_key(settings, store, edition, now);
    match cmd {
        EditorialCommand::Note { edition, text } => {
            let key = period_key(&edition)?;
            let note = parse_note(&text, NOTE_MAX_CHARS).map_err(anyhow::Error::msg)?;
            store.set_edition_note(&key, note.as_deref().unwrap_or(""), now)?;
            if note.is_none() {
                println!("removed the editor's note of {key}");
            } else {
                println!("editor's note of {key} set");
            }
        }
        EditorialCommand::Pin {
            edition,
            arxiv_id,
            note,
        } => {
            let key = period_key(&edition)?;
            let id = paper_id(&arxiv_id)?;
            let note = match note {
                Some(n) => parse_note(&n, PIN_NOTE_MAX_CHARS).map_err(anyhow::Error::msg)?,
                None => None,
            };
            if store.papers_by_id(std::slice::from_ref(&id))?.is_empty() {
                eprintln!(
                    "note: {id} is not in the store yet; it is pinned and shows once a source has fetched it"
                );
            }
            store.pin_paper(&key, &id, note.as_deref(), now)?;
            println!("pinned {id} to {key}");
        }
        EditorialCommand::Unpin { edition, arxiv_id } => {
            let key = period_key(&edition)?;
            let id = paper_id(&arxiv_id)?;
            if store.unpin_paper(&key, &id)? {
                println!("unpinned {id} from {key}");
            } else {
                println!("{id} was not pinned to {key}");
                return Ok(1);
            }
        }
        EditorialCommand::Show { edition } => {
            let key = period_key(&edition)?;
            let e = store.editorial(&key)?;
            println!("{key}");
            println!("  note: {}", e.note.as_deref().unwrap_or("(none)"));
            if e.pins.is_empty() {
                println!("  picks: (none)");
            }
            for p in &e.pins {
                match &p.note {
                    Some(n) => println!("  pick: {} — {n}", p.paper_id),
                    None => println!("  pick: {}", p.paper_id),
                }
            }
        }
    }
    Ok(0)
}

/// The key `edition` names (see [`resolve_edition`]); for `next` and `next-day` it says on
/// standard error which key that is and whether readers already have that edition planned,
/// since a note or pin reaches only digests planned after it.
fn period_key(
    settings: &Settings,
    store: &Store,
    edition: &str,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<String> {
    let zone = settings.schedule_timezone();
    let (key, next) = resolve_edition(edition, zone, now).map_err(anyhow::Error::msg)?;
    if let Some(frequency) = next {
        let planned = match store.find_edition(&key)? {
            Some(_) => " (already planned for some readers: it reaches those planned from now on)",
            None => "",
        };
        eprintln!(
            "{} is {key}: the {} edition \"send\" plans now in {zone}{planned}",
            edition.trim(),
            frequency.as_str()
        );
    }
    Ok(key)
}

fn paper_id(raw: &str) -> anyhow::Result<PaperId> {
    parse_pin_id(raw).map_err(anyhow::Error::msg)
}
