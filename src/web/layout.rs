//! The page shell every site page shares: head (viewport, colour schemes, the CSS), the top
//! bar with the brand and navigation, and the footer. `templates/site.css` takes its colours,
//! fonts and card style from the emails; the email CSS is included too, so the paper cards
//! (the emails' own markup) get their dark-mode and phone rules on pages as well.
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::AppState;

const SITE_CSS: &str = include_str!("../../templates/site.css");
const EMAIL_CSS: &str = include_str!("../../templates/email.css");

/// A blue rounded square with a white "p": an inline icon, so no request is needed.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%231a56db'/%3E%3Ctext x='16' y='23' font-family='Arial,sans-serif' font-size='20' font-weight='700' fill='white' text-anchor='middle'%3Ep%3C/text%3E%3C/svg%3E";

/// A whole page around `main`.
pub(crate) fn page(state: &AppState, title: &str, main: Markup) -> Markup {
    page_with_referrer(state, title, main, "no-referrer")
}

/// A page only operators see: its own forms must carry this site's `Origin`, which a
/// `no-referrer` policy would turn into `null` (see `operator/origin.rs`).
pub(crate) fn private_page(state: &AppState, title: &str, main: Markup) -> Markup {
    page_with_referrer(state, title, main, "same-origin")
}

fn page_with_referrer(state: &AppState, title: &str, main: Markup, referrer: &str) -> Markup {
    let name = &state.newsletter_name;
    let full_title = if title.is_empty() || title == name {
        name.clone()
    } else {
        format!("{title} · {name}")
    };
    html! {
        (DOCTYPE)
        html lang="en" dir="ltr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                meta name="referrer" content=(referrer);
                title { (full_title) }
                link rel="icon" href=(FAVICON);
                link rel="alternate" type="application/atom+xml" title={ (name) " archive" } href=(state.path("archive.xml"));
                style { (PreEscaped(EMAIL_CSS)) (PreEscaped(SITE_CSS)) }
                @if let Some(accent) = &state.accent {
                    // The newsletter's own colour for links, buttons and the brand.
                    style { ":root{--a:" (accent.as_str()) "}" }
                }
            }
            body {
                div.wrap {
                    header.top {
                        a.brand href=(state.path("")) { (name) }
                        nav aria-label="Site" {
                            a href=(state.path("archive")) { "Archive" }
                            a href=(state.path("preview")) { "Preview" }
                            a.nav-cta href={ (state.path("")) "#subscribe" } { "Subscribe" }
                        }
                    }
                    main #main { (main) }
                    footer.bottom {
                        p {
                            (name) " · "
                            a href=(state.path("archive")) { "Past issues" } " · "
                            a href=(state.path("archive.xml")) { "Atom feed" }
                        }
                        p.fine { "No tracking pixels, no ads. Every mail has a one-click unsubscribe link." }
                    }
                }
            }
        }
    }
}

/// A centred card with a heading, some text and actions: the shape of every outcome page
/// (check your inbox, confirmed, unsubscribed).
pub(crate) fn message(state: &AppState, title: &str, body: Markup) -> Markup {
    page(
        state,
        title,
        html! {
            section.card.message {
                h1 { (title) }
                (body)
            }
        },
    )
}

/// A list of problems above a form.
pub(crate) fn error_summary(errors: &[String]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.alert.alert-error #form-errors role="alert" {
                p { strong { "Please fix this and send the form again:" } }
                ul {
                    @for e in errors { li { (e) } }
                }
            }
        }
    }
}

/// Notes on what a form said that may not mean what the reader thinks (it was accepted).
pub(crate) fn hints(notes: &[String]) -> Markup {
    html! {
        @if !notes.is_empty() {
            div.alert #form-hints role="status" {
                ul {
                    @for n in notes { li { (n) } }
                }
            }
        }
    }
}

/// A green note ("Saved.").
pub(crate) fn flash(text: &str) -> Markup {
    html! { div.alert.alert-ok #flash role="status" { (text) } }
}
