//! Any paper feed (`kind = "feed"`): RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed, told apart
//! by the document itself.
//!
//! Why not the `feed-rs` crate: it maps every format onto one model and drops what that
//! model has no place for — PRISM (`prism:doi`, `prism:publicationDate`) and most of Dublin
//! Core, where journal feeds keep their DOIs and dates — and a source's field mapping
//! (`[sources.fields] doi = "dc:identifier"`) must reach any element of the item. The
//! namespace-resolving tree of [`super::xml`] (quick-xml) reaches them all, under any prefix.
//!
//! Each item becomes a [`Paper`]: title and abstract as plain text (HTML and entities
//! stripped), authors (one element each, or one `A, B and C` / `Last, F.; Last, G.` list),
//! dates, link, DOI, subjects as categories. Its id is the arXiv id when a link or id is an
//! arXiv one, else its DOI, else its link's canonical URL. An item with no title, or with
//! nothing to key it by, is skipped, and the reason logged with the source and the item.
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::Collector;
use super::config::{FeedConfig, FeedFields};
use super::error::{ParseError, SourceErrorKind};
use super::http::{Fetched, Fetcher};
use super::xml::{self, ATOM, CONTENT, DC, DCTERMS, Element, NONE, PRISM, RDF};
use crate::domain::{
    Paper, PaperId, SourceKind, arxiv_link, canonical_doi, canonical_url, collapse_whitespace,
    html_to_text,
};

/// The namespace prefixes a field location may use, and the namespaces they stand for.
pub const PREFIXES: &[(&str, &[&str])] = &[
    ("dc", &[DC]),
    ("dcterms", &[DCTERMS]),
    ("prism", PRISM),
    ("content", &[CONTENT]),
    ("atom", &[ATOM]),
    ("rdf", &[RDF]),
    ("media", &["http://search.yahoo.com/mrss/"]),
];

/// Where one field is read: an element (in its prefix's namespaces, or the feed's own for a
/// bare name) of an XML item, or a key path (dots between keys) of a JSON Feed item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    raw: String,
    namespaces: Option<&'static [&'static str]>,
    name: String,
}

impl FieldSpec {
    /// Reads a location as `[sources.fields]` gives it; the error says what is wrong with it.
    pub fn parse(raw: &str) -> Result<FieldSpec, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is empty: name an element (e.g. dc:creator) or a JSON Feed key".into());
        }
        if s.contains(char::is_whitespace) {
            return Err("contains a space: name one element or key".into());
        }
        let (namespaces, name) = match s.split_once(':') {
            Some((prefix, name)) => {
                let Some((_, ns)) = PREFIXES.iter().find(|(p, _)| *p == prefix) else {
                    let known: Vec<&str> = PREFIXES.iter().map(|(p, _)| *p).collect();
                    return Err(format!(
                        "unknown namespace prefix `{prefix}` (known: {})",
                        known.join(", ")
                    ));
                };
                if name.is_empty() || name.contains(':') {
                    return Err(format!("`{s}` is not prefix:element"));
                }
                (Some(*ns), name)
            }
            None => (None, s),
        };
        Ok(FieldSpec {
            raw: s.to_string(),
            namespaces,
            name: name.to_string(),
        })
    }
}

/// What one feed document gave.
#[derive(Debug, Default)]
pub struct FeedPage {
    pub papers: Vec<Paper>,
    /// `item N (`what`): why`, one per item left out.
    pub skipped: Vec<String>,
}

/// One item of any format.
#[derive(Clone, Copy)]
enum Item<'a> {
    /// An XML item and its format's own namespace (none for RSS 2.0).
    Xml(&'a Element, &'a str),
    Json(&'a Value),
}

impl Item<'_> {
    /// The values at `spec`: each matching element's text (an empty one's `name` child,
    /// `term`, `href` or `rdf:resource`); a JSON key's string, or each string of its list
    /// (an object's `name` or `url`). Blank values left out.
    fn values(&self, spec: &FieldSpec) -> Vec<String> {
        let mut out = Vec::new();
        match *self {
            Item::Xml(e, own) => {
                for c in &e.children {
                    let ns_ok = match spec.namespaces {
                        Some(ns) => ns.contains(&c.ns.as_str()),
                        None => c.ns == own,
                    };
                    // Atom's and RSS's `link` other than the page itself (self, related…).
                    let other_link =
                        c.name == "link" && c.attr("rel").is_some_and(|r| r != "alternate");
                    if c.name == spec.name && ns_ok && !other_link {
                        out.extend(element_value(c));
                    }
                }
            }
            Item::Json(v) => {
                let mut at = Some(v);
                for key in spec.raw.split('.') {
                    at = at.and_then(|v| v.get(key));
                }
                match at {
                    Some(Value::Array(items)) => out.extend(items.iter().filter_map(json_value)),
                    Some(v) => out.extend(json_value(v)),
                    None => {}
                }
            }
        }
        out.retain(|v| !v.trim().is_empty());
        out
    }

    /// The first location of `specs` that has a value, its values.
    fn first(&self, specs: &[FieldSpec]) -> Vec<String> {
        specs
            .iter()
            .map(|s| self.values(s))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    }
}

