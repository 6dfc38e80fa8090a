//! `[[sources]]` tables of `config.toml`, one per source, told apart by `kind`.
//!
//! ```toml
//! [[sources]]
//! name = "hf"
//! kind = "hf_daily"      # days = 2 (default) or week = true
//!
//! [[sources]]
//! name = "arxiv-ai"
//! kind = "arxiv_feed"
//! categories = ["cs.AI", "cs.CL"]
//! allow_redirect_hosts = ["export.arxiv.org"]   # any HTTP source; see `redirect`
//!
//! [[sources]]
//! name = "diffusion"
//! kind = "arxiv_api"
//! query = "abs:diffusion AND cat:cs.CV"
//! max_results = 200
//!
//! [[sources]]
//! name = "taxon"
//! kind = "feed"          # RSS 2.0, RSS 1.0 (RDF), Atom or JSON Feed
//! url = "https://example.org/journal/toc.rss"
//! [sources.fields]       # optional: where this feed keeps a field, see `FeedFields`
//! doi = "dc:identifier"
//!
//! [[sources]]
//! name = "biorxiv"
//! kind = "biorxiv"
//! server = "biorxiv"     # or "medrxiv"
//! days = 2               # or interval = "2024-01-01/2024-01-31"
//!
//! [[sources]]
//! name = "reading-list"
//! kind = "file"
//! path = "papers.json"   # relative to the config file
//! ```
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::redirect::{RedirectHost, RedirectPolicy};

