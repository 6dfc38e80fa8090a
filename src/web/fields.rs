//! Form bodies, the topic fields the sign-up, preferences and preview forms share, and the
//! delivery-time fields of sign-up and preferences.
//!
//! Bodies are parsed by hand (`application/x-www-form-urlencoded` into name/value pairs)
//! rather than with `axum::Form`: the category checkboxes repeat a name, which serde's
//! urlencoded format cannot collect, and every rejection must become our own page.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use chrono_tz::{TZ_VARIANTS, Tz};
use maud::{Markup, html};

use super::errors::WebError;
use super::taxonomy::{canonical_category, category_groups, is_listed};
use crate::domain::{Frequency, Term, Topics};

/// Name/value pairs of a urlencoded form or query string, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub(crate) fn from_query(query: Option<&str>) -> FormData {
        FormData(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// A posted `application/x-www-form-urlencoded` body.
    pub(crate) fn from_body(body: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &S) -> Result<Self, WebError> {
        let urlencoded = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !urlencoded {
            return Err(WebError::UnsupportedMediaType);
        }
        let body = read_body(request, state).await?;
        Ok(FormData::from_body(&body))
    }
}

/// The body within the router's size limit: 413 beyond it, 400 when it cannot be read.
pub(crate) async fn read_body<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<Bytes, WebError> {
    Bytes::from_request(request, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WebError::TooLarge
        } else {
            WebError::BadRequest("The form could not be read; please send it again.".into())
        }
    })
}

const MAX_TOPICS_CHARS: usize = 4000;
const MAX_AUTHORS_CHARS: usize = 2000;
const MAX_ABOUT_CHARS: usize = 400;

/// The topic fields as typed, so a form with a mistake comes back as it was sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TopicFields {
    /// Keywords, phrases, exclusions, `min_upvotes`, typed categories.
    pub topics: String,
    /// Author names, comma separated.
    pub authors: String,
    /// "Describe what you follow": an `about:` interest in plain words.
    pub about: String,
    /// Ticked category codes.
    pub categories: Vec<String>,
    pub frequency: String,
}

impl TopicFields {
    pub(crate) fn from_form(form: &FormData) -> TopicFields {
        TopicFields {
            topics: form.get("topics").unwrap_or_default().to_string(),
            authors: form.get("authors").unwrap_or_default().to_string(),
            about: form.get("about").unwrap_or_default().to_string(),
            categories: form.all("categories").map(str::to_string).collect(),
            frequency: form.get("frequency").unwrap_or_default().to_string(),
        }
    }

    /// A subscriber's topics spread over the fields: listed categories ticked, authors in
    /// their field, the first `about:` in its box, the rest (phrases, archives such as
    /// `cat:cs`, exclusions) as text.
    pub(crate) fn from_topics(topics: &Topics, frequency: Frequency) -> TopicFields {
        let mut text = Topics {
            terms: Vec::new(),
            ..topics.clone()
        };
        let mut authors = Vec::new();
        let mut categories = Vec::new();
        let mut about = None;
        for t in &topics.terms {
            match t {
                Term::Category(c) if is_listed(c) => categories.push(c.clone()),
                Term::Author(a) if !a.contains([',', ';']) => authors.push(a.clone()),
                Term::About(a) if about.is_none() => about = Some(a.clone()),
                other => text.terms.push(other.clone()),
            }
        }
        TopicFields {
            topics: text.to_string(),
            authors: authors.join(", "),
            about: about.unwrap_or_default(),
            categories,
            frequency: frequency.as_str().to_string(),
        }
    }

    /// Notes on the topics line that parsed but may not mean what the reader thinks (a bare
    /// person's name), each a readable sentence; none when the line does not parse.
    pub(crate) fn hints(&self) -> Vec<String> {
        let Ok((_, hints)) = Topics::parse_with_hints(&self.topics) else {
            return Vec::new();
        };
        hints
            .into_iter()
            .map(|h| {
                format!(
                    "Keywords and phrases, item {} “{}” looks like a person's name: did you mean \
                     {}? As written it is a phrase (papers that say these words); put it in \
                     quotes to keep it so without this note.",
                    h.position, h.item, h.suggestion
                )
            })
            .collect()
    }

