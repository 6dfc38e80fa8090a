//! What both parts show, decided once: the HTML ([`super::components`]) and the plain text
//! ([`super::text`]) render the same [`PaperView`]s, so they carry the same papers, in the
//! same order, with the same links. Only http(s) URLs survive into a view.
use crate::domain::{Digest, EditorsPick, Paper, Pick, collapse_whitespace, shorten};

use super::math::tex_to_unicode;
use super::wording::{WORDING, plural};

/// Abstracts are cut to this many characters so a 20-paper digest stays well under
/// Gmail's ~102 KB clipping limit.
pub(crate) const ABSTRACT_CHARS: usize = 600;
const TITLE_CHARS: usize = 300;
const SUMMARY_CHARS: usize = 300;
/// A card's short summary taken from the abstract: whole sentences up to this many characters.
pub(crate) const LEAD_CHARS: usize = 280;
/// Titles in the week-at-a-glance list and the subject.
pub(crate) const GLANCE_TITLE_CHARS: usize = 90;
pub(crate) const SUBJECT_TITLE_CHARS: usize = 70;
const KEYWORDS_SHOWN: usize = 5;
const WHY_CHARS: usize = 200;
const PIN_NOTE_CHARS: usize = crate::domain::PIN_NOTE_MAX_CHARS;
/// Author lists longer than this show the first [`AUTHORS_SHOWN`] and a count.
const AUTHORS_MAX: usize = 5;
const AUTHORS_SHOWN: usize = 3;

