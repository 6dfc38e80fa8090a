//! `paperpost editions note|pin|unpin|show`: the editor's note and picks of an edition
//! (flattened into `paperpost editions`' subcommands by `super::editions`).
use chrono::Utc;
use clap::Subcommand;

use crate::domain::{
    NOTE_MAX_CHARS, PIN_NOTE_MAX_CHARS, PaperId, parse_edition, parse_note, parse_pin_id,
};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum EditorialCommand {
    /// Set the editor's note of an edition (shown at the top of every digest of it and in
    /// the archive); an empty note removes it. The edition need not be planned yet; each
    /// digest keeps the note as it was when that digest was planned. At most 500 characters.
    Note {
        /// The edition's period key: `2026-W48` (a week) or `2026-11-28` (a day).
        edition: String,
        /// The note, a sentence or two.
        text: String,
    },
    /// Pin a paper to an edition as an editor's pick: it heads every digest of the edition
    /// (counting towards `max_papers`) unless the reader already got it. Pins are resolved
    /// when a reader's digest is planned: a pin made later reaches only readers planned later.
    Pin {
        /// The edition's period key, e.g. `2026-W48`.
        edition: String,
        /// The paper's arXiv id in any spelling (`2410.18975`, `arXiv:2410.18975v2`, its URL).
        arxiv_id: String,
        /// Why the editor picked it (at most 200 characters).
        #[arg(long)]
        note: Option<String>,
    },
    /// Remove a pinned paper from an edition.
    Unpin { edition: String, arxiv_id: String },
    /// Show an edition's note and picks.
    Show { edition: String },
}

pub(super) fn run(store: &Store, cmd: EditorialCommand) -> anyhow::Result<i32> {
    let now = Utc::now();
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

fn period_key(edition: &str) -> anyhow::Result<String> {
    parse_edition(edition).map_err(anyhow::Error::msg)
}

fn paper_id(raw: &str) -> anyhow::Result<PaperId> {
    parse_pin_id(raw).map_err(anyhow::Error::msg)
}