    /// Validated topics and frequency, or every problem found, each a readable sentence
    /// that names the field (and, for the topics line, the item and its column).
    pub(crate) fn parse(&self) -> Result<(Topics, Frequency), Vec<String>> {
        let mut errors = Vec::new();
        for (name, value, max) in [
            ("topics", &self.topics, MAX_TOPICS_CHARS),
            ("authors", &self.authors, MAX_AUTHORS_CHARS),
            ("“describe what you follow”", &self.about, MAX_ABOUT_CHARS),
        ] {
            if value.chars().count() > max {
                errors.push(format!("The {name} field is longer than {max} characters."));
            }
        }
        let mut topics = match Topics::parse(&self.topics) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!(
                    "Keywords and phrases, item {} “{}” (column {}): {}.",
                    e.position, e.item, e.column, e.reason
                ));
                Topics::default()
            }
        };
        let mut extra = Vec::new();
        for name in self.authors.split([',', ';', '\n']) {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            match Topics::parse(&format!("author:\"{}\"", name.replace('"', " "))) {
                Ok(t) => extra.extend(t.terms),
                Err(e) => errors.push(format!("Authors, “{name}”: {}.", e.reason)),
            }
        }
        let about = self.about.trim();
        if !about.is_empty() {
            let line = format!("about:\"{}\"", about.replace('"', " "));
            match Topics::parse(&line) {
                Ok(t) => extra.extend(t.terms),
                Err(e) => errors.push(format!("What you follow: {}.", e.reason)),
            }
        }
        for code in &self.categories {
            match canonical_category(code) {
                Some(c) if is_listed(code) => extra.push(Term::Category(c.to_string())),
                _ => errors.push(unknown_category(code)),
            }
        }
        for t in extra {
            if !topics.terms.contains(&t) {
                topics.terms.push(t);
            }
        }
        let frequency = self.frequency.parse::<Frequency>().map_err(|e| {
            errors.push(format!("How often: {e}."));
        });
        if errors.is_empty()
            && let Err(e) = crate::store::check_storable_topics(&topics)
        {
            errors.push(format!("{e}."));
        }
        match frequency {
            Ok(f) if errors.is_empty() => Ok((topics, f)),
            _ => Err(errors),
        }
    }
}

fn unknown_category(code: &str) -> String {
    format!(
        "“{code}” is not an arXiv category. Pick categories from the list, or type codes \
         such as cs.CL, hep-th or math.AG."
    )
}

/// The topic and frequency fields (ids and names are stable, for browser tests).
pub(crate) fn topic_fields(f: &TopicFields) -> Markup {
    let weekly = f.frequency.trim().is_empty() || f.frequency.eq_ignore_ascii_case("weekly");
    html! {
        div.field {
            label for="topics" { "Keywords and phrases" }
            // A word joiner (U+2060, invisible) after the minus of "-survey": without it
            // the placeholder can wrap between the minus and its word.
            textarea #topics name="topics" rows="3" maxlength=(MAX_TOPICS_CHARS)
                placeholder="diffusion models, \"retrieval augmented generation\", -\u{2060}survey"
                aria-describedby="topics-hint" { (f.topics) }
            p.hint #topics-hint {
                "Separate with commas. Papers match when a keyword is in the title or abstract. "
                "Quotes keep a phrase together, " code { "-word" } " leaves out papers about "
                "it (in the title or said twice in the abstract, not a passing mention), "
                code { "A AND B" } " needs both, " code { "ti:word" } " looks in titles only, "
                code { "min_upvotes:10" } " keeps only popular ones. "
                "Leave everything empty to get the trending papers."
            }
        }
        div.field {
            label for="about" { "Describe what you follow" }
            textarea #about name="about" rows="2" maxlength=(MAX_ABOUT_CHARS)
                placeholder="equivariance and symmetry in deep learning"
                aria-describedby="about-hint" { (f.about) }
            p.hint #about-hint {
                "In your own words, a sentence is enough: papers whose title and abstract are "
                "close to it are picked, even without your exact keywords."
            }
        }
        div.field {
            label for="authors" { "Authors" }
            input #authors type="text" name="authors" value=(f.authors) maxlength=(MAX_AUTHORS_CHARS)
                placeholder="Yann LeCun, Fei-Fei Li" autocomplete="off";
        }
        (category_picker(&f.categories))
        fieldset.field.choice #frequency {
            legend { "How often" }
            label for="frequency-weekly" {
                input #frequency-weekly type="radio" name="frequency" value="weekly" checked[weekly];
                " Weekly " span.hint-inline { "(Monday)" }
            }
            label for="frequency-daily" {
                input #frequency-daily type="radio" name="frequency" value="daily" checked[!weekly];
                " Daily"
            }
        }
    }
}

