//! `GET /`: what the newsletter is, a sample of the latest public edition, and the sign-up
//! form (also shown again, filled in and with the problems listed, after a bad post).
use axum::extract::State;
use maud::{Markup, html};

use super::errors::WebError;
use super::fields::{DeliveryFields, TopicFields, delivery_fields, topic_fields};
use super::{Shared, archive, layout};
use crate::render::{digest_subject, render_cards};

/// How many papers of the latest edition the home page shows.
const SAMPLE_PAPERS: usize = 3;

/// The sign-up form's content: empty on `GET /`, as posted after a mistake.
pub(crate) struct SignUp<'a> {
    pub email: &'a str,
    pub fields: &'a TopicFields,
    pub delivery: &'a DeliveryFields,
    pub errors: &'a [String],
}

pub(crate) async fn home(State(state): State<Shared>) -> Result<Markup, WebError> {
    let fields = TopicFields::default();
    let delivery = DeliveryFields::default();
    page(
        &state,
        &SignUp {
            email: "",
            fields: &fields,
            delivery: &delivery,
            errors: &[],
        },
    )
    .await
}

pub(crate) async fn page(state: &Shared, form: &SignUp<'_>) -> Result<Markup, WebError> {
    let latest = state.db(archive::latest_public).await?;
    let name = &state.newsletter_name;
    let body = html! {
        // After a bad post the form comes first, so the problems are in view on a phone.
        @if form.errors.is_empty() { section.hero {
            h1 { "New research papers on your topics, in your inbox" }
            p.lead {
                (name) " reads arXiv and Hugging Face Daily Papers for you. Tell it the keywords, "
                "arXiv categories and authors you follow, and get one short digest a week (or a day) "
                "with the new papers that match, each with a line saying why it was picked."
            }
            ul.points {
                li { "Free, no ads, no tracking pixels." }
                li { "Without topics you get the papers researchers upvoted most." }
                li { "Change topics, pause or unsubscribe with one click, any time." }
            }
        } }
        div.grid {
            section.card.signup #subscribe aria-labelledby="subscribe-heading" {
                h2 #subscribe-heading { "Subscribe" }
                (layout::error_summary(form.errors))
                form #subscribe-form method="post" action=(state.path("subscribe")) {
                    div.field {
                        label for="email" { "Email address" }
                        input #email type="email" name="email" value=(form.email) required
                            maxlength="254" autocomplete="email" inputmode="email"
                            placeholder="you@example.org";
                    }
                    (topic_fields(form.fields))
                    (delivery_fields(form.delivery))
                    div.submit {
                        button #subscribe-submit .button type="submit" { "Subscribe" }
                        p.hint { "We'll send a link to confirm your address. Nothing is sent until you click it." }
                    }
                }
            }
            section.sample aria-labelledby="sample-heading" {
                @match &latest {
                    Some((edition, digest)) => {
                        h2 #sample-heading { "From the latest issue" }
                        p.muted {
                            (digest_subject(digest, name)) " · "
                            a href=(state.path(&format!("archive/{}", edition.period_key))) { "read it all" }
                        }
                        (render_cards(digest, SAMPLE_PAPERS))
                        p.actions {
                            a.button.secondary href=(state.path(&format!("archive/{}", edition.period_key))) {
                                "See all " (crate::domain::count(digest.picks().len(), "paper", "papers"))
                            }
                        }
                    }
                    None => {
                        h2 #sample-heading { "The first issue is on its way" }
                        p.muted { "Past issues will appear here and in the archive." }
                    }
                }
                @if state.newsletters.len() > 1 {
                    div.card #other-newsletters {
                        h2 { "Also from this site" }
                        ul.links {
                            @for n in state.newsletters.iter().filter(|n| n.slug != state.store.newsletter()) {
                                li { a href=(n.base_url) { (n.name) } }
                            }
                        }
                        p.muted { "Each is a subscription of its own: its topics, schedule and unsubscribe link." }
                    }
                }
                div.card.try {
                    h2 { "Try your topics first" }
                    p.muted { "See the digest your topics would get right now." }
                    form #preview-form method="get" action=(state.path("preview")) {
                        div.inline {
                            label.visually-hidden for="preview-topics" { "Topics to preview" }
                            input #preview-topics type="text" name="topics" placeholder="e.g. diffusion, cat:cs.CV";
                            button #preview-submit .button.secondary type="submit" { "Preview" }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(state, name, body))
}
