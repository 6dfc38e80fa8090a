//! `paperpost topics check "…"`: how a topic line is understood, before anyone stores it.
use clap::Subcommand;

use crate::domain::{Term, Topics};
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
    let topics = match Topics::parse(line) {
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
    for t in topics.terms.iter().chain(&topics.exclude) {
        if let Term::Phrase(p) = t {
            let norm = normalise(p);
            let (head, last) = match norm.rsplit_once(' ') {
                Some((h, l)) => (format!("{h} "), l.to_string()),
                None => (String::new(), norm.clone()),
            };
            let forms: Vec<String> = word_forms(&last)
                .into_iter()
                .map(|f| format!("{head}{f}"))
                .collect();
            out += &format!("  `{p}` is matched as: {}\n", forms.join(" | "));
        }
    }
    Ok(out)
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