/// Returns the URL in normalised form when it is an absolute http(s) URL, else `None`:
/// `javascript:`, `data:` and relative URLs from feeds never become links or images.
pub(crate) fn safe_url(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PaperLink {
    pub label: &'static str,
    pub url: String,
}

#[derive(Debug, Clone)]
pub(crate) struct PaperView {
    /// The paper's id, for the per-reader 👍/👎 links.
    pub id: Option<String>,
    pub title: String,
    /// The abstract page, else the Hugging Face page.
    pub title_url: Option<String>,
    pub thumbnail: Option<String>,
    pub authors: Option<String>,
    pub primary_category: Option<String>,
    pub other_categories: Vec<String>,
    pub upvotes: Option<String>,
    pub upvotes_count: Option<u32>,
    pub comments: Option<String>,
    /// The paper's date (first publication, else the day a list showed it): `2026-11-24`.
    pub date: Option<String>,
    /// The source's AI summary, else the abstract's first sentences (see [`lead`]).
    pub summary: Option<String>,
    /// True when `summary` is the source's AI summary.
    pub summary_is_ai: bool,
    /// The (shortened) abstract, shown only in `[render] abstract = "full"` mode.
    pub abstract_text: Option<String>,
    /// The source's keywords (HF `ai_keywords`), a few, as tags.
    pub keywords: Vec<String>,
    /// Abstract, PDF, Hugging Face, Code, Project page: only those that exist, no duplicates.
    pub links: Vec<PaperLink>,
    /// "Matched: diffusion model, cs.CL" or "Trending on Hugging Face".
    pub why: Option<String>,
    /// Pinned by the editor (an "Editor's pick").
    pub pinned: bool,
    /// The editor's note on a pinned paper.
    pub pin_note: Option<String>,
    /// The parts of its card that are the same in every reader's digest, rendered once and
    /// shared by every copy of this view (see [`RenderedOnce`]).
    pub(crate) rendered: std::sync::Arc<RenderedOnce>,
}

/// What a paper's card says that no reader changes — in the HTML part everything between
/// its badges and the reader's 👍/👎 links, in the text part everything under its title but
/// those links — rendered the first time a digest shows it and reused by every later one (a
/// send renders a few dozen papers into thousands of digests). One slot per `[render]
/// abstract` mode; the text slot also remembers the indent it was wrapped for and is used
/// only at that indent. Copies of a view share it, so a view must not change once rendered
/// (views are built whole: [`PaperView::new`], [`PaperView::pinned`]).
#[derive(Debug, Default)]
pub(crate) struct RenderedOnce {
    pub html: [std::sync::OnceLock<String>; 2],
    pub text: [std::sync::OnceLock<(usize, String)>; 2],
}

impl PaperView {
    pub(crate) fn new(pick: &Pick) -> PaperView {
        let p = &pick.paper;
        let c = &WORDING.paper;
        let title = collapse_whitespace(&tex_to_unicode(&p.title));
        let title = if title.is_empty() {
            c.untitled.clone()
        } else {
            shorten(&title, TITLE_CHARS).into_owned()
        };
        let links = links(p);
        let ai_summary = non_empty(p.ai_summary.as_deref().unwrap_or(""), SUMMARY_CHARS);
        let abs = p.abs_link().and_then(|u| safe_url(&u));
        let hf = p.hf_url.as_deref().and_then(safe_url);
        let primary = p
            .primary_category
            .clone()
            .or_else(|| p.categories.first().cloned())
            .filter(|c| !c.trim().is_empty());
        let other_categories = p
            .categories
            .iter()
            .filter(|c| Some(*c) != primary.as_ref() && !c.trim().is_empty())
            .cloned()
            .collect();
        PaperView {
            id: p.id.as_ref().map(|id| id.as_str().to_string()),
            title,
            title_url: abs.or(hf),
            thumbnail: p.thumbnail.as_deref().and_then(safe_url),
            authors: authors_line(&p.authors),
            primary_category: primary,
            other_categories,
            upvotes_count: p.upvotes,
            upvotes: p
                .upvotes
                .map(|n| plural(n as usize, &c.upvotes_one, &c.upvotes_many)),
            // "0 comments" is noise; no comments yet reads the same as unknown.
            comments: p
                .comments
                .filter(|&n| n > 0)
                .map(|n| plural(n as usize, &c.comments_one, &c.comments_many)),
            date: p
                .published
                .or(p.listed)
                .map(|d| d.format("%Y-%m-%d").to_string()),
            summary: ai_summary
                .clone()
                .or_else(|| lead(&readable_text(&p.abstract_text), LEAD_CHARS)),
            summary_is_ai: ai_summary.is_some(),
            abstract_text: non_empty(&p.abstract_text, ABSTRACT_CHARS),
            keywords: p
                .ai_keywords
                .iter()
                .map(|k| readable_text(k))
                .filter(|k| !k.is_empty())
                .take(KEYWORDS_SHOWN)
                .collect(),
            links,
            why: why_line(&pick.reasons),
            pinned: false,
            pin_note: None,
            rendered: Default::default(),
        }
    }

    /// The view of a paper the editor pinned: "★ Editor's pick" as its reason, and the
    /// pin's note.
    pub(crate) fn pinned(pick: &EditorsPick) -> PaperView {
        let mut v = PaperView::new(&Pick {
            paper: pick.paper.clone(),
            reasons: Vec::new(),
        });
        v.why = Some(WORDING.paper.editors_pick.clone());
        v.pinned = true;
        v.pin_note = pick
            .note
            .as_deref()
            .and_then(|n| non_empty(n, PIN_NOTE_CHARS));
        v
    }
}

/// A paper as a reader's feed shows it (`/feed/{token}.xml`): what its card says, in short.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryText {
    pub title: String,
    /// The abstract page, else the Hugging Face page (http(s) only).
    pub url: Option<String>,
    pub authors: Option<String>,
    /// Why the reader got it: "Matched: diffusion", "★ Editor's pick: Read this first".
    pub why: Option<String>,
    /// The AI summary or the abstract's first sentences.
    pub summary: Option<String>,
}

impl From<PaperView> for EntryText {
    fn from(v: PaperView) -> EntryText {
        let why = match (&v.why, &v.pin_note) {
            (Some(w), Some(n)) => Some(format!("{w}: {n}")),
            (w, _) => w.clone(),
        };
        EntryText {
            title: v.title,
            url: v.title_url,
            authors: v.authors,
            why,
            summary: v.summary,
        }
    }
}

/// A picked paper as a feed entry.
pub fn entry_text(pick: &Pick) -> EntryText {
    PaperView::new(pick).into()
}

/// A pinned paper as a feed entry.
pub fn pinned_entry_text(pick: &EditorsPick) -> EntryText {
    PaperView::pinned(pick).into()
}

