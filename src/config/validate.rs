//! Checks that span fields, run once at load; each error names the key and its line.
use std::path::Path;

use super::build::load_dkim_key;
use super::*;

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
        if self.newsletter.name.trim().is_empty() {
            return Err(invalid(
                "newsletter",
                None,
                "name",
                "must not be empty".into(),
            ));
        }
        if self.selection.max_papers == 0 || self.selection.max_papers > 200 {
            return Err(invalid(
                "selection",
                None,
                "max_papers",
                "must be between 1 and 200".into(),
            ));
        }
        if self.selection.window_days == 0 || self.selection.window_days > 366 {
            return Err(invalid(
                "selection",
                None,
                "window_days",
                "must be between 1 and 366".into(),
            ));
        }
        if let Err((key, message)) = self.selection.ranking.check() {
            return Err(invalid("selection.ranking", None, key, message));
        }
        let mut names = std::collections::HashSet::new();
        for (i, src) in self.sources.iter().enumerate() {
            if let Err(m) = src.validate() {
                return Err(invalid("sources", Some(i), "name", m));
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
        let d = &self.delivery;
        if d.transport == TransportKind::Smtp && d.relays.is_empty() {
            return Err(invalid(
                "delivery",
                None,
                "transport",
                "is \"smtp\" but no [[delivery.relays]] is configured".into(),
            ));
        }
        if d.connections == 0 || d.connections > 64 {
            return Err(invalid(
                "delivery",
                None,
                "connections",
                "must be between 1 and 64".into(),
            ));
        }
        if d.max_attempts == 0 {
            return Err(invalid(
                "delivery",
                None,
                "max_attempts",
                "must be at least 1".into(),
            ));
        }
        if !(d.rate_limit >= 0.0 && d.rate_limit.is_finite()) {
            return Err(invalid(
                "delivery",
                None,
                "rate_limit",
                "must be 0 (unlimited) or a positive number".into(),
            ));
        }
        let non_negative = |key: &str, v: f64| {
            if v >= 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(invalid(
                    "delivery",
                    None,
                    key,
                    "must be a number of at least 0".into(),
                ))
            }
        };
        non_negative("retry_base_secs", d.retry_base_secs)?;
        non_negative("retry_max_secs", d.retry_max_secs)?;
        non_negative("slow_down_secs", d.slow_down_secs)?;
        if !(d.max_age_hours > 0.0 && d.max_age_hours.is_finite()) {
            return Err(invalid(
                "delivery",
                None,
                "max_age_hours",
                "must be a positive number of hours".into(),
            ));
        }
        if d.lease_secs < 2 {
            return Err(invalid(
                "delivery",
                None,
                "lease_secs",
                "must be at least 2 (the lease is renewed every third of it)".into(),
            ));
        }
        if let Some(dkim) = &d.dkim {
            let key = |k: &str, m: String| invalid("delivery.dkim", None, k, m);
            if dkim.selector.trim().is_empty() || dkim.selector.contains(char::is_whitespace) {
                return Err(key(
                    "selector",
                    "must be one word, e.g. \"mail2026\"".into(),
                ));
            }
            if dkim.domain.trim().is_empty() || !dkim.domain.contains('.') {
                return Err(key(
                    "domain",
                    "must be a domain like \"example.org\"".into(),
                ));
            }
            if let Err(m) = load_dkim_key(&self.resolve(&dkim.key_file), dkim.algorithm) {
                return Err(key("key_file", m));
            }
        }
        if let Err((key, message)) = self.schedule.validate() {
            return Err(invalid("schedule", None, key, message));
        }
        for (i, r) in d.relays.iter().enumerate() {
            if !(r.timeout_secs > 0.0 && r.timeout_secs.is_finite()) {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "timeout_secs",
                    "must be a positive number of seconds".into(),
                ));
            }
            if r.host.trim().is_empty() {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "host",
                    "must not be empty".into(),
                ));
            }
            if r.username.is_some() != r.password_env.is_some() {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "username",
                    "username and password_env must be set together".into(),
                ));
            }
            if let Some(var) = &r.password_env
                && std::env::var_os(var).is_none()
            {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "password_env",
                    format!("environment variable {var} is not set"),
                ));
            }
        }
        Ok(())
    }
}

/// The 1-based line of `key` in `[section]` (or the `index`-th `[[section]]`), else of the
/// section header, else 1.
fn find_key_line(text: &str, section: &str, index: Option<usize>, key: &str) -> usize {
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
