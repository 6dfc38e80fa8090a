//! The plain-text part: the same papers, in the same order, with the same links as the HTML
//! (both render [`PaperView`]s). Prose is wrapped at [`WIDTH`] columns; URLs are never broken.
use std::fmt::Write;

use super::layout::FooterLinks;
use super::view::{FeedbackLinks, GLANCE_TITLE_CHARS, PaperView};
use super::wording::WORDING;
use crate::domain::shorten;

/// One section of the text part: an optional (heading, intro) and its papers, each with
/// the reader's 👍/👎 links when there are any.
pub(crate) struct TextSection<'a> {
    pub heading: Option<(&'a str, &'a str)>,
    pub papers: Vec<(&'a PaperView, Option<FeedbackLinks>)>,
    /// Listed at a glance (the editor's picks and the main picks).
    pub in_glance: bool,
}

pub(crate) const WIDTH: usize = 78;
const INDENT: &str = "   ";

pub(crate) fn render_text(
    newsletter_name: &str,
    heading: &str,
    intro: &str,
    note: &[String],
    sections: &[TextSection<'_>],
    footer: &FooterLinks<'_>,
    full_abstract: bool,
) -> String {
    let mut out = String::new();
    out.push_str(&newsletter_name.to_uppercase());
    out.push('\n');
    out.push_str(&wrap(heading, WIDTH, "", ""));
    out.push_str(&wrap(intro, WIDTH, "", ""));
    out.push('\n');
    if let Some(url) = footer.web_copy_url {
        let _ = writeln!(out, "{}: {url}", WORDING.footer.view_in_browser);
    }
    if let Some(url) = footer.unsubscribe_url {
        let _ = writeln!(out, "{}: {url}", WORDING.footer.unsubscribe);
    }
    if footer.web_copy_url.is_some() || footer.unsubscribe_url.is_some() {
        out.push('\n');
    }
    if !note.is_empty() {
        out.push_str(&WORDING.heading.editors_note.to_uppercase());
        out.push_str("\n\n");
        for p in note {
            out.push_str(&wrap(p, WIDTH, "", ""));
        }
        out.push('\n');
    }
    // The glance lists the editor's and the main picks, as the HTML part does.
    let all: Vec<&PaperView> = sections
        .iter()
        .filter(|s| s.in_glance)
        .flat_map(|s| s.papers.iter().map(|(p, _)| *p))
        .collect();
    if all.len() > 1 {
        out.push_str(&WORDING.heading.glance);
        out.push_str("\n\n");
        for (i, p) in all.iter().enumerate() {
            let number = format!("{:>2}. ", i + 1);
            let star = if p.pinned { "★ " } else { "" };
            let mut line = format!("{star}{}", shorten(&p.title, GLANCE_TITLE_CHARS));
            if let Some(up) = p.upvotes_count {
                let _ = write!(line, " · ▲ {up}");
            }
            out.push_str(&wrap(&line, WIDTH, &number, "    "));
        }
        out.push('\n');
    }
    let mut number = 0;
    for section in sections {
        if let Some((title, intro)) = section.heading {
            out.push_str(&"=".repeat(WIDTH));
            out.push_str("\n\n");
            out.push_str(&wrap(&title.to_uppercase(), WIDTH, "", ""));
            out.push_str(&wrap(intro, WIDTH, "", ""));
            out.push('\n');
        }
        // The reason is said once for a run of papers picked for it, not on every paper.
        let mut previous_why: Option<&String> = None;
        for (p, feedback) in &section.papers {
            number += 1;
            out.push_str(&"-".repeat(WIDTH));
            out.push_str("\n\n");
            if let Some(why) = &p.why
                && previous_why != Some(why)
            {
                out.push_str(&wrap(why, WIDTH, "", ""));
                out.push('\n');
            }
            previous_why = p.why.as_ref();
            paper(&mut out, number, p, feedback.as_ref(), full_abstract);
            out.push('\n');
        }
    }
    out.push_str(&"-".repeat(WIDTH));
    out.push_str("\n\n");
    footer_text(&mut out, footer);
    out
}

fn paper(
    out: &mut String,
    number: usize,
    p: &PaperView,
    feedback: Option<&FeedbackLinks>,
    full_abstract: bool,
) {
    let number = format!("{number}. ");
    let indent = number.chars().count().max(INDENT.len());
    let hang = " ".repeat(indent);
    out.push_str(&wrap(&p.title, WIDTH, &number, &hang));
    // What follows the title (but the reader's links) is the paper's alone: wrapped once
    // per paper, abstract mode and indent, whatever the number of digests.
    let slot = &p.rendered.text[usize::from(full_abstract)];
    match slot.get() {
        Some((at, body)) if *at == indent => out.push_str(body),
        _ => {
            let mut body = String::new();
            paper_body(&mut body, p, &hang, full_abstract);
            out.push_str(&body);
            let _ = slot.set((indent, body));
        }
    }
    if let Some(f) = feedback {
        out.push('\n');
        for (label, url) in [
            (&WORDING.paper.like, &f.like),
            (&WORDING.paper.dislike, &f.dislike),
        ] {
            let _ = writeln!(out, "{hang}{label}: {url}");
        }
    }
}

/// A paper's text under its title, at indent `hang`: authors, the editor's note, categories
/// and counts, summary, the abstract in `full` mode, keywords and links.
fn paper_body(out: &mut String, p: &PaperView, hang: &str, full_abstract: bool) {
    if let Some(a) = &p.authors {
        out.push_str(&wrap(a, WIDTH, hang, hang));
    }
    if let Some(n) = &p.pin_note {
        out.push('\n');
        let n = format!("{}: {n}", WORDING.paper.editors_pick_note);
        out.push_str(&wrap(&n, WIDTH, hang, hang));
    }
    let meta: Vec<&str> = p
        .primary_category
        .iter()
        .chain(&p.other_categories)
        .map(String::as_str)
        .chain(p.upvotes.as_deref())
        .chain(p.comments.as_deref())
        .chain(p.date.as_deref())
        .collect();
    if !meta.is_empty() {
        out.push_str(&wrap(&meta.join(" · "), WIDTH, hang, hang));
    }
    if let Some(s) = &p.summary {
        out.push('\n');
        let s = if p.summary_is_ai {
            format!("{}: {s}", WORDING.paper.ai_summary)
        } else {
            s.clone()
        };
        out.push_str(&wrap(&s, WIDTH, hang, hang));
    }
    if full_abstract && let Some(a) = &p.abstract_text {
        out.push('\n');
        out.push_str(&wrap(a, WIDTH, hang, hang));
    }
    if !p.keywords.is_empty() {
        out.push_str(&wrap(
            &format!("[{}]", p.keywords.join("] [")),
            WIDTH,
            hang,
            hang,
        ));
    }
    if !p.links.is_empty() {
        out.push('\n');
        let label_width = p.links.iter().map(|l| l.label.chars().count()).max();
        for l in &p.links {
            let pad = label_width.unwrap_or(0) - l.label.chars().count();
            // One line per link, never wrapped: a broken URL is a dead link.
            let _ = writeln!(out, "{hang}{}: {}{}", l.label, " ".repeat(pad), l.url);
        }
    }
}

fn footer_text(out: &mut String, f: &FooterLinks<'_>) {
    let c = &WORDING.footer;
    if !f.why_line.is_empty() {
        out.push_str(&wrap(f.why_line, WIDTH, "", ""));
        out.push('\n');
    }
    for (label, url) in [
        (&c.preferences, f.preferences_url),
        (&c.feed, f.feed_url),
        (&c.archive, f.archive_url),
        (&c.unsubscribe, f.unsubscribe_url),
    ] {
        if let Some(url) = url {
            let _ = writeln!(out, "{label}: {url}");
        }
    }
    let _ = writeln!(
        out,
        "\n{} — {}",
        c.sent_by.replace("{name}", f.newsletter_name),
        f.base_url
    );
}

/// Greedy word wrap to `width` columns, `first` prefixing the first line and `rest` the
/// others. A word longer than a line (a URL) gets a line of its own and is never split.
/// Returns the lines each ended by `\n`; empty input gives an empty string.
pub(crate) fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(first);
    let mut line_len = first.chars().count();
    let mut empty = true;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if !empty && line_len + 1 + w > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(rest);
            line_len = rest.chars().count();
            empty = true;
        }
        if !empty {
            line.push(' ');
            line_len += 1;
        }
        line.push_str(word);
        line_len += w;
        empty = false;
    }
    if !empty {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_wraps_within_the_width_and_urls_stay_whole() {
        let url = format!("https://example.org/{}", "x".repeat(100));
        let text = format!("{} {url} {}", "word ".repeat(40), "tail ".repeat(10));
        let wrapped = wrap(&text, WIDTH, "1. ", "   ");
        for line in wrapped.lines() {
            assert!(
                line.chars().count() <= WIDTH || line.trim() == url,
                "{line:?}"
            );
        }
        assert!(wrapped.lines().any(|l| l.trim() == url));
        assert!(wrapped.starts_with("1. word"));
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("   ")));
        assert_eq!(wrap("  ", WIDTH, "x", "y"), "");
    }
}
