//! Partials of the digest body. Every string here comes from a feed, so it goes through
//! maud's escaping; URLs arrive pre-filtered to http(s) by [`super::view`].
use maud::{Markup, PreEscaped, Render, html};

use super::style as s;
use super::view::{FeedbackLinks, PaperLink, PaperView};
use super::wording::WORDING;

/// One paper as a container row (`<tr>`), followed by a spacer row.
pub(crate) struct PaperCard<'a> {
    pub view: &'a PaperView,
    /// 1-based position in the digest.
    pub number: usize,
    /// This reader's 👍/👎 links (none on public pages).
    pub feedback: Option<&'a FeedbackLinks>,
    /// `[render] abstract = "full"`: the abstract under the summary.
    pub full_abstract: bool,
}

impl Render for PaperCard<'_> {
    fn render(&self) -> Markup {
        let v = self.view;
        // Everything between the badges and the reader's links is the paper's alone:
        // rendered once per paper and abstract mode, whatever the number of digests.
        let body = v.rendered.html[usize::from(self.full_abstract)]
            .get_or_init(|| card_body(v, self.full_abstract).into_string());
        html! {
            tr { td.pp-card id=(format!("p{}", self.number)) bgcolor="#ffffff" style=(s::CARD) {
                (Badges { view: v, number: self.number })
                (PreEscaped(body.as_str()))
                @if let Some(f) = self.feedback {
                    p.pp-fb style=(s::FEEDBACK) {
                        // Plain links (the client's link colour): these two rows repeat on every
                        // card, and inline styles here would cost the 90 KB budget ~4 KB.
                        a href=(f.like) { (WORDING.paper.like) }
                        " · "
                        a href=(f.dislike) { (WORDING.paper.dislike) }
                    }
                }
            } }
            tr { td style=(s::SPACER) { "\u{a0}" } }
        }
    }
}

/// The part of a paper's card that no reader changes: thumbnail and title, authors, the
/// editor's note, summary, the abstract in `full` mode, keywords and links.
fn card_body(v: &PaperView, full_abstract: bool) -> Markup {
    {
        let title = html! {
            h2.pp-t.pp-tx style=(s::TITLE) {
                @if let Some(href) = &v.title_url {
                    a.pp-a href=(href) style=(s::TITLE_LINK) { (v.title) }
                } @else {
                    (v.title)
                }
            }
        };
        html! {
                @if let Some(src) = &v.thumbnail {
                    // Decorative: empty alt (the title follows), fixed size so nothing jumps.
                    table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" {
                        tr {
                            td.pp-th width=(s::THUMB_W + 12) valign="top" style="padding:2px 12px 0 0" {
                                img src=(src) alt="" width=(s::THUMB_W) height=(s::THUMB_H) style=(s::THUMB);
                            }
                            td valign="top" { (title) }
                        }
                    }
                } @else {
                    (title)
                }
                @if let Some(authors) = &v.authors {
                    p.pp-mu style=(s::AUTHORS) { (authors) }
                }
                @if let Some(note) = &v.pin_note {
                    p.pp-tx style=(s::SUMMARY) {
                        strong { (WORDING.paper.editors_pick_note) ": " } (Linkified(note))
                    }
                }
                @if let Some(summary) = &v.summary {
                    p.pp-tx style=(s::SUMMARY) {
                        @if v.summary_is_ai { strong { (WORDING.paper.ai_summary) ": " } }
                        (Linkified(summary))
                    }
                }
                @if full_abstract && let Some(abs) = &v.abstract_text {
                    p.pp-tx style=(s::ABSTRACT) { (Linkified(abs)) }
                }
                @if !v.keywords.is_empty() {
                    p.pp-mu style=(s::TAGS) {
                        (v.keywords.join(" · "))
                    }
                }
                (LinksRow(&v.links))
        }
    }
}

/// Text whose http(s) URLs become links (abstracts cite their code and data).
pub(crate) struct Linkified<'a>(pub &'a str);

impl Render for Linkified<'_> {
    fn render(&self) -> Markup {
        html! {
            @for (piece, is_url) in split_urls(self.0) {
                @if is_url {
                    a.pp-a href=(piece) style=(s::LINK_PLAIN) { (piece) }
                } @else {
                    (piece)
                }
            }
        }
    }
}

/// `text` in pieces, each either plain text or a whole http(s) URL (trailing `.,;:)` left out).
pub(crate) fn split_urls(text: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let tail = &rest[start..];
        let len = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let url = tail[..len].trim_end_matches(['.', ',', ';', ':', ')', ']', '\'', '"']);
        if super::view::safe_url(url).is_none() || url.len() <= "https://".len() {
            out.push((&rest[..start + len], false));
            rest = &rest[start + len..];
            continue;
        }
        if start > 0 {
            out.push((&rest[..start], false));
        }
        out.push((url, true));
        rest = &rest[start + url.len()..];
    }
    if !rest.is_empty() {
        out.push((rest, false));
    }
    out
}

/// Kicker above the title: number, primary category as a pill, other categories, counts.
pub(crate) struct Badges<'a> {
    pub view: &'a PaperView,
    pub number: usize,
}

impl Render for Badges<'_> {
    fn render(&self) -> Markup {
        let v = self.view;
        let counts: Vec<&str> = [v.upvotes.as_deref(), v.comments.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        html! {
            p.pp-mu style=(s::KICKER) {
                "#" (self.number)
                @if let Some(primary) = &v.primary_category {
                    "\u{a0} "
                    span.pp-b style=(s::PILL) { (primary) }
                }
                @for cat in &v.other_categories {
                    " " (cat)
                }
                @if !counts.is_empty() {
                    " \u{a0}·\u{a0} "
                    @if v.upvotes.is_some() { "▲ " }
                    (counts.join(" · "))
                }
                @if let Some(date) = &v.date {
                    " \u{a0}·\u{a0} " (date)
                }
            }
        }
    }
}

/// "Abstract · PDF · Hugging Face · Code · Project page", only the links that exist.
pub(crate) struct LinksRow<'a>(pub &'a [PaperLink]);

impl Render for LinksRow<'_> {
    fn render(&self) -> Markup {
        html! {
            @if !self.0.is_empty() {
                p style=(s::LINKS) {
                    @for (i, link) in self.0.iter().enumerate() {
                        @if i > 0 { " · " }
                        a.pp-a href=(link.url) style=(s::LINK) { (link.label) }
                    }
                }
            }
        }
    }
}

/// The heading row of a section after the main picks ("More like what you liked").
pub(crate) fn section_heading(title: &str, intro: &str) -> Markup {
    html! {
        tr { td.pp-head style=(s::SECTION_HEAD) {
            h2.pp-h1.pp-tx style=(s::H2) { (title) }
            @if !intro.is_empty() {
                p.pp-mu style=(s::INTRO) { (intro) }
            }
        } }
    }
}

#[cfg(test)]
mod tests {
    use super::split_urls;

    #[test]
    fn urls_inside_text_are_split_out_without_trailing_punctuation() {
        assert_eq!(
            split_urls("Code at https://github.com/x/y. Data (http://e.org/d), done"),
            vec![
                ("Code at ", false),
                ("https://github.com/x/y", true),
                (". Data (", false),
                ("http://e.org/d", true),
                ("), done", false),
            ]
        );
        assert_eq!(split_urls("no links"), vec![("no links", false)]);
        assert_eq!(
            split_urls("bare https:// here"),
            vec![("bare https://", false), (" here", false)]
        );
    }
}
