//! Checks that span fields, run once at load; each error names the key and its line.
use std::path::Path;

use super::build::load_dkim_key;
use super::*;
use crate::domain::BadSetting;

impl Settings {
    pub(super) fn validate(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let invalid = |section: &str, index: Option<usize>, key: &str, message: String| {
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: find_key_line(text, section, index, key),
                key: if section.is_empty() {
                    key.to_string()
                } else {
                    format!("{section}.{key}")
                },
                message,
            }
        };
        self.validate_text(&invalid)?;
        self.validate_ranges(&invalid)?;
        for (section, index, n) in self.newsletter_tables() {
            if n.name.trim().is_empty() {
                return Err(invalid(section, index, "name", "must not be empty".into()));
            }
        }
        let bad = |b: BadSetting| invalid(b.section, b.index, b.key, b.message);
        self.fetch.check().map_err(bad)?;
        self.selection.check(|p| self.resolve(p)).map_err(bad)?;
        self.delivery.check().map_err(bad)?;
        self.bounces.check().map_err(bad)?;
        let mut names = std::collections::HashSet::new();
        for (i, src) in self.sources.iter().enumerate() {
            if let Err(m) = src.validate() {
                return Err(invalid("sources", Some(i), "name", m));
            }
            if let Err(m) = src.check_redirect_hosts() {
                return Err(invalid("sources", Some(i), "allow_redirect_hosts", m));
            }
            if !names.insert(src.name.as_str()) {
                return Err(invalid(
                    "sources",
                    Some(i),
                    "name",
                    format!("source name `{}` is used twice", src.name),
                ));
            }
        }
        // The DKIM key is read here, where paths are resolved against the config's folder.
        if let Some(dkim) = &self.delivery.dkim
            && let Err(m) = load_dkim_key(&self.resolve(&dkim.key_file), dkim.algorithm)
        {
            return Err(invalid("delivery.dkim", None, "key_file", m));
        }
        if let Err((key, message)) = self.shared_schedule().validate() {
            return Err(invalid("schedule", None, key, message));
        }
        // `[store]`'s PostgreSQL keys (issue 10).
        if let Err((key, message)) = self.store.check(&self.base_dir) {
            return Err(invalid("store", None, key, message));
        }
        // The web server's timeouts and connection caps (issue 8).
        if let Err((key, message)) = self.web.validate() {
            return Err(invalid("web", None, key, message));
        }
        Ok(())
    }
}

impl Settings {
    /// Each newsletter with the table it came from: `[newsletter]`, or `[[newsletters]]` #i.
    fn newsletter_tables(
        &self,
    ) -> impl Iterator<Item = (&'static str, Option<usize>, &NewsletterSettings)> {
        let several = self.newsletter_tables_are_several();
        self.newsletters.iter().enumerate().map(move |(i, n)| {
            if several {
                ("newsletters", Some(i), n)
            } else {
                ("newsletter", None, n)
            }
        })
    }
}

/// Builds the error for (section, `[[section]]` index, key, message).
type Invalid<'a> = dyn Fn(&str, Option<usize>, &str, String) -> ConfigError + 'a;

impl Settings {
    /// Strings that end up in mail headers, SMTP commands or page titles carry no control
    /// characters: a CR/LF in `name` or `list_id` would inject a header into every digest.
    fn validate_text(&self, invalid: &Invalid<'_>) -> Result<(), ConfigError> {
        let clean = |section: &str, index: Option<usize>, key: &str, value: &str| match value
            .chars()
            .find(|c| c.is_control())
        {
            None => Ok(()),
            Some(c) => Err(invalid(
                section,
                index,
                key,
                format!("must not contain control characters (found {c:?})"),
            )),
        };
        for (section, index, n) in self.newsletter_tables() {
            clean(section, index, "name", &n.name)?;
            if let Some(name) = &n.from.name {
                clean(section, index, "from", name)?;
            }
            if let Some(name) = n.reply_to.as_ref().and_then(|m| m.name.as_ref()) {
                clean(section, index, "reply_to", name)?;
            }
            for (key, value) in [
                ("list_id", &n.list_id),
                ("message_id_domain", &n.message_id_domain),
            ] {
                let Some(value) = value else { continue };
                clean(section, index, key, value)?;
                if value.trim().is_empty()
                    || value.contains(|c: char| c.is_whitespace() || "<>@\"".contains(c))
                {
                    return Err(invalid(
                        section,
                        index,
                        key,
                        "must be one word of letters, digits, dots and dashes, like \
                         papers.example.org"
                            .into(),
                    ));
                }
            }
        }
        for (i, r) in self.delivery.relays.iter().enumerate() {
            let idx = Some(i);
            clean("delivery.relays", idx, "host", &r.host)?;
            for (key, value) in [
                ("name", &r.name),
                ("username", &r.username),
                ("password_env", &r.password_env),
                ("hello_name", &r.hello_name),
            ] {
                if let Some(v) = value {
                    clean("delivery.relays", idx, key, v)?;
                }
            }
        }
        if let Some(dkim) = &self.delivery.dkim {
            clean("delivery.dkim", None, "selector", &dkim.selector)?;
            clean("delivery.dkim", None, "domain", &dkim.domain)?;
        }
        for (i, src) in self.sources.iter().enumerate() {
            clean("sources", Some(i), "name", &src.name)?;
        }
        Ok(())
    }

    /// Numbers in ranges that make sense (0 where 0 means nothing works, or values so big
    /// they overflow a timer or keep a link alive for centuries).
    fn validate_ranges(&self, invalid: &Invalid<'_>) -> Result<(), ConfigError> {
        use crate::sources::config::{MAX_BODY_BYTES, MIN_BODY_BYTES};
        let range = |section: &str, index: Option<usize>, key: &str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(invalid(
                    section,
                    index,
                    key,
                    format!("must be between {lo} and {hi} (it is {v})"),
                ))
            }
        };
        for (i, src) in self.sources.iter().enumerate() {
            if let Some(n) = src.max_body_bytes {
                range(
                    "sources",
                    Some(i),
                    "max_body_bytes",
                    n,
                    MIN_BODY_BYTES,
                    MAX_BODY_BYTES,
                )?;
            }
        }
        let w = &self.web;
        range(
            "web",
            None,
            "confirm_ttl_hours",
            w.confirm_ttl_hours.into(),
            1,
            24 * 30,
        )?;
        range(
            "web",
            None,
            "max_body_bytes",
            w.max_body_bytes as u64,
            1024,
            16 * 1024 * 1024,
        )?;
        range(
            "web",
            None,
            "max_upload_bytes",
            w.max_upload_bytes as u64,
            1024,
            crate::library::MAX_LIBRARY_BYTES as u64,
        )?;
        Ok(())
    }
}

/// The 1-based line of `key` in `[section]` (or the `index`-th `[[section]]`), else of the
/// section header, else 1.
pub(super) fn find_key_line(text: &str, section: &str, index: Option<usize>, key: &str) -> usize {
    let mut in_section = section.is_empty();
    let mut seen = 0usize;
    let mut section_line = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim();
            in_section = false;
            if name == section {
                let wanted = index.is_none_or(|n| n == seen);
                if t.starts_with("[[") {
                    seen += 1;
                }
                if wanted {
                    in_section = true;
                    section_line.get_or_insert(i + 1);
                }
            }
            continue;
        }
        if in_section
            && let Some((k, _)) = t.split_once('=')
            && k.trim() == key
        {
            return i + 1;
        }
    }
    section_line.unwrap_or(1)
}