/// The delivery fields as posted: an IANA zone name and an hour, empty for the
/// newsletter's default. Kept as text so a form with a mistake comes back as it was sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DeliveryFields {
    pub timezone: String,
    pub send_hour: String,
}

/// A reader's own delivery time: zone and local hour, `None` for the schedule's.
pub(crate) type Delivery = (Option<Tz>, Option<u8>);

impl DeliveryFields {
    pub(crate) fn from_form(form: &FormData) -> DeliveryFields {
        DeliveryFields {
            timezone: form.get("timezone").unwrap_or_default().to_string(),
            send_hour: form.get("send_hour").unwrap_or_default().to_string(),
        }
    }

    pub(crate) fn from_choice(timezone: Option<Tz>, send_hour: Option<u8>) -> DeliveryFields {
        DeliveryFields {
            timezone: timezone.map(|t| t.name().to_string()).unwrap_or_default(),
            send_hour: send_hour.map(|h| h.to_string()).unwrap_or_default(),
        }
    }

    /// The zone and hour, or a readable sentence naming each bad field. Only the names of
    /// the list are zones (`Tz`'s parser is exact), and hours are 0–23.
    pub(crate) fn parse(&self) -> Result<Delivery, Vec<String>> {
        let mut errors = Vec::new();
        let timezone = match self.timezone.trim() {
            "" => None,
            name => match name.parse::<Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    errors.push(format!(
                        "Time zone: “{}” is not a time zone from the list.",
                        shorten(name)
                    ));
                    None
                }
            },
        };
        let send_hour = match self.send_hour.trim() {
            "" => None,
            hour => match hour.parse::<u8>() {
                Ok(h) if h <= 23 => Some(h),
                _ => {
                    errors.push(format!(
                        "Delivery hour: “{}” is not an hour from 00:00 to 23:00.",
                        shorten(hour)
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok((timezone, send_hour))
        } else {
            Err(errors)
        }
    }
}

/// A posted value short enough to quote back in a message.
fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

/// Every IANA zone name, sorted, in groups by region (`Europe`, `America`, …); names
/// without a region (`UTC`, `EST5EDT`) go last under "Other".
fn zone_groups() -> &'static [(&'static str, Vec<&'static str>)] {
    static GROUPS: OnceLock<Vec<(&'static str, Vec<&'static str>)>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let mut groups: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
        for tz in TZ_VARIANTS {
            let name = tz.name();
            let region = name.split_once('/').map_or("Other", |(r, _)| r);
            groups.entry(region).or_default().push(name);
        }
        let (mut regions, other): (Vec<_>, Vec<_>) =
            groups.into_iter().partition(|(r, _)| *r != "Other");
        regions.extend(other);
        for (_, names) in &mut regions {
            names.sort_unstable();
        }
        regions
    })
}