/// The editor's note on the edition, as both parts show it: paragraphs (split at blank
/// or new lines), whitespace collapsed, TeX converted.
pub(crate) fn editors_note(digest: &Digest) -> Vec<String> {
    digest
        .editors()
        .note
        .as_deref()
        .unwrap_or("")
        .lines()
        .map(readable_text)
        .filter(|p| !p.is_empty())
        .collect()
}

/// A title, abstract or name as every page shows it: TeX turned into Unicode text
/// (see [`super::math`]), whitespace collapsed. For pages outside `render` (the archive feed).
pub fn readable_text(s: &str) -> String {
    collapse_whitespace(&tex_to_unicode(s))
}

/// Whitespace collapsed, TeX converted, cut to `max` characters; `None` when empty.
fn non_empty(s: &str, max: usize) -> Option<String> {
    let s = collapse_whitespace(&tex_to_unicode(s));
    (!s.is_empty()).then(|| shorten(&s, max).into_owned())
}

/// The first sentences of `text` that fit in `max` characters, cut after a sentence's full
/// stop; a first sentence longer than that is cut at a word. `None` for empty text.
pub(crate) fn lead(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut end = None;
    let mut count = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        count += 1;
        if count > max {
            break;
        }
        if matches!(c, '.' | '!' | '?') {
            let after = text.get(i + c.len_utf8()..).unwrap_or("");
            let next = after.trim_start().chars().next();
            // "e.g. the" and "2.5" are not sentence ends; "them. We" is.
            if after.is_empty()
                || (after.starts_with(' ') && next.is_some_and(|n| !n.is_lowercase()))
            {
                end = Some(i + c.len_utf8());
            }
        }
        let _ = chars.peek();
    }
    match end {
        Some(e) => text.get(..e).map(str::to_string),
        None => Some(shorten(text, max).into_owned()),
    }
}

fn links(p: &Paper) -> Vec<PaperLink> {
    let c = &WORDING.paper;
    let candidates = [
        (c.r#abstract.as_str(), p.abs_link()),
        (c.pdf.as_str(), p.pdf_link()),
        (c.hugging_face.as_str(), p.hf_url.clone()),
        (c.code.as_str(), p.code_url.clone()),
        (c.project.as_str(), p.project_url.clone()),
    ];
    let mut out: Vec<PaperLink> = Vec::new();
    for (label, url) in candidates {
        let Some(url) = url.as_deref().and_then(safe_url) else {
            continue;
        };
        if !out.iter().any(|l| l.url == url) {
            out.push(PaperLink { label, url });
        }
    }
    out
}

/// "A, B, C, D, E" for up to five names; "A, B, C et al. (80 authors)" beyond.
pub(crate) fn authors_line(authors: &[String]) -> Option<String> {
    let names: Vec<String> = authors
        .iter()
        .map(|a| collapse_whitespace(&tex_to_unicode(a)))
        .filter(|a| !a.is_empty())
        .collect();
    match names.len() {
        0 => None,
        n if n <= AUTHORS_MAX => Some(names.join(", ")),
        n => Some(format!(
            "{} {}",
            names[..AUTHORS_SHOWN].join(", "),
            WORDING.paper.et_al.replace("{n}", &n.to_string())
        )),
    }
}

/// A reader's 👍/👎 links for one paper: `{base}{id}?v=like|dislike`, where `base` is the
/// reader's feedback URL (ending in `/`) and the id is percent-encoded (old-style ids have
/// a `/`). `None` without a base or an id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FeedbackLinks {
    pub like: String,
    pub dislike: String,
}

/// The reader's 👍/👎 links of a paper: `base` (the reader's feedback address, which the
/// caller made from the newsletter's URL and their token, checked once by
/// [`feedback_base`]) and the percent-encoded id — every byte of it unreserved or `%XX`,
/// so the link is as valid as `base`, and no URL is parsed per paper.
pub(crate) fn feedback_links(base: Option<&str>, view: &PaperView) -> Option<FeedbackLinks> {
    let (base, id) = (base?, view.id.as_deref()?);
    let at = format!("{base}{}", urlencoding::encode(id));
    Some(FeedbackLinks {
        like: format!("{at}?v=like"),
        dislike: format!("{at}?v=dislike"),
    })
}

