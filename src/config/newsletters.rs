//! Several newsletters in one instance: `[newsletter]` (one, slug `main`) or
//! `[[newsletters]]` tables. Each newsletter is a view of the settings ([`Settings::view`]):
//! its own name, sender, List-Id, zone, sources, schedule and look over the instance's
//! shared store, sources, selection and delivery. The first table is what a command works
//! on unless `--newsletter SLUG` names another.
//!
//! A later `[[newsletters]]` table inherits the first's sender, reply-to, zone and
//! Message-ID domain when it leaves them out, and its pages live under the first's address
//! at `n/{slug}/` (the web server serves each newsletter there, the first also at `/`).
use lettre::message::Mailbox;
use serde::Deserialize;
use url::Url;

use super::sections::{de_opt_http_url, de_opt_mailbox, de_opt_tz, default_name, default_tz};
use super::*;
use crate::domain::DEFAULT_NEWSLETTER;
use crate::schedule::ScheduleSettings;
use crate::sources::SourceConfig;

/// A `[newsletter]` or `[[newsletters]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewsletterTable {
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_http_url")]
    base_url: Option<Url>,
    #[serde(default, deserialize_with = "de_opt_mailbox")]
    from: Option<Mailbox>,
    #[serde(default, deserialize_with = "de_opt_mailbox")]
    reply_to: Option<Mailbox>,
    #[serde(default)]
    list_id: Option<String>,
    #[serde(default)]
    message_id_domain: Option<String>,
    #[serde(default, deserialize_with = "de_opt_tz")]
    timezone: Option<chrono_tz::Tz>,
    #[serde(default)]
    sources: Option<Vec<String>>,
    #[serde(default)]
    default_topics: Option<String>,
    #[serde(default)]
    schedule: Option<ScheduleSettings>,
    #[serde(default)]
    render: Option<RenderSettings>,
}

/// What every newsletter's view is made from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shared {
    sources: Vec<SourceConfig>,
    schedule: ScheduleSettings,
    render: RenderSettings,
    /// Each newsletter's own `[schedule]` / `[render]`, by position.
    own: Vec<(Option<ScheduleSettings>, Option<RenderSettings>)>,
    /// Whether the file has `[[newsletters]]` tables (else one `[newsletter]`).
    several: bool,
}