/// The time zone and delivery hour selects (names and ids stable, for tests). Both start
/// with "Newsletter default", the empty value.
pub(crate) fn delivery_fields(f: &DeliveryFields) -> Markup {
    let zone = f.timezone.trim();
    let hour = f.send_hour.trim().parse::<u8>().ok();
    html! {
        fieldset.field #delivery {
            legend { "Delivery time" }
            div.field {
                label for="timezone" { "Time zone" }
                select #timezone name="timezone" aria-describedby="delivery-hint" {
                    option value="" selected[zone.is_empty()] { "Newsletter default" }
                    @for (region, names) in zone_groups() {
                        optgroup label=(region) {
                            @for name in names {
                                option value=(name) selected[*name == zone] { (name) }
                            }
                        }
                    }
                }
            }
            div.field {
                label for="send_hour" { "Hour" }
                select #send_hour name="send_hour" aria-describedby="delivery-hint" {
                    option value="" selected[hour.is_none()] { "Newsletter default" }
                    @for h in 0..24u8 {
                        option value=(h) selected[hour == Some(h)] { (format!("{h:02}:00")) }
                    }
                }
            }
            p.hint #delivery-hint {
                "Digests arrive at this local hour in your zone, on the usual day "
                "(weekly ones keep their weekday). Leave both on the default to get them "
                "when everyone else does."
            }
        }
    }
}

