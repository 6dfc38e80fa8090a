//! Partials of the digest body. Every string here comes from a feed, so it goes through
//! maud's escaping; URLs arrive pre-filtered to http(s) by [`super::view`].
use maud::{Markup, Render, html};

use super::copy::COPY;
use super::style as s;
use super::view::{FeedbackLinks, PaperLink, PaperView};

/// One paper as a container row (`<tr>`), followed by a spacer row.
pub(crate) struct PaperCard<'a> {
    pub view: &'a PaperView,
    /// 1-based position in the digest.
    pub number: usize,
    /// This reader's 👍/👎 links (none on public pages).
    pub feedback: Option<&'a FeedbackLinks>,
}

impl Render for PaperCard<'_> {
    fn render(&self) -> Markup {
        let v = self.view;
        html! {
            tr { td.pp-card bgcolor="#ffffff" style=(s::CARD) {
                @if let Some(src) = &v.thumbnail {
                    @let img = html! {
                        img src=(src) alt=(v.title) width="542" style=(s::THUMB);
                    };
                    @if let Some(href) = &v.title_url {
                        a href=(href) { (img) }
                    } @else {
                        (img)
                    }
                }
                (Badges { view: v, number: self.number })
                h2.pp-t.pp-tx style=(s::TITLE) {
                    @if let Some(href) = &v.title_url {
                        a.pp-a href=(href) style=(s::TITLE_LINK) { (v.title) }
                    } @else {
                        (v.title)
                    }
                }
                @if let Some(authors) = &v.authors {
                    p.pp-mu style=(s::AUTHORS) { (authors) }
                }
                @if let Some(summary) = &v.ai_summary {
                    p.pp-sum.pp-tx style=(s::SUMMARY) {
                        strong { (COPY.paper.ai_summary) ": " } (summary)
                    }
                }
                @if let Some(abs) = &v.abstract_text {
                    p.pp-tx style=(s::ABSTRACT) { (abs) }
                }
                (LinksRow(&v.links))
                @if let Some(why) = &v.why {
                    p.pp-mu.pp-hr style=(s::WHY) { (why) }
                }
                @if let Some(f) = self.feedback {
                    p.pp-fb style=(s::FEEDBACK) {
                        a.pp-a href=(f.like) style=(s::LINK) { (COPY.paper.like) }
                        span style=(s::SEP) { " · " }
                        a.pp-a href=(f.dislike) style=(s::LINK) { (COPY.paper.dislike) }
                    }
                }
            } }
            tr { td style=(s::SPACER) { "\u{a0}" } }
        }
    }
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
                        @if i > 0 { span style=(s::SEP) { " · " } }
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
        tr { td.pp-head style=(s::SECTION) {
            h2.pp-h1.pp-tx style=(s::H2) { (title) }
            @if !intro.is_empty() {
                p.pp-mu style=(s::INTRO) { (intro) }
            }
        } }
    }
}