/// One configured source. Unknown keys are refused (a typo must not be silently ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SourceConfig {
    pub name: String,
    /// This source's own body limit in bytes (a document, an HTTP response or a local
    /// file); default `[fetch] max_body_bytes`.
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
    /// Hosts besides its own that this source's fetches may be redirected to (HTTP
    /// sources only); see [`super::redirect`].
    #[serde(default)]
    pub allow_redirect_hosts: Vec<RedirectHost>,
    /// `kind = "…"` and that kind's keys.
    #[serde(flatten)]
    pub kind: SourceSpec,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSpec {
    HfDaily(HfDailyConfig),
    ArxivFeed(ArxivFeedConfig),
    ArxivApi(ArxivApiConfig),
    File(FileConfig),
    Feed(FeedConfig),
    Biorxiv(BiorxivConfig),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HfDailyConfig {
    #[serde(default = "hf_url")]
    pub url: String,
    /// Fetch `date=` for each of the last N days, today included. Default 2.
    pub days: Option<u32>,
    /// Fetch `week=YYYY-Www` of today instead of days.
    #[serde(default)]
    pub week: bool,
    /// Page size (`limit=`).
    #[serde(default = "fifty")]
    pub limit: u32,
    #[serde(default = "twenty")]
    pub max_pages: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArxivFeedConfig {
    #[serde(default = "feed_url")]
    pub url: String,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArxivApiConfig {
    #[serde(default = "api_url")]
    pub url: String,
    /// The `search_query`, e.g. `cat:cs.CL AND abs:retrieval`.
    pub query: String,
    #[serde(default = "submitted_date")]
    pub sort_by: String,
    #[serde(default = "descending")]
    pub sort_order: String,
    /// Total wanted; capped at 30000 (the API's limit).
    #[serde(default = "hundred")]
    pub max_results: u32,
    /// Results per call; capped at 2000.
    #[serde(default = "hundred")]
    pub page_size: u32,
    /// Pause between calls; arXiv asks for 3 seconds.
    #[serde(default = "three")]
    pub delay_secs: f64,
}

/// Any paper feed: RSS 2.0, RSS 1.0 (RDF), Atom or JSON Feed, told apart by the document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    pub url: String,
    /// Where this feed keeps fields it puts in unusual places (`[sources.fields]`).
    #[serde(default)]
    pub fields: FeedFields,
}

/// Per-field overrides of where a feed item's values are read: each names one element
/// (`dc:creator`, `prism:doi`, `content:encoded`, or a bare name in the feed's own
/// vocabulary: `description`, `guid`, `summary`, `content`) or, in a JSON Feed, an item key
/// (`summary`, `_paper.doi` for a nested one). A field given here is read from there only;
/// the others from their usual places. Known prefixes: see [`super::feed::PREFIXES`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedFields {
    /// The item's own identifier (RSS `guid`, Atom `id`, JSON Feed `id`).
    pub id: Option<String>,
    pub title: Option<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    /// One element per author, or one "A, B and C" / "Last, F.; Last, G." list.
    pub authors: Option<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub link: Option<String>,
    pub doi: Option<String>,
    pub categories: Option<String>,
}

impl FeedFields {
    /// (key, location) of each field set.
    pub fn set(&self) -> Vec<(&'static str, &str)> {
        [
            ("id", &self.id),
            ("title", &self.title),
            ("abstract", &self.abstract_text),
            ("authors", &self.authors),
            ("published", &self.published),
            ("updated", &self.updated),
            ("link", &self.link),
            ("doi", &self.doi),
            ("categories", &self.categories),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BiorxivServer {
    Biorxiv,
    Medrxiv,
}

impl BiorxivServer {
    pub fn as_str(self) -> &'static str {
        match self {
            BiorxivServer::Biorxiv => "biorxiv",
            BiorxivServer::Medrxiv => "medrxiv",
        }
    }
}

/// The bioRxiv/medRxiv `details` API: the preprints posted (or revised) in an interval,
/// 100 a page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BiorxivConfig {
    /// The API's base URL; `/details/{server}/{from}/{to}/{cursor}` is added.
    #[serde(default = "biorxiv_url")]
    pub url: String,
    pub server: BiorxivServer,
    /// The last N days, today included. Default 2 when no `interval` is given.
    pub days: Option<u32>,
    /// A fixed interval instead: `2024-01-01/2024-01-31`.
    pub interval: Option<String>,
    /// Only this subject (`category=`, e.g. `neuroscience`).
    pub category: Option<String>,
    #[serde(default = "twenty")]
    pub max_pages: u32,
}

impl BiorxivConfig {
    /// (from, to) of the interval to fetch.
    pub fn dates(
        &self,
        today: chrono::NaiveDate,
    ) -> Result<(chrono::NaiveDate, chrono::NaiveDate), String> {
        if let Some(i) = &self.interval {
            let parse = |d: &str| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok();
            return match i.split_once('/').map(|(a, b)| (parse(a), parse(b))) {
                Some((Some(from), Some(to))) if from <= to => Ok((from, to)),
                _ => Err(format!(
                    "interval `{i}` is not FROM/TO dates, FROM not after TO (e.g. 2024-01-01/2024-01-31)"
                )),
            };
        }
        let days = self.days.unwrap_or(2).max(1);
        Ok((today - chrono::Days::new(u64::from(days - 1)), today))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    #[default]
    Auto,
    HfJson,
    ArxivAtom,
    ArxivRss,
    PaperpostJson,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub path: PathBuf,
    #[serde(default)]
    pub format: FileFormat,
}

/// Sane bounds of `max_body_bytes` (1 KiB to 4 GiB).
pub const MIN_BODY_BYTES: u64 = 1024;
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024 * 1024;

pub const ARXIV_API_MAX_TOTAL: u32 = 30_000;
pub const ARXIV_API_MAX_PAGE: u32 = 2_000;

fn hf_url() -> String {
    "https://huggingface.co/api/daily_papers".into()
}
fn biorxiv_url() -> String {
    "https://api.biorxiv.org".into()
}
fn feed_url() -> String {
    "https://rss.arxiv.org/atom".into()
}
fn api_url() -> String {
    "https://export.arxiv.org/api/query".into()
}
fn submitted_date() -> String {
    "submittedDate".into()
}
fn descending() -> String {
    "descending".into()
}
fn fifty() -> u32 {
    50
}
fn twenty() -> u32 {
    20
}
fn hundred() -> u32 {
    100
}
fn three() -> f64 {
    3.0
}

impl SourceConfig {
    /// Makes a relative `path` of a file source relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        if let SourceSpec::File(f) = &mut self.kind
            && f.path.is_relative()
        {
            f.path = base.join(&f.path);
        }
    }

    /// Where this source's fetches may be redirected.
    pub fn redirect_policy(&self) -> RedirectPolicy {
        RedirectPolicy::new(self.allow_redirect_hosts.clone())
    }

    /// `allow_redirect_hosts` on a source that fetches nothing over HTTP is a mistake
    /// (a file source copied from an HTTP one, say): refused rather than ignored.
    pub fn check_redirect_hosts(&self) -> Result<(), String> {
        match (&self.kind, self.allow_redirect_hosts.is_empty()) {
            (SourceSpec::File(_), false) => {
                Err("applies to HTTP sources only; a file source is never redirected".into())
            }
            _ => Ok(()),
        }
    }

    /// Cross-field checks serde cannot express. The message names the key, not the source;
    /// the config loader prefixes where it is.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("name must not be empty".into());
        }
        if self.name.chars().any(char::is_control) {
            return Err("name must not contain control characters".into());
        }

        match &self.kind {
            SourceSpec::HfDaily(h) => {
                if h.week && h.days.is_some() {
                    return Err("set either days or week = true, not both".into());
                }
                if h.days == Some(0) {
                    return Err("days must be at least 1".into());
                }
                if h.limit == 0 || h.max_pages == 0 {
                    return Err("limit and max_pages must be at least 1".into());
                }
            }
            SourceSpec::ArxivFeed(f) => {
                if f.categories.is_empty() {
                    return Err(
                        "categories must list at least one category, e.g. [\"cs.AI\"]".into(),
                    );
                }
                if let Some(c) = f
                    .categories
                    .iter()
                    .find(|c| c.trim().is_empty() || c.contains(['+', '/', ' ']))
                {
                    return Err(format!("categories: `{c}` is not a category code"));
                }
            }
            SourceSpec::ArxivApi(a) => {
                if a.query.trim().is_empty() {
                    return Err("query must not be empty".into());
                }
                if a.page_size == 0 || a.max_results == 0 {
                    return Err("page_size and max_results must be at least 1".into());
                }
                if !(a.delay_secs.is_finite() && a.delay_secs >= 0.0) {
                    return Err("delay_secs must be a number of seconds, 0 or more".into());
                }
            }
            SourceSpec::File(f) => {
                if f.path.as_os_str().is_empty() {
                    return Err("path must not be empty".into());
                }
            }
            SourceSpec::Feed(f) => {
                if url::Url::parse(f.url.trim())
                    .ok()
                    .is_none_or(|u| !matches!(u.scheme(), "http" | "https"))
                {
                    return Err(format!("url `{}` is not an http(s) URL", f.url));
                }
                for (key, location) in f.fields.set() {
                    super::feed::FieldSpec::parse(location)
                        .map_err(|e| format!("fields.{key} = \"{location}\": {e}"))?;
                }
            }
            SourceSpec::Biorxiv(b) => {
                if b.days.is_some() && b.interval.is_some() {
                    return Err("set either days or interval, not both".into());
                }
                if b.days == Some(0) {
                    return Err("days must be at least 1".into());
                }
                if b.max_pages == 0 {
                    return Err("max_pages must be at least 1".into());
                }
                if b.interval.is_some() {
                    b.dates(chrono::NaiveDate::MIN)?;
                }
                if b.category
                    .as_deref()
                    .is_some_and(|c| c.trim().is_empty() || c.contains(['/', '?', '&', '#']))
                {
                    return Err("category must be a subject name, e.g. \"neuroscience\"".into());
                }
            }
        }
        Ok(())
    }
}