/// Checkboxes per group of the taxonomy, each group folded unless something in it is ticked.
fn category_picker(ticked: &[String]) -> Markup {
    let count = ticked.len();
    html! {
        fieldset.field.categories #categories {
            legend {
                "arXiv categories"
                @if count > 0 { " " span.count { "(" (count) " selected)" } }
            }
            @for g in category_groups() {
                @let open = g.categories.iter().any(|c| ticked.contains(&c.code));
                details.cat-group open[open] {
                    summary { (g.name) span.count { " " (g.categories.len()) } }
                    div.cat-list {
                        @for c in &g.categories {
                            @let id = format!("cat-{}", c.code);
                            label.cat for=(id) {
                                input id=(id) type="checkbox" name="categories" value=(c.code)
                                    checked[ticked.contains(&c.code)];
                                span.code { (c.code) }
                                span.name { (c.name) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(topics: &str, authors: &str, cats: &[&str], freq: &str) -> TopicFields {
        TopicFields {
            topics: topics.into(),
            authors: authors.into(),
            categories: cats.iter().map(|c| c.to_string()).collect(),
            frequency: freq.into(),
            ..TopicFields::default()
        }
    }

    #[test]
    fn the_describe_box_becomes_an_about_interest_and_comes_back_to_its_box() {
        let mut f = fields("diffusion", "", &[], "weekly");
        f.about = "equivariance and \"symmetry\" in deep learning".into();
        let (t, _) = f.parse().unwrap();
        assert_eq!(
            t.terms[1],
            Term::About("equivariance and symmetry in deep learning".into())
        );
        let back = TopicFields::from_topics(&t, Frequency::Weekly);
        assert_eq!(back.about, "equivariance and symmetry in deep learning");
        assert_eq!(back.topics, "diffusion");
    }

    #[test]
    fn each_error_names_its_field_and_the_item() {
        let mut f = fields("llm, foo:bar", "Ada \u{7}", &[], "weekly");
        f.about = "!!!".into();
        let errors = f.parse().unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "Keywords and phrases, item 2 “foo:bar” (column 6): `foo:` is not a known prefix"
            ),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("Authors, “Ada \u{7}”: contains control characters"),
            "{errors:?}"
        );
        assert!(
            errors[2].starts_with("What you follow: describes nothing"),
            "{errors:?}"
        );
    }

    #[test]
    fn all_three_kinds_of_topic_combine() {
        let (t, f) = fields(
            "diffusion, cat:cs.lg",
            "Yann LeCun; \"Fei-Fei Li\"",
            &["hep-th"],
            "daily",
        )
        .parse()
        .unwrap();
        assert_eq!(f, Frequency::Daily);
        assert_eq!(
            t.terms,
            vec![
                Term::Phrase("diffusion".into()),
                Term::Category("cs.LG".into()),
                Term::Author("Yann LeCun".into()),
                Term::Author("Fei-Fei Li".into()),
                Term::Category("hep-th".into()),
            ]
        );
    }

    #[test]
    fn unknown_categories_and_bad_items_are_named() {
        let errors = fields("cat:cs.XX", "", &["<b>nope</b>"], "hourly")
            .parse()
            .unwrap_err();
        let all = errors.join("\n");
        assert!(
            all.contains("“<b>nope</b>” is not an arXiv category"),
            "{all}"
        );
        assert!(
            all.contains("Keywords and phrases, item 1 “cat:cs.XX” (column 1): `cs.XX` is not an arXiv category"),
            "{all}"
        );
        assert!(all.contains("hourly"), "{all}");
        let errors = fields("min_upvotes:lots", "", &[], "").parse().unwrap_err();
        assert!(errors[0].contains("min_upvotes:lots"), "{errors:?}");
    }

    #[test]
    fn a_subscribers_topics_come_back_to_the_same_topics() {
        let t = Topics::parse(
            "llm, \"state space\", cat:cs, cat:cs.CL, author:\"ada lovelace\", -survey, min_upvotes:3",
        )
        .unwrap();
        let f = TopicFields::from_topics(&t, Frequency::Weekly);
        assert_eq!(f.categories, ["cs.CL"]);
        assert_eq!(f.authors, "ada lovelace");
        let (back, freq) = f.parse().unwrap();
        assert_eq!(freq, Frequency::Weekly);
        let mut a = back.terms.clone();
        let mut b = t.terms.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!((back.exclude, back.min_upvotes), (t.exclude, t.min_upvotes));
    }

    #[test]
    fn delivery_fields_take_listed_zones_and_hours_0_to_23() {
        let f = |tz: &str, h: &str| DeliveryFields {
            timezone: tz.into(),
            send_hour: h.into(),
        };
        assert_eq!(f("", "").parse(), Ok((None, None)));
        assert_eq!(
            f("Europe/Berlin", "0").parse(),
            Ok((Some(chrono_tz::Europe::Berlin), Some(0)))
        );
        assert_eq!(f("", "23").parse(), Ok((None, Some(23))));
        let errors = f("europe/nowhere", "24").parse().unwrap_err();
        assert!(
            errors[0].starts_with("Time zone: “europe/nowhere”"),
            "{errors:?}"
        );
        assert!(errors[1].starts_with("Delivery hour: “24”"), "{errors:?}");
        let long = f(&"x".repeat(5000), "").parse().unwrap_err();
        assert!(long[0].chars().count() < 120, "{long:?}");
        let back = DeliveryFields::from_choice(Some(chrono_tz::Asia::Tokyo), Some(6));
        assert_eq!(back.parse(), Ok((Some(chrono_tz::Asia::Tokyo), Some(6))));
    }

    #[test]
    fn every_zone_is_offered_once_and_the_choice_is_selected() {
        let listed: usize = zone_groups().iter().map(|(_, names)| names.len()).sum();
        assert_eq!(listed, TZ_VARIANTS.len());
        assert_eq!(zone_groups().last().unwrap().0, "Other");
        let html = delivery_fields(&DeliveryFields::from_choice(
            Some(chrono_tz::America::Sao_Paulo),
            Some(9),
        ))
        .into_string();
        assert!(html.contains(r#"<option value="America/Sao_Paulo" selected>"#));
        assert!(html.contains(r#"<option value="9" selected>09:00</option>"#));
        assert_eq!(html.matches(" selected").count(), 2);
    }

    #[test]
    fn the_picker_ticks_and_opens_what_is_followed() {
        let html = topic_fields(&fields("", "", &["cs.CL"], "daily")).into_string();
        assert!(
            html.contains(
                r#"id="cat-cs.CL" type="checkbox" name="categories" value="cs.CL" checked"#
            )
        );
        assert!(html.contains(r#"value="daily" checked"#));
        assert_eq!(html.matches("<details class=\"cat-group\" open").count(), 1);
    }
}

#[cfg(test)]
#[path = "fields_props.rs"]
mod props;
