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
        self.validate_text(&invalid)?;
        self.validate_ranges(&invalid)?;
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
        if let Some(folder) = &self.selection.model
            && let Err(e) = crate::embed::Embedder::load(&self.resolve(folder))
        {
            return Err(invalid("selection", None, "model", e.to_string()));
        }
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
        if let Some(b) = &d.bounce_address
            && b.user().contains('+')
        {
            return Err(invalid(
                "delivery",
                None,
                "bounce_address",
                "must not contain `+`: paperpost adds `+TOKEN` to it for each message".into(),
            ));
        }
        let g = &d.guard;
        for (key, rate) in [
            ("complaint_rate", g.complaint_rate),
            ("hard_bounce_rate", g.hard_bounce_rate),
        ] {
            if !(rate > 0.0 && rate < 1.0) {
                return Err(invalid(
                    "delivery.guard",
                    None,
                    key,
                    format!(
                        "must be a fraction between 0 and 1, e.g. 0.003 for 0.3 % (it is {rate})"
                    ),
                ));
            }
        }
        if let Some(w) = &g.warmup {
            if w.start == 0 || w.start > 10_000_000 {
                return Err(invalid(
                    "delivery.guard",
                    None,
                    "warmup",
                    format!("start must be between 1 and 10000000 (it is {})", w.start),
                ));
            }
            if !(w.growth >= 1.0 && w.growth <= 10.0) {
                return Err(invalid(
                    "delivery.guard",
                    None,
                    "warmup",
                    format!(
                        "growth must be between 1 and 10, e.g. 1.5 for half as many again each \
                         day (it is {})",
                        w.growth
                    ),
                ));
            }
        }
        let b = &self.bounces;
        if b.soft_limit == 0 || b.soft_limit > 100 {
            return Err(invalid(
                "bounces",
                None,
                "soft_limit",
                "must be between 1 and 100".into(),
            ));
        }
        if b.soft_window_days == 0 || b.soft_window_days > 365 {
            return Err(invalid(
                "bounces",
                None,
                "soft_window_days",
                "must be between 1 and 365".into(),
            ));
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
            // Whether the variable is set is checked only by the commands that talk SMTP
            // (`Settings::transport`): listing readers must not need the password.
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
        let n = &self.newsletter;
        clean("newsletter", None, "name", &n.name)?;
        if let Some(name) = &n.from.name {
            clean("newsletter", None, "from", name)?;
        }
        if let Some(name) = n.reply_to.as_ref().and_then(|m| m.name.as_ref()) {
            clean("newsletter", None, "reply_to", name)?;
        }
        for (key, value) in [
            ("list_id", &n.list_id),
            ("message_id_domain", &n.message_id_domain),
        ] {
            let Some(value) = value else { continue };
            clean("newsletter", None, key, value)?;
            if value.trim().is_empty()
                || value.contains(|c: char| c.is_whitespace() || "<>@\"".contains(c))
            {
                return Err(invalid(
                    "newsletter",
                    None,
                    key,
                    "must be one word of letters, digits, dots and dashes, like papers.example.org"
                        .into(),
                ));
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
        let f = &self.fetch;
        range("fetch", None, "timeout_secs", f.timeout_secs, 1, 3600)?;
        range("fetch", None, "retries", f.retries.into(), 0, 20)?;
        range("fetch", None, "backoff_ms", f.backoff_ms, 0, 3_600_000)?;
        range(
            "fetch",
            None,
            "max_body_bytes",
            f.max_body_bytes,
            MIN_BODY_BYTES,
            MAX_BODY_BYTES,
        )?;
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
        let d = &self.delivery;
        range(
            "delivery",
            None,
            "max_attempts",
            d.max_attempts.into(),
            1,
            100,
        )?;
        range(
            "delivery",
            None,
            "max_messages_per_connection",
            d.max_messages_per_connection as u64,
            1,
            1_000_000,
        )?;
        range("delivery", None, "lease_secs", d.lease_secs, 2, 24 * 3600)?;
        range(
            "delivery.guard",
            None,
            "window_days",
            d.guard.window_days.into(),
            1,
            365,
        )?;
        range(
            "delivery.guard",
            None,
            "min_sample",
            d.guard.min_sample,
            1,
            100_000_000,
        )?;
        for (i, r) in d.relays.iter().enumerate() {
            if !(r.timeout_secs > 0.0 && r.timeout_secs <= 3600.0) {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "timeout_secs",
                    "must be a positive number of seconds, at most 3600".into(),
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