/// `[fetch]`: what every source's HTTP fetching shares (a `[[sources]]` table can set its
/// own `max_body_bytes`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSettings {
    #[serde(default = "default_fetch_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First backoff delay after a 5xx/429/connection error; doubles per retry.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    /// Largest body (HTTP response or local file) one source may read; `[[sources]]` can
    /// set its own `max_body_bytes`.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
}

impl FetchSettings {
    /// Numbers in ranges that make sense.
    pub fn check(&self) -> Result<(), crate::domain::BadSetting> {
        use crate::domain::in_range;
        in_range("fetch", "timeout_secs", self.timeout_secs, 1, 3600)?;
        in_range("fetch", "retries", self.retries.into(), 0, 20)?;
        in_range("fetch", "backoff_ms", self.backoff_ms, 0, 3_600_000)?;
        in_range(
            "fetch",
            "max_body_bytes",
            self.max_body_bytes,
            MIN_BODY_BYTES,
            MAX_BODY_BYTES,
        )
    }
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout_secs: default_fetch_timeout(),
            retries: default_retries(),
            backoff_ms: default_backoff_ms(),
            max_body_bytes: default_max_body_bytes(),
        }
    }
}

fn default_fetch_timeout() -> u64 {
    30
}

fn default_retries() -> u32 {
    3
}