/// Whether `slug` can name a newsletter in a web address and on the command line.
pub fn check_slug(slug: &str) -> Result<(), String> {
    let ok = !slug.is_empty()
        && slug.len() <= 32
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{slug}` cannot be a slug: use 1-32 lower-case letters, digits and inner dashes, \
             like `ml-weekly`"
        ))
    }
}

impl Settings {
    /// Turns the `[newsletter]` / `[[newsletters]]` tables into [`Settings::newsletters`] and
    /// makes these settings the first newsletter's view. Errors name the table and key.
    pub(super) fn read_newsletters(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let invalid = |section: &str, index: Option<usize>, key: &str, message: String| {
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: super::validate::find_key_line(text, section, index, key),
                key: format!("{section}.{key}"),
                message,
            }
        };
        let (section, tables, several) = match (self.single.take(), self.several.is_empty()) {
            (Some(one), true) => ("newsletter", vec![one], false),
            (None, false) => ("newsletters", std::mem::take(&mut self.several), true),
            (Some(_), false) => {
                return Err(invalid(
                    "newsletters",
                    Some(0),
                    "slug",
                    "write either one [newsletter] table or [[newsletters]] tables, not both"
                        .into(),
                ));
            }
            (None, true) => {
                return Err(ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: "there is no [newsletter] table (name, base_url, from): every \
                              config needs one, or [[newsletters]] tables for several"
                        .into(),
                });
            }
        };
        let idx = |i: usize| several.then_some(i);
        let names: std::collections::HashSet<&str> =
            self.sources.iter().map(|s| s.name.as_str()).collect();
        let mut out: Vec<NewsletterSettings> = Vec::with_capacity(tables.len());
        let mut own = Vec::with_capacity(tables.len());
        for (i, t) in tables.into_iter().enumerate() {
            let first = out.first();
            let slug = match (t.slug, several) {
                (Some(s), _) => s,
                (None, false) => DEFAULT_NEWSLETTER.to_string(),
                (None, true) => {
                    return Err(invalid(
                        section,
                        idx(i),
                        "slug",
                        "is required in each [[newsletters]] table (its web address \
                         `n/{slug}/` and `--newsletter SLUG`)"
                            .into(),
                    ));
                }
            };
            check_slug(&slug).map_err(|m| invalid(section, idx(i), "slug", m))?;
            if out.iter().any(|n| n.slug == slug) {
                return Err(invalid(
                    section,
                    idx(i),
                    "slug",
                    format!("two newsletters have the slug `{slug}`"),
                ));
            }
            let base_url = match (t.base_url, first) {
                (Some(u), _) => u,
                (None, Some(f)) => f
                    .base_url
                    .join(&format!("n/{slug}/"))
                    .expect("a slug is a valid path segment"),
                (None, None) => {
                    return Err(invalid(
                        section,
                        idx(i),
                        "base_url",
                        "is required: the public address of the web pages, like \
                         \"https://papers.example.org/\""
                            .into(),
                    ));
                }
            };
            let from = match (t.from, first) {
                (Some(m), _) => m,
                (None, Some(f)) => f.from.clone(),
                (None, None) => {
                    return Err(invalid(
                        section,
                        idx(i),
                        "from",
                        "is required: the sender, like \"Papers <digest@example.org>\"".into(),
                    ));
                }
            };
            if let Some(list) = &t.sources {
                for name in list {
                    if !names.contains(name.as_str()) {
                        return Err(invalid(
                            section,
                            idx(i),
                            "sources",
                            format!("there is no [[sources]] table named `{name}`"),
                        ));
                    }
                }
            }
            if let Some(line) = &t.default_topics {
                crate::domain::Topics::parse(line)
                    .map_err(|e| invalid(section, idx(i), "default_topics", format!("{e}")))?;
            }
            let n = NewsletterSettings {
                name: t.name.unwrap_or_else(|| match several {
                    true if i > 0 => slug.clone(),
                    _ => default_name(),
                }),
                slug,
                base_url,
                reply_to: t
                    .reply_to
                    .or_else(|| first.and_then(|f| f.reply_to.clone())),
                from,
                list_id: t.list_id,
                message_id_domain: t
                    .message_id_domain
                    .or_else(|| first.and_then(|f| f.message_id_domain.clone())),
                timezone: t
                    .timezone
                    .or(first.map(|f| f.timezone))
                    .unwrap_or_else(default_tz),
                sources: t.sources,
                default_topics: t.default_topics,
            };
            if let Some(other) = out
                .iter()
                .find(|o| o.message_settings().list_id == n.message_settings().list_id)
            {
                return Err(invalid(
                    section,
                    idx(i),
                    "list_id",
                    format!(
                        "newsletters `{}` and `{}` would share the List-Id `{}`: give one a \
                         list_id (or another name)",
                        other.slug,
                        n.slug,
                        n.message_settings().list_id
                    ),
                ));
            }
            if let Some(s) = &t.schedule
                && let Err((key, message)) = s.validate()
            {
                return Err(invalid(&format!("{section}.schedule"), None, key, message));
            }
            own.push((t.schedule, t.render));
            out.push(n);
        }
        self.shared = Shared {
            sources: self.sources.clone(),
            schedule: self.schedule.clone(),
            render: self.render.clone(),
            own,
            several,
        };
        self.newsletters = out;
        self.apply_view(0);
        Ok(())
    }

    /// Makes these settings newsletter `i`'s view.
    fn apply_view(&mut self, i: usize) {
        let n = self.newsletters[i].clone();
        let (schedule, render) = &self.shared.own[i];
        self.schedule = schedule
            .clone()
            .unwrap_or_else(|| self.shared.schedule.clone());
        self.render = render.clone().unwrap_or_else(|| self.shared.render.clone());
        self.sources = match &n.sources {
            Some(names) => self
                .shared
                .sources
                .iter()
                .filter(|s| names.contains(&s.name))
                .cloned()
                .collect(),
            None => self.shared.sources.clone(),
        };
        self.newsletter = n;
    }

    /// The settings of the newsletter `slug` (its name, sender, sources, schedule and look
    /// over the shared sections); an unknown slug is an error listing the known ones.
    pub fn view(&self, slug: &str) -> Result<Settings, UnknownNewsletter> {
        let i = self
            .newsletters
            .iter()
            .position(|n| n.slug == slug)
            .ok_or_else(|| UnknownNewsletter {
                slug: slug.to_string(),
                known: self.slugs().join(", "),
            })?;
        let mut view = self.clone();
        view.apply_view(i);
        Ok(view)
    }

    /// Every newsletter's view, in the file's order.
    pub fn views(&self) -> Vec<Settings> {
        (0..self.newsletters.len())
            .map(|i| {
                let mut view = self.clone();
                view.apply_view(i);
                view
            })
            .collect()
    }

    /// These settings with every source (a fetch for all newsletters at once).
    pub fn with_all_sources(&self) -> Settings {
        let mut s = self.clone();
        s.sources = self.shared.sources.clone();
        s
    }

    /// Whether the file has `[[newsletters]]` tables (else one `[newsletter]`).
    pub(super) fn newsletter_tables_are_several(&self) -> bool {
        self.shared.several
    }

    /// The top-level `[schedule]` (a newsletter's view may have its own).
    pub(super) fn shared_schedule(&self) -> &ScheduleSettings {
        &self.shared.schedule
    }

    /// The slugs of the newsletters, in the file's order.
    pub fn slugs(&self) -> Vec<&str> {
        self.newsletters.iter().map(|n| n.slug.as_str()).collect()
    }

    /// Whether the instance runs more than one newsletter.
    pub fn has_several_newsletters(&self) -> bool {
        self.newsletters.len() > 1
    }
}

/// `--newsletter SLUG` names no newsletter of the config.
#[derive(Debug, thiserror::Error)]
#[error("there is no newsletter with the slug `{slug}` in the config (slugs: {known})")]
pub struct UnknownNewsletter {
    pub slug: String,
    pub known: String,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const SOURCES: &str = r#"
[[sources]]
name = "hf"
kind = "hf_daily"

[[sources]]
name = "bio"
kind = "biorxiv"
server = "biorxiv"
"#;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, Path::new("config.toml"), Path::new("/srv/pp"))
    }

    const TWO: &str = r#"[[newsletters]]
slug = "ml"
name = "ML weekly"
base_url = "https://papers.example.org/"
from = "ML <ml@example.org>"
timezone = "Europe/Berlin"
sources = ["hf"]

[[newsletters]]
slug = "bio"
name = "Genomics daily"
sources = ["bio"]
default_topics = "genome assembly"
[newsletters.schedule]
send = "0 7 * * MON-FRI"
[newsletters.render]
abstract = "full"
"#;

    #[test]
    fn a_lone_newsletter_is_main_and_sees_every_source() {
        let s = parse(&format!(
            "[newsletter]\nbase_url = \"https://p.example.org/\"\nfrom = \"p <p@example.org>\"\n{SOURCES}"
        ))
        .unwrap();
        assert_eq!(s.slugs(), ["main"]);
        assert_eq!(s.newsletter.slug, "main");
        assert_eq!(s.sources.len(), 2);
        assert!(!s.has_several_newsletters());
    }

    #[test]
    fn each_newsletter_is_a_view_with_its_own_sources_schedule_look_and_inherited_sender() {
        let s = parse(&format!("{TWO}{SOURCES}")).unwrap();
        assert_eq!(s.slugs(), ["ml", "bio"]);
        assert_eq!(s.newsletter.slug, "ml", "the first by default");
        assert_eq!(
            s.sources.iter().map(|s| &s.name).collect::<Vec<_>>(),
            ["hf"]
        );
        let bio = s.view("bio").unwrap();
        assert_eq!(bio.newsletter.name, "Genomics daily");
        assert_eq!(
            bio.newsletter.from.email.to_string(),
            "ml@example.org",
            "inherited"
        );
        assert_eq!(
            bio.newsletter.timezone,
            chrono_tz::Europe::Berlin,
            "inherited"
        );
        assert_eq!(
            bio.newsletter.base_url.as_str(),
            "https://papers.example.org/n/bio/"
        );
        assert_eq!(
            bio.sources.iter().map(|s| &s.name).collect::<Vec<_>>(),
            ["bio"]
        );
        assert_eq!(bio.schedule.send, "0 7 * * MON-FRI");
        assert_eq!(s.schedule.send, ScheduleSettings::default().send);
        assert_eq!(bio.render.abstract_mode, AbstractMode::Full);
        assert_ne!(bio.message_settings().list_id, s.message_settings().list_id);
        let plan = bio.plan_settings();
        assert_eq!(
            plan.default_topics.unwrap().to_string(),
            "\"genome assembly\""
        );
        assert_eq!(s.with_all_sources().sources.len(), 2);
        let err = s.view("physics").unwrap_err().to_string();
        assert!(err.contains("slugs: ml, bio"), "{err}");
    }

    #[test]
    fn bad_newsletter_tables_name_the_table_key_and_line() {
        let one =
            "[newsletter]\nbase_url = \"https://p.example.org/\"\nfrom = \"p <p@example.org>\"\n";
        let cases = [
            (format!("{one}\n{TWO}{SOURCES}"), "not both"),
            (
                String::from("[store]\npath = \"x\"\n"),
                "no [newsletter] table",
            ),
            (
                TWO.replace("slug = \"bio\"\n", "") + SOURCES,
                "config.toml:9: `newsletters.slug`: is required",
            ),
            (
                TWO.replace("slug = \"bio\"", "slug = \"ml\"") + SOURCES,
                "config.toml:10: `newsletters.slug`: two newsletters have the slug `ml`",
            ),
            (
                TWO.replace("slug = \"bio\"", "slug = \"Bio Daily\"") + SOURCES,
                "cannot be a slug",
            ),
            (
                TWO.replace("sources = [\"bio\"]", "sources = [\"biorxiv\"]") + SOURCES,
                "config.toml:12: `newsletters.sources`: there is no [[sources]] table named `biorxiv`",
            ),
            (
                TWO.replace("name = \"Genomics daily\"", "name = \"ML weekly\"") + SOURCES,
                "would share the List-Id",
            ),
            (
                TWO.replace("base_url = \"https://papers.example.org/\"\n", "") + SOURCES,
                "`newsletters.base_url`: is required",
            ),
            (
                TWO.replace("genome assembly", "cat:") + SOURCES,
                "`newsletters.default_topics`",
            ),
            (
                TWO.replace("0 7 * * MON-FRI", "0 25 * * MON") + SOURCES,
                "`newsletters.schedule.send`",
            ),
            (
                TWO.replace("name = \"Genomics daily\"", "name = \"Gen\\u000Domics\"") + SOURCES,
                "config.toml:11: `newsletters.name`: must not contain control characters",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        }
    }

    #[test]
    fn a_newsletter_takes_the_papers_its_sources_saw() {
        let s = parse(&format!("{TWO}{SOURCES}")).unwrap();
        let plan = s.plan_settings();
        let mut p = crate::domain::Paper::default();
        assert!(plan.takes(&p), "no source recorded: every newsletter's");
        p.sources.insert("bio".into());
        assert!(!plan.takes(&p));
        p.sources.insert("hf".into());
        assert!(plan.takes(&p));
        assert!(
            s.with_all_sources()
                .view("ml")
                .unwrap()
                .plan_settings()
                .takes(&p)
        );
    }
}