fn element_value(c: &Element) -> Option<String> {
    if !c.text.trim().is_empty() {
        return Some(c.text.clone());
    }
    if let Some(name) = c.children.iter().find(|n| n.name == "name") {
        return Some(name.text.clone());
    }
    c.attr("term")
        .or_else(|| c.attr("href"))
        .or_else(|| {
            c.attrs
                .iter()
                .find(|(ns, n, _)| ns == RDF && n == "resource")
                .map(|(_, _, v)| v.as_str())
        })
        .map(str::to_string)
}

fn json_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("url"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

/// Where each field is read, in order of preference.
struct Locations {
    id: Vec<FieldSpec>,
    title: Vec<FieldSpec>,
    /// The longest of these (journal feeds put a one-line "Volume 3, Issue 4" in one and
    /// the abstract in another).
    abstract_text: Vec<FieldSpec>,
    authors: Vec<FieldSpec>,
    published: Vec<FieldSpec>,
    updated: Vec<FieldSpec>,
    link: Vec<FieldSpec>,
    /// Every candidate is tried; the first that is a DOI wins.
    doi: Vec<FieldSpec>,
    /// All of these, together.
    categories: Vec<FieldSpec>,
}

impl Locations {
    fn new(json: bool, fields: &FeedFields) -> Result<Locations, ParseError> {
        let specs = |list: &[&str]| -> Vec<FieldSpec> {
            list.iter()
                .map(|s| FieldSpec::parse(s).expect("built-in locations are valid"))
                .collect()
        };
        let mut l = if json {
            Locations {
                id: specs(&["id"]),
                title: specs(&["title"]),
                abstract_text: specs(&["summary", "content_text", "content_html"]),
                authors: specs(&["authors", "author"]),
                published: specs(&["date_published"]),
                updated: specs(&["date_modified"]),
                link: specs(&["url", "external_url"]),
                doi: specs(&["id", "url", "external_url"]),
                categories: specs(&["tags"]),
            }
        } else {
            Locations {
                id: specs(&["guid", "id"]),
                title: specs(&["title", "dc:title"]),
                abstract_text: specs(&[
                    "summary",
                    "dc:description",
                    "dcterms:abstract",
                    "description",
                    "content:encoded",
                    "content",
                ]),
                authors: specs(&["dc:creator", "author", "atom:author"]),
                published: specs(&[
                    "published",
                    "dc:date",
                    "prism:publicationDate",
                    "prism:coverDate",
                    "pubDate",
                    "dcterms:issued",
                    "issued",
                    "updated",
                ]),
                updated: specs(&["updated", "dcterms:modified", "modified"]),
                link: specs(&["link", "prism:url", "atom:link"]),
                doi: specs(&["prism:doi", "dc:identifier", "guid", "id", "link"]),
                categories: specs(&["category", "dc:subject", "prism:keyword"]),
            }
        };
        for (key, raw) in fields.set() {
            let spec = FieldSpec::parse(raw)
                .map_err(|e| ParseError::Content(format!("fields.{key} = \"{raw}\": {e}")))?;
            let slot = match key {
                "id" => &mut l.id,
                "title" => &mut l.title,
                "abstract" => &mut l.abstract_text,
                "authors" => &mut l.authors,
                "published" => &mut l.published,
                "updated" => &mut l.updated,
                "link" => &mut l.link,
                "doi" => &mut l.doi,
                _ => &mut l.categories,
            };
            *slot = vec![spec];
        }
        Ok(l)
    }
}

/// Parses a feed document of any of the four formats.
pub fn parse(doc: &str, fields: &FeedFields) -> Result<FeedPage, ParseError> {
    let trimmed = doc.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        super::json::check_depth(doc)?;
        let v: Value = serde_json::from_str(trimmed).map_err(|e| ParseError::json(&e))?;
        let Some(items) = v.get("items").and_then(Value::as_array) else {
            return Err(ParseError::Content(
                "a JSON document, but not a JSON Feed: it has no `items` list".into(),
            ));
        };
        let locations = Locations::new(true, fields)?;
        return Ok(collect(items.iter().map(Item::Json), &locations));
    }
    let root = xml::parse(doc)?;
    let locations = Locations::new(false, fields)?;
    let items: Vec<Item<'_>> = if root.is(ATOM, "feed") {
        root.children(ATOM, "entry")
            .map(|e| Item::Xml(e, ATOM))
            .collect()
    } else if root.is(NONE, "rss") {
        root.children(NONE, "channel")
            .flat_map(|c| c.children(NONE, "item"))
            .map(|e| Item::Xml(e, NONE))
            .collect()
    } else if root.is(RDF, "RDF") {
        // RSS 1.0 (and 0.90): items are the channel's siblings, in the feed's namespace.
        root.children
            .iter()
            .filter(|e| e.name == "item")
            .map(|e| Item::Xml(e, e.ns.as_str()))
            .collect()
    } else {
        return Err(ParseError::Content(format!(
            "expected an RSS <rss>, an RSS 1.0 <rdf:RDF>, an Atom <feed> or a JSON Feed, \
             found <{}>",
            root.name
        )));
    };
    Ok(collect(items.into_iter(), &locations))
}