fn default_backoff_ms() -> u64 {
    1000
}

fn default_max_body_bytes() -> u64 {
    crate::sources::http::DEFAULT_MAX_BODY_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        sources: Vec<SourceConfig>,
    }

    fn parse(s: &str) -> Result<Vec<SourceConfig>, String> {
        toml::from_str::<Doc>(s)
            .map(|d| d.sources)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_kind_parses_with_its_defaults() {
        let s = parse(
            r#"
            [[sources]]
            name = "hf"
            kind = "hf_daily"
            [[sources]]
            name = "ai"
            kind = "arxiv_feed"
            categories = ["cs.AI", "cs.CL"]
            [[sources]]
            name = "q"
            kind = "arxiv_api"
            query = "cat:cs.CL"
            delay_secs = 0
            [[sources]]
            name = "list"
            kind = "file"
            path = "papers.json"
            format = "paperpost_json"
            "#,
        )
        .unwrap();
        let SourceSpec::HfDaily(h) = &s[0].kind else {
            panic!()
        };
        assert_eq!(
            (h.days, h.week, h.limit, h.max_pages),
            (None, false, 50, 20)
        );
        assert_eq!(h.url, "https://huggingface.co/api/daily_papers");
        let SourceSpec::ArxivApi(a) = &s[2].kind else {
            panic!()
        };
        assert_eq!((a.max_results, a.page_size, a.delay_secs), (100, 100, 0.0));
        assert_eq!(a.sort_by, "submittedDate");
        let mut list = s[3].clone();
        list.resolve_paths(Path::new("/etc/paperpost"));
        let SourceSpec::File(f) = &list.kind else {
            panic!()
        };
        assert_eq!(f.path, Path::new("/etc/paperpost/papers.json"));
        assert_eq!(f.format, FileFormat::PaperpostJson);
        assert!(s.iter().all(|s| s.validate().is_ok()));
    }

    #[test]
    fn unknown_keys_and_kinds_are_refused() {
        let typo =
            parse("[[sources]]\nname = \"hf\"\nkind = \"hf_daily\"\ndayz = 3\n").unwrap_err();
        assert!(typo.contains("dayz"), "{typo}");
        let kind = parse("[[sources]]\nname = \"x\"\nkind = \"rss\"\n").unwrap_err();
        assert!(kind.contains("rss"), "{kind}");
    }

    #[test]
    fn redirect_hosts_are_parsed_at_load_and_only_for_http_sources() {
        let s = parse(
            "[[sources]]\nname = \"ai\"\nkind = \"arxiv_feed\"\ncategories = [\"cs.AI\"]\n\
             allow_redirect_hosts = [\"export.arxiv.org\", \"http://127.0.0.1:8080\"]\n",
        )
        .unwrap();
        assert_eq!(s[0].allow_redirect_hosts.len(), 2);
        assert!(s[0].check_redirect_hosts().is_ok());
        let bad = parse(
            "[[sources]]\nname = \"ai\"\nkind = \"arxiv_feed\"\ncategories = [\"cs.AI\"]\n\
             allow_redirect_hosts = [\"ftp://x.org\"]\n",
        )
        .unwrap_err();
        assert!(bad.contains("`ftp://x.org` has the scheme `ftp`"), "{bad}");
        let file = parse(
            "[[sources]]\nname = \"f\"\nkind = \"file\"\npath = \"p.json\"\n\
             allow_redirect_hosts = [\"x.org\"]\n",
        )
        .unwrap();
        assert!(file[0].check_redirect_hosts().is_err());
    }

    #[test]
    fn feed_and_biorxiv_sources_parse_and_their_mistakes_are_named() {
        let s = parse(
            r#"
            [[sources]]
            name = "taxon"
            kind = "feed"
            url = "https://example.org/toc.rss"
            [sources.fields]
            doi = "dc:identifier"
            abstract = "content:encoded"
            [[sources]]
            name = "bio"
            kind = "biorxiv"
            server = "medrxiv"
            interval = "2024-01-01/2024-01-31"
            "#,
        )
        .unwrap();
        assert!(s.iter().all(|s| s.validate().is_ok()));
        let SourceSpec::Feed(f) = &s[0].kind else {
            panic!()
        };
        assert_eq!(
            f.fields.set(),
            [("abstract", "content:encoded"), ("doi", "dc:identifier")]
        );
        let SourceSpec::Biorxiv(b) = &s[1].kind else {
            panic!()
        };
        assert_eq!(b.url, "https://api.biorxiv.org");
        assert_eq!(b.server.as_str(), "medrxiv");
        let unknown = parse(
            "[[sources]]\nname = \"f\"\nkind = \"feed\"\nurl = \"https://x.org/f\"\n\
             [sources.fields]\nauthor = \"dc:creator\"\n",
        )
        .unwrap_err();
        assert!(unknown.contains("unknown field `author`"), "{unknown}");
        assert!(
            unknown.contains("authors"),
            "the known keys are listed: {unknown}"
        );
        let cases = [
            (
                "kind = \"feed\"\nurl = \"https://x.org/f\"\nfields.doi = \"foo:doi\"",
                "fields.doi = \"foo:doi\": unknown namespace prefix `foo`",
            ),
            (
                "kind = \"feed\"\nurl = \"https://x.org/f\"\nfields.title = \"\"",
                "fields.title",
            ),
            (
                "kind = \"feed\"\nurl = \"file:///etc/passwd\"",
                "not an http(s) URL",
            ),
            (
                "kind = \"biorxiv\"\nserver = \"biorxiv\"\ndays = 3\ninterval = \"2024-01-01/2024-01-02\"",
                "either days or interval",
            ),
            (
                "kind = \"biorxiv\"\nserver = \"biorxiv\"\ninterval = \"2024-02-01/2024-01-02\"",
                "interval `2024-02-01/2024-01-02`",
            ),
        ];
        for (toml, want) in cases {
            let s = parse(&format!("[[sources]]\nname = \"x\"\n{toml}\n")).unwrap();
            let e = s[0].validate().unwrap_err();
            assert!(e.contains(want), "{toml}: {e}");
        }
        let server = parse("[[sources]]\nname = \"b\"\nkind = \"biorxiv\"\nserver = \"arxiv\"\n")
            .unwrap_err();
        assert!(server.contains("arxiv"), "{server}");
    }

    #[test]
    fn cross_field_mistakes_are_refused() {
        let cases = [
            ("name = \"\"\nkind = \"hf_daily\"", "name"),
            (
                "name = \"h\"\nkind = \"hf_daily\"\ndays = 3\nweek = true",
                "either days or week",
            ),
            (
                "name = \"a\"\nkind = \"arxiv_feed\"\ncategories = []",
                "categories",
            ),
            ("name = \"q\"\nkind = \"arxiv_api\"\nquery = \" \"", "query"),
            (
                "name = \"q\"\nkind = \"arxiv_api\"\nquery = \"x\"\npage_size = 0",
                "page_size",
            ),
        ];
        for (toml, want) in cases {
            let s = parse(&format!("[[sources]]\n{toml}\n")).unwrap();
            let e = s[0].validate().unwrap_err();
            assert!(e.contains(want), "{toml}: {e}");
        }
    }
}
