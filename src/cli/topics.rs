//! `paperpost topics check "…"`: how a topic line is understood, before anyone stores it.
use clap::Subcommand;

use crate::domain::{Term, Topics, is_acronym_word};
use crate::selection::forms::word_forms;
use crate::selection::normalise::normalise;

#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Parse a topic line and explain each item: its canonical spelling, how keywords are
    /// normalised and which word forms they match. Exits 1 with the item, its position and
    /// its column when the line has a mistake. Needs no config.
    Check {
        /// The topic line, e.g. `"diffusion model", ViT, cat:cs.CV, author:"Yann LeCun", -survey`.
        line: String,
    },
}

pub(super) fn run(cmd: TopicsCommand) -> anyhow::Result<i32> {
    let TopicsCommand::Check { line } = cmd;
    match check(&line) {
        Ok(text) => {
            print!("{text}");
            Ok(0)
        }
        Err(text) => {
            eprint!("{text}");
            Ok(1)
        }
    }
}

/// The explanation (stdout) or the error with a caret under the item (stderr).
pub(crate) fn check(line: &str) -> Result<String, String> {
    let (topics, hints) = match Topics::parse_with_hints(line) {
        Ok(t) => t,
        Err(e) => {
            let mut out = format!("error: {e}\n");
            if !line.contains('\n') {
                out += &format!("  {line}\n  {}^\n", " ".repeat(e.column.saturating_sub(1)));
            }
            return Err(out);
        }
    };
    let mut out = format!("canonical: {topics}\n");
    for l in topics.explain() {
        out += &format!("- {l}\n");
    }
    let mut shown: Vec<&str> = Vec::new();
    let phrases = topics
        .indexed_terms()
        .flat_map(|t| match t {
            Term::All(parts) => parts.iter().collect(),
            other => vec![other],
        })
        .filter_map(Term::phrase);
    for p in phrases {
        if shown.contains(&p) {
            continue;
        }
        shown.push(p);
        out += &format!("  `{p}` is matched as: {}\n", matched_as(p).join(" | "));
    }
    for h in hints {
        out += &format!("hint: {h}\n");
    }
    Ok(out)
}

/// The spellings a phrase matches: its normal form with each form of its last word (the
/// last word as an acronym when the reader wrote it in capitals).
fn matched_as(p: &str) -> Vec<String> {
    let norm = normalise(p);
    let (head, last) = match norm.rsplit_once(' ') {
        Some((h, l)) => (format!("{h} "), l.to_string()),
        None => (String::new(), norm.clone()),
    };
    let written = p.rsplit(' ').next().unwrap_or_default();
    let acronym = is_acronym_word(written) && written.to_lowercase() == last;
    word_forms(&last, acronym)
        .into_iter()
        .map(|f| match f.strip_prefix(last.as_str()) {
            // An acronym matches only in capitals: shown as such (`NAS | NASs`).
            Some(ending) if acronym => format!("{head}{written}{ending}"),
            _ => format!("{head}{f}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_line_is_explained_and_a_bad_one_points_at_the_item() {
        let ok = check("optimisation, \"self-supervised\", cs.LG, -cat:stat.ML").unwrap();
        assert!(
            ok.contains("canonical: optimisation, self-supervised, cat:cs.LG, -cat:stat.ML"),
            "{ok}"
        );
        assert!(
            ok.contains("`optimisation` is matched as: optimization | optimizations"),
            "{ok}"
        );
        assert!(
            ok.contains("`self-supervised` is matched as: self supervised\n"),
            "{ok}"
        );
        let forms = check("NAS, LLM, transformers, agents, news").unwrap();
        for line in [
            "`NAS` is matched as: NAS | NASs\n",
            "`LLM` is matched as: LLM | LLMs\n",
            "`transformers` is matched as: transformers\n",
            "`agents` is matched as: agents\n",
            "`news` is matched as: news\n",
        ] {
            assert!(forms.contains(line), "{line:?} in {forms}");
        }
        let err = check("llm, foo:bar").unwrap_err();
        assert_eq!(
            err.lines().collect::<Vec<_>>()[1..],
            ["  llm, foo:bar", "       ^"]
        );
        assert!(
            err.starts_with("error: topic 2 `foo:bar` (column 6)"),
            "{err}"
        );
    }
}