/// A reader's feedback address as [`feedback_links`] builds on it: an http(s) URL that
/// ends in `/` and needs no normalising (what parsing it and writing it back gives), else
/// none (no 👍/👎 links).
pub(crate) fn feedback_base(base: Option<&str>) -> Option<&str> {
    let base = base?;
    let ok = base.ends_with('/') && safe_url(base).is_some_and(|u| u == base);
    ok.then_some(base)
}

/// Reasons as selection spells them ("diffusion model", "cs.CL", "trending") as one line.
/// A recommender's reason ("close to papers you liked: “Title”", or as picks planned before
/// it were worded, "like “Title” you liked") reads as its own sentence.
fn why_line(reasons: &[String]) -> Option<String> {
    let c = &WORDING.paper;
    let is_trending = |r: &str| r.trim().eq_ignore_ascii_case("trending");
    let is_like =
        |r: &str| r.starts_with(crate::recommend::LIKE_REASON_START) || r.starts_with("like “");
    let matched: Vec<String> = reasons
        .iter()
        .filter(|r| !is_trending(r) && !is_like(r))
        .map(|r| collapse_whitespace(r))
        .filter(|r| !r.is_empty())
        .collect();
    let likes: Vec<String> = reasons
        .iter()
        .filter(|r| is_like(r))
        .map(|r| {
            let r = collapse_whitespace(r);
            let mut chars = r.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect();
    if !matched.is_empty() || !likes.is_empty() {
        let mut parts = Vec::new();
        if !matched.is_empty() {
            parts.push(format!("{} {}", c.matched, matched.join(", ")));
        }
        parts.extend(likes);
        return Some(shorten(&parts.join(" · "), WHY_CHARS).into_owned());
    }
    reasons
        .iter()
        .any(|r| is_trending(r))
        .then(|| c.trending.clone())
}

/// "12 new papers for you — week of 2026-11-23" / "The 20 trending papers — week of …".
pub(crate) fn heading(digest: &Digest) -> String {
    let h = &WORDING.heading;
    let n = digest.len();
    let count = if digest.is_trending() {
        plural(n, &h.trending_one, &h.trending_many)
    } else {
        plural(n, &h.personal_one, &h.personal_many)
    };
    format!("{count} — {}", digest.period().label())
}

pub(crate) fn intro(digest: &Digest) -> &'static str {
    if digest.is_trending() {
        &WORDING.heading.intro_trending
    } else {
        &WORDING.heading.intro_personal
    }
}

/// The top paper's title (the first editor's pick, else the first pick), shortened for
/// the subject line.
pub(crate) fn top_title(digest: &Digest) -> Option<String> {
    let top = match digest.editors().picks.first() {
        Some(pin) => &pin.paper,
        None => &digest.picks().first()?.paper,
    };
    let title = readable_text(&top.title);
    (!title.is_empty()).then(|| shorten(&title, SUBJECT_TITLE_CHARS).into_owned())
}

/// Views of the main picks and of the "More like what you liked" section.
pub(crate) fn papers(digest: &Digest) -> Vec<PaperView> {
    digest.picks().iter().map(PaperView::new).collect()
}

/// Views of the editor's picks.
pub(crate) fn editors_picks(digest: &Digest) -> Vec<PaperView> {
    digest
        .editors()
        .picks
        .iter()
        .map(PaperView::pinned)
        .collect()
}

pub(crate) fn more_like(digest: &Digest) -> Vec<PaperView> {
    digest.more_like().iter().map(PaperView::new).collect()
}

/// Paper views already built, for a caller that renders many digests of the same papers
/// (a send renders a few dozen papers for thousands of readers; building a view — URL
/// checks, whitespace, shortening — was ~17 % of a whole send). Keyed by the paper's id
/// alone: the one per-reader part, the "Matched: …" line of the pick's reasons, is set on
/// each copy, so the cache holds one view per paper however many readers (and distinct
/// topics) a send has. Papers without an id are not cached. Only for papers that do not
/// change while the cache lives (one send run).
#[derive(Default)]
pub struct ViewCache {
    views: std::sync::RwLock<std::collections::HashMap<String, PaperView>>,
}

pub(crate) fn papers_cached(picks: &[Pick], cache: &ViewCache) -> Vec<PaperView> {
    picks
        .iter()
        .map(|pick| {
            let Some(id) = &pick.paper.id else {
                return PaperView::new(pick);
            };
            if let Some(v) = cache
                .views
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(id.as_str())
            {
                let mut view = v.clone();
                view.why = why_line(&pick.reasons);
                return view;
            }
            let view = PaperView::new(pick);
            cache
                .views
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.as_str().to_string(), view.clone());
            view
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_cache_holds_one_view_per_paper_and_keeps_each_readers_reasons() {
        // Arrange: the same papers picked for three readers, each for other reasons.
        let digest = crate::render::sample_digest(3);
        let cache = ViewCache::default();
        let with_reasons = |reason: &str| -> Vec<Pick> {
            digest
                .picks()
                .iter()
                .map(|p| Pick {
                    paper: p.paper.clone(),
                    reasons: vec![reason.to_string()],
                })
                .collect()
        };
        // Act
        let views: Vec<Vec<PaperView>> = ["alpha", "beta", "gamma"]
            .iter()
            .map(|r| papers_cached(&with_reasons(r), &cache))
            .collect();
        // Assert: each reader's "Matched" line is their own; one cached view per paper.
        for (views, reason) in views.iter().zip(["alpha", "beta", "gamma"]) {
            for v in views {
                assert_eq!(v.why, why_line(&[reason.to_string()]));
                assert!(
                    v.why.as_deref().unwrap_or("").contains(reason),
                    "{:?}",
                    v.why
                );
            }
        }
        assert_eq!(cache.views.read().unwrap().len(), 3);
    }

    #[test]
    fn a_lead_is_whole_sentences_that_fit() {
        let abs = "We study X. It works, e.g. on Y and 2.5 Z. Third sentence here is long enough.";
        assert_eq!(
            lead(abs, 50).unwrap(),
            "We study X. It works, e.g. on Y and 2.5 Z."
        );
        assert_eq!(lead(abs, 200).unwrap(), abs);
        assert_eq!(lead(abs, 8).unwrap(), "We study…");
        assert_eq!(lead("  ", 50), None);
        // A first sentence longer than the budget is cut at a word, never mid-word.
        let one = "Guiding diffusion models with learned classifiers improves sample quality a lot";
        assert_eq!(lead(one, 30).unwrap(), "Guiding diffusion models with…");
    }

    #[test]
    fn only_http_urls_are_safe() {
        assert_eq!(
            safe_url(" https://arxiv.org/abs/2410.18975 ").as_deref(),
            Some("https://arxiv.org/abs/2410.18975")
        );
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "/relative",
            "",
        ] {
            assert_eq!(safe_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn long_author_lists_are_shortened_with_a_count() {
        let names = |n: usize| (1..=n).map(|i| format!("Author {i}")).collect::<Vec<_>>();
        assert_eq!(authors_line(&[]), None);
        assert_eq!(
            authors_line(&names(5)).unwrap(),
            "Author 1, Author 2, Author 3, Author 4, Author 5"
        );
        assert_eq!(
            authors_line(&names(60)).unwrap(),
            "Author 1, Author 2, Author 3 et al. (60 authors)"
        );
    }

    #[test]
    fn reasons_become_one_line() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            why_line(&r(&["diffusion model", "cs.CL"])).unwrap(),
            "Matched: diffusion model, cs.CL"
        );
        assert_eq!(
            why_line(&r(&["trending"])).unwrap(),
            "Trending on Hugging Face"
        );
        assert_eq!(
            why_line(&r(&["llm", "like “Attention Is All You Need” you liked"])).unwrap(),
            "Matched: llm · Like “Attention Is All You Need” you liked"
        );
        assert_eq!(
            why_line(&r(&["like “A” you liked"])).unwrap(),
            "Like “A” you liked"
        );
        // A paper in the trending digest without upvotes is there only for being new.
        assert_eq!(why_line(&[]), None);
    }

    #[test]
    fn duplicate_and_unsafe_links_are_dropped() {
        let p = Paper {
            abs_url: Some("https://arxiv.org/abs/1".into()),
            pdf_url: Some("javascript:alert(1)".into()),
            hf_url: Some("https://huggingface.co/papers/1".into()),
            project_url: Some("https://huggingface.co/papers/1".into()),
            ..Paper::default()
        };
        let labels: Vec<_> = links(&p).iter().map(|l| l.label).collect();
        assert_eq!(labels, ["Abstract", "Hugging Face"]);
    }
}
