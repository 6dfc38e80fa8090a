//! What of a paper is embedded: its title and abstract, LaTeX reduced to words (`$\beta$-VAE`
//! → `beta-VAE`) and hard line breaks joined, the title ending in a full stop.
use crate::domain::{Paper, collapse_whitespace};
use crate::selection::normalise::reduce_latex;

/// The text of `paper` its vector is made from.
pub fn paper_text(paper: &Paper) -> String {
    let title = collapse_whitespace(&reduce_latex(&paper.title));
    let abstract_text = collapse_whitespace(&reduce_latex(&paper.abstract_text));
    match (title.is_empty(), abstract_text.is_empty()) {
        (_, true) => title,
        (true, false) => abstract_text,
        (false, false) if title.ends_with(['.', '?', '!']) => format!("{title} {abstract_text}"),
        (false, false) => format!("{title}. {abstract_text}"),
    }
}

/// The text variants compared by `cargo bench --bench embed` (which of a paper to embed).
#[cfg(any(test, feature = "test-support"))]
pub fn paper_text_variant(paper: &Paper, variant: &str) -> String {
    match variant {
        "raw" => format!("{}. {}", paper.title, paper.abstract_text),
        "title" => paper.title.clone(),
        "normalised" => format!(
            "{}. {}",
            crate::selection::normalise::normalise(&paper.title),
            crate::selection::normalise::normalise(&paper.abstract_text)
        ),
        "keywords" => format!("{} {}", paper_text(paper), paper.ai_keywords.join(", ")),
        _ => paper_text(paper),
    }
}
