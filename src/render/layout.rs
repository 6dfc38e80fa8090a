//! The email shell: doctype, head (viewport, colour schemes, the dark-mode/phone CSS), the
//! hidden preheader, a table-based 600 px container, the header and the footer.
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::style as s;
use super::wording::WORDING;

/// Dark-mode and small-screen rules; our own constant, the only CSS we emit unescaped.
const EMAIL_CSS: &str = include_str!("../../templates/email.css");

/// Invisible characters after the preheader so clients do not pull body text into the preview.
const PREHEADER_FILL: &str = "\u{a0}\u{200c}";

/// The whole document around `rows` (each a `<tr>` of the 600 px container).
pub(crate) fn page(title: &str, preheader: &str, rows: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" dir="ltr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="x-apple-disable-message-reformatting";
                meta name="color-scheme" content="light dark";
                meta name="supported-color-schemes" content="light dark";
                title { (title) }
                style { (PreEscaped(EMAIL_CSS)) }
            }
            body.pp-bg style=(s::BODY) {
                @if !preheader.is_empty() {
                    div style=(s::PREHEADER) { (preheader) (PREHEADER_FILL.repeat(40)) }
                }
                table.pp-bg role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor=(s::BG) {
                    tr { td.pp-outer align="center" style=(s::OUTER) {
                        table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style={ (s::CONTAINER) ";" (s::FONT) } {
                            (rows)
                        }
                    } }
                }
            }
        }
    }
}

/// Brand line, the big heading and one sentence of introduction.
pub(crate) fn header(newsletter_name: &str, base_url: &str, heading: &str, intro: &str) -> Markup {
    html! {
        tr { td.pp-head style=(s::HEAD) {
            a.pp-a href=(base_url) style=(s::BRAND) { (newsletter_name) }
            h1.pp-h1.pp-tx style=(s::H1) { (heading) }
            @if !intro.is_empty() {
                p.pp-mu style=(s::INTRO) { (intro) }
            }
        } }
    }
}

/// A small line under the header: the web copy, preferences and unsubscribe, before the
/// papers.
pub(crate) fn top_links(f: &FooterLinks<'_>) -> Markup {
    let c = &WORDING.footer;
    html! {
        tr { td.pp-mu style=(s::TOP_LINKS) {
            @if let Some(url) = f.web_copy_url {
                a.pp-mu href=(url) style=(s::FOOT_LINK) { (c.view_in_browser) } " · "
            }
            @if let Some(url) = f.preferences_url {
                a.pp-mu href=(url) style=(s::FOOT_LINK) { (c.preferences) } " · "
            }
            @if let Some(url) = f.unsubscribe_url {
                a.pp-mu href=(url) style=(s::FOOT_LINK) { (c.unsubscribe) }
            }
        } }
    }
}

/// Links in the footer; `None` ones are left out.
pub(crate) struct FooterLinks<'a> {
    pub why_line: &'a str,
    pub web_copy_url: Option<&'a str>,
    pub feed_url: Option<&'a str>,
    pub preferences_url: Option<&'a str>,
    pub archive_url: Option<&'a str>,
    pub unsubscribe_url: Option<&'a str>,
    pub newsletter_name: &'a str,
    pub base_url: &'a str,
}

pub(crate) fn footer(f: &FooterLinks<'_>) -> Markup {
    let c = &WORDING.footer;
    let links: Vec<(&str, &str)> = [
        (c.preferences.as_str(), f.preferences_url),
        (c.feed.as_str(), f.feed_url),
        (c.archive.as_str(), f.archive_url),
        (c.unsubscribe.as_str(), f.unsubscribe_url),
    ]
    .into_iter()
    .filter_map(|(label, url)| Some((label, url?)))
    .collect();
    html! {
        tr { td.pp-mu style={ (s::FOOT) ";" (s::FONT) } {
            @if !f.why_line.is_empty() {
                p style=(s::FOOT_P) { (f.why_line) }
            }
            @if !links.is_empty() {
                p style=(s::FOOT_P) {
                    @for (i, (label, url)) in links.iter().enumerate() {
                        @if i > 0 { " · " }
                        a.pp-mu href=(url) style=(s::FOOT_LINK) { (label) }
                    }
                }
            }
            p style="margin:0" {
                a.pp-mu href=(f.base_url) style=(s::FOOT_LINK) {
                    (c.sent_by.replace("{name}", f.newsletter_name))
                }
            }
        } }
    }
}
