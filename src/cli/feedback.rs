//! `paperpost like|dislike EMAIL ARXIV_ID [--undo]` and `paperpost likes EMAIL`: a reader's
//! feedback from the command line, as the 👍/👎 links in the digest record it.
use chrono::Utc;
use clap::Args;

use crate::domain::{Feedback, PaperId};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct FeedbackArgs {
    /// The subscriber's address.
    pub email: String,
    /// The paper: an arXiv id in any common spelling (`2410.18975`, `arXiv:2410.18975v2`,
    /// an abs or pdf URL). It must be in the store (`paperpost fetch` first).
    pub paper: String,
    /// Forget this reader's verdict on the paper instead of recording one.
    #[arg(long)]
    pub undo: bool,
}

#[derive(Debug, Args)]
pub struct LikesArgs {
    /// The subscriber's address.
    pub email: String,
}

/// Records (or with `--undo` removes) one verdict. Exit 1 for an unknown reader or paper.
pub(super) fn run(store: &Store, feedback: Feedback, args: FeedbackArgs) -> anyhow::Result<i32> {
    let Some(id) = PaperId::parse_any(&args.paper) else {
        eprintln!(
            "`{}` is not an arXiv identifier, a DOI or a link (like 2410.18975, \
             https://arxiv.org/abs/2410.18975 or 10.1101/2024.01.01.123456)",
            args.paper
        );
        return Ok(1);
    };
    // A DOI or link of a paper stored under another key (its arXiv id, say): that paper.
    let id = store
        .papers_by_id(std::slice::from_ref(&id))?
        .remove(&id)
        .and_then(|p| p.id)
        .unwrap_or(id);
    let Some(reader) = store.subscriber_by_email(&args.email)? else {
        eprintln!("no subscriber {}", args.email);
        return Ok(1);
    };
    if args.undo {
        let current = store
            .feedback_of(reader.id)?
            .into_iter()
            .find(|r| r.paper_id == id);
        match current {
            Some(r) if r.feedback == feedback => {
                store.remove_feedback(reader.id, &id)?;
                println!("{} no longer {}s {id}", reader.email, feedback);
            }
            Some(r) => {
                eprintln!(
                    "{} {}s {id}, not {}; nothing changed (use `paperpost {} --undo`)",
                    reader.email, r.feedback, feedback, r.feedback
                );
                return Ok(1);
            }
            None => println!(
                "{} had no {} on {id}; nothing to undo",
                reader.email, feedback
            ),
        }
        return Ok(0);
    }
    if !store.has_paper(&id)? {
        eprintln!("paper {id} is not in the store; run `paperpost fetch` first or check the id");
        return Ok(1);
    }
    store.set_feedback(reader.id, &id, feedback, Utc::now())?;
    let title = store
        .papers_by_id(std::slice::from_ref(&id))?
        .remove(&id)
        .map(|p| crate::domain::collapse_whitespace(&p.title))
        .unwrap_or_default();
    println!("{} {}s {id} “{title}”", reader.email, feedback);
    Ok(0)
}

/// Lists a reader's verdicts, newest first: `like<TAB>id<TAB>title`.
pub(super) fn list(store: &Store, args: LikesArgs) -> anyhow::Result<i32> {
    let Some(reader) = store.subscriber_by_email(&args.email)? else {
        eprintln!("no subscriber {}", args.email);
        return Ok(1);
    };
    let rows = store.feedback_of(reader.id)?;
    let ids: Vec<PaperId> = rows.iter().map(|r| r.paper_id.clone()).collect();
    let papers = store.papers_by_id(&ids)?;
    for r in rows {
        let title = papers
            .get(&r.paper_id)
            .map(|p| crate::domain::collapse_whitespace(&p.title))
            .unwrap_or_default();
        println!("{}\t{}\t{title}", r.feedback, r.paper_id);
    }
    Ok(0)
}