fn collect<'a>(items: impl Iterator<Item = Item<'a>>, l: &Locations) -> FeedPage {
    let mut page = FeedPage::default();
    for (i, item) in items.enumerate() {
        match item_paper(item, l) {
            Ok(p) => page.papers.push(p),
            Err((what, why)) => page.skipped.push(format!("item {} ({what}): {why}", i + 1)),
        }
    }
    page
}

/// One item's paper, or (what the item is, why it was left out).
fn item_paper(item: Item<'_>, l: &Locations) -> Result<Paper, (String, String)> {
    let text = |specs: &[FieldSpec]| item.first(specs).into_iter().next();
    let title = text(&l.title).map(|t| html_to_text(&t)).unwrap_or_default();
    let link = item
        .first(&l.link)
        .into_iter()
        .map(|u| u.trim().to_string())
        .find(|u| canonical_url(u).is_some());
    let mut own_id = text(&l.id).map(|s| s.trim().to_string());
    if own_id.is_none()
        && let Item::Xml(e, _) = item
    {
        own_id = e
            .attrs
            .iter()
            .find(|(ns, n, _)| ns == RDF && n == "about")
            .map(|(_, _, v)| v.clone());
    }
    let what = own_id
        .clone()
        .or_else(|| link.clone())
        .or_else(|| (!title.is_empty()).then(|| title.chars().take(80).collect()))
        .unwrap_or_else(|| "no id, link or title".into());
    let skip = |why: &str| (what.clone(), why.to_string());
    if title.is_empty() {
        return Err(skip("has no title"));
    }
    let doi = l
        .doi
        .iter()
        .flat_map(|s| item.values(s))
        .find_map(|v| doi_in(&v));
    let arxiv = [link.as_deref(), own_id.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|s| {
            arxiv_link(s).or_else(|| {
                let s = s.trim();
                let bare = s
                    .strip_prefix("oai:arXiv.org:")
                    .or_else(|| s.strip_prefix("arXiv:"))?;
                PaperId::parse_arxiv(bare)
            })
        });
    let (id, version) = match (arxiv, &doi) {
        (Some((id, v)), _) => (id, v),
        (None, Some(d)) => (PaperId::from_doi(d).ok_or_else(|| skip("bad DOI"))?, None),
        (None, None) => {
            let from = link
                .as_deref()
                .and_then(PaperId::from_url)
                .or_else(|| own_id.as_deref().and_then(PaperId::from_url));
            (
                from.ok_or_else(|| skip("has no link, id or DOI to key it by"))?,
                None,
            )
        }
    };
    let abstract_text = l
        .abstract_text
        .iter()
        .flat_map(|s| item.values(s))
        .map(|a| strip_abstract_label(&html_to_text(&a)))
        .max_by_key(|a| a.chars().count())
        .unwrap_or_default();
    let mut authors: Vec<String> = Vec::new();
    for a in item.first(&l.authors).iter().flat_map(|a| split_authors(a)) {
        if !authors.contains(&a) {
            authors.push(a);
        }
    }
    let date = |specs: &[FieldSpec]| {
        specs
            .iter()
            .flat_map(|s| item.values(s))
            .find_map(|d| parse_date(&d))
    };
    let mut categories: Vec<String> = Vec::new();
    for c in l.categories.iter().flat_map(|s| item.values(s)) {
        let c = html_to_text(&c);
        if !c.is_empty() && !categories.contains(&c) {
            categories.push(c);
        }
    }
    Ok(Paper {
        // Not the arXiv id's own page: normalize() links arXiv papers to arxiv.org.
        abs_url: link.as_deref().and_then(canonical_url),
        doi,
        id: Some(id),
        version,
        title,
        abstract_text,
        authors,
        primary_category: categories.first().cloned(),
        categories,
        published: date(&l.published),
        updated: date(&l.updated),
        origin: Some(SourceKind::Feed),
        ..Paper::default()
    })
}

/// The DOI a value names: a DOI in any spelling (`doi:10.…`, `https://doi.org/10.…`,
/// `info:doi/10.…`); `None` for anything else (a publisher's page, a PMID).
fn doi_in(v: &str) -> Option<String> {
    canonical_doi(v)
}

/// "Abstract The Southern Ocean…" → "The Southern Ocean…": the heading journal feeds put
/// before the text.
fn strip_abstract_label(s: &str) -> String {
    for label in ["Abstract:", "Abstract.", "Abstract", "ABSTRACT", "Summary:"] {
        if let Some(rest) = s.strip_prefix(label)
            && rest.starts_with(' ')
        {
            return rest.trim_start().to_string();
        }
    }
    s.to_string()
}

/// A date as feeds write it: RFC 3339, RFC 2822, or a day (`2023-12-16`, also with an
/// offset after it as PRISM sometimes has: `2018-12-17-08:00`), taken as midnight UTC.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s).or_else(|_| DateTime::parse_from_rfc2822(s)) {
        return Some(d.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Names from one author value: `A, B and C`, `Last, F.; Last, G.` (bioRxiv),
/// `LAPALU, N., SIMON, A.` (bioRxiv's feeds: surname and initials pairs), `Rachel M. Binks,`
/// (Wiley: one a line), RSS 2.0's `mail@x.org (Name)`.
pub fn split_authors(raw: &str) -> Vec<String> {
    let s = html_to_text(raw);
    let s = match (s.contains('@'), s.find('('), s.rfind(')')) {
        (true, Some(a), Some(b)) if a < b => s[a + 1..b].trim().to_string(),
        _ => s,
    };
    let parts: Vec<String> = if s.contains(';') {
        s.split(';').map(str::to_string).collect()
    } else {
        let mut parts: Vec<String> = s
            .split(',')
            .flat_map(|p| p.split(" and ").flat_map(|q| q.split(" & ")))
            .map(|p| p.trim().trim_start_matches("and ").to_string())
            .filter(|p| !p.is_empty())
            .collect();
        let paired = parts.len() >= 2
            && parts.len().is_multiple_of(2)
            && parts
                .chunks(2)
                .all(|c| !is_initials(&c[0]) && is_initials(&c[1]));
        if paired {
            parts = parts
                .chunks(2)
                .map(|c| format!("{}, {}", c[0], c[1]))
                .collect();
        }
        parts
    };
    parts
        .iter()
        .map(|p| collapse_whitespace(p))
        .filter(|p| !p.is_empty())
        .collect()
}

/// `N.`, `R. J.`, `P.-L.`: initials only.
fn is_initials(s: &str) -> bool {
    s.contains('.')
        && s.split([' ', '-']).filter(|w| !w.is_empty()).all(|w| {
            let w = w.trim_end_matches('.');
            (1..=2).contains(&w.chars().count()) && w.chars().next().is_some_and(char::is_uppercase)
        })
}

/// Fetches the feed.
pub(crate) async fn run(
    cfg: &FeedConfig,
    fetcher: &Fetcher,
    out: &mut Collector,
) -> Result<(), SourceErrorKind> {
    let url = cfg.url.trim();
    match fetcher.get(url).await? {
        Fetched::NotModified => out.page_not_modified(),
        Fetched::Body(body) => {
            let page = parse(&body, &cfg.fields).map_err(|e| {
                fetcher.forget(url);
                SourceErrorKind::parse(url, e)
            })?;
            for why in &page.skipped {
                out.skip(url, "feed item", why);
            }
            if page.papers.is_empty()
                && let Some(first) = page.skipped.first()
            {
                fetcher.forget(url);
                return Err(SourceErrorKind::parse(
                    url,
                    ParseError::Content(format!(
                        "every item was skipped ({}), the first: {first}",
                        page.skipped.len()
                    )),
                ));
            }
            out.page_fetched();
            out.add(page.papers);
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "feed_tests.rs"]
mod tests;
