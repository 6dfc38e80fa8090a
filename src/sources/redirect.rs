//! Where a source's fetches may be redirected. A feed that answers `302 Location:
//! http://127.0.0.1:6379/…` must not turn paperpost into a client of whatever listens
//! inside the operator's network, so the [`Fetcher`](super::Fetcher) follows a redirect
//! only on the scheme, host and port of the URL the source asked for, or to a target the
//! source lists in `allow_redirect_hosts`. A plain-http target of an https source is a
//! downgrade and needs its own `http://` entry.
//!
//! An entry is `host`, `host:port`, `https://host[:port]` or `http://host[:port]`:
//! - no scheme: https (or http when the source itself is http, which is no downgrade), on
//!   the given port or else the scheme's default one;
//! - a scheme: that scheme only, on the given port or else its default one.
//!
//! Hosts are compared as the URL standard writes them (lower case, IDNA, IPv6 in brackets);
//! there are no wildcards.
use std::fmt;

use serde::Deserialize;
use url::{Host, Url};

/// One `allow_redirect_hosts` entry, parsed at load.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RedirectHost {
    /// `None`: https, or http for an http source.
    scheme: Option<Scheme>,
    host: Host<String>,
    /// `None`: the default port of the target's scheme.
    port: Option<u16>,
    /// The entry as written, for messages.
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn of(url: &Url) -> Option<Scheme> {
        match url.scheme() {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }
}

impl TryFrom<String> for RedirectHost {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        RedirectHost::parse(&text).map_err(|why| {
            format!(
                "allow_redirect_hosts: `{text}` {why}; write host, host:port or \
                 https://host[:port] (http://host[:port] to allow plain http)"
            )
        })
    }
}

impl RedirectHost {
    fn parse(text: &str) -> Result<RedirectHost, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("is empty".into());
        }
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((s, rest)) => match s.to_ascii_lowercase().as_str() {
                "http" => (Some(Scheme::Http), rest),
                "https" => (Some(Scheme::Https), rest),
                _ => return Err(format!("has the scheme `{s}`: only http and https")),
            },
            None => (None, trimmed),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@', '*']) || rest.chars().any(char::is_whitespace) {
            return Err("is not a host (no path, user, wildcard or spaces)".into());
        }
        let (host, port) = split_port(rest)?;
        let host = Host::parse(host).map_err(|e| format!("has no valid host ({e})"))?;
        Ok(RedirectHost {
            scheme,
            host,
            port,
            text: trimmed.to_string(),
        })
    }

    /// Whether this entry lets a source at `origin` be redirected to `target`.
    fn allows(&self, origin: &Url, target: &Url) -> bool {
        let Some(to) = Scheme::of(target) else {
            return false;
        };
        let scheme_ok = match self.scheme {
            Some(s) => s == to,
            None => to == Scheme::Https || Scheme::of(origin) == Some(Scheme::Http),
        };
        let default_port = match to {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        scheme_ok
            && target.host().map(|h| h.to_owned()).as_ref() == Some(&self.host)
            && target.port_or_known_default() == Some(self.port.unwrap_or(default_port))
    }
}

impl fmt::Display for RedirectHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `host` or `host:port` (an IPv6 host in brackets).
fn split_port(s: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if s.starts_with('[') {
        match s.find(']') {
            Some(end) => (&s[..=end], s[end + 1..].strip_prefix(':')),
            None => return Err("has an unclosed `[`".into()),
        }
    } else if s.matches(':').count() > 1 {
        return Err("is an IPv6 address without brackets ([::1]:8080)".into());
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("has the port `{p}`: a port is 1-65535")),
        },
    };
    Ok((host, port))
}

/// Where one source's fetches may be redirected: its own origin, plus what it lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectPolicy {
    allowed: Vec<RedirectHost>,
}

impl RedirectPolicy {
    pub fn new(allowed: Vec<RedirectHost>) -> RedirectPolicy {
        RedirectPolicy { allowed }
    }

    /// `Ok` when a GET of `origin` may follow a redirect to `target`, else why not (a
    /// sentence naming what would allow it).
    pub fn check(&self, origin: &Url, target: &Url) -> Result<(), String> {
        if Scheme::of(target).is_none() {
            return Err(format!(
                "the scheme `{}` is not fetched (only http and https)",
                target.scheme()
            ));
        }
        let same_origin = origin.scheme() == target.scheme()
            && origin.host() == target.host()
            && origin.port_or_known_default() == target.port_or_known_default();
        if same_origin || self.allowed.iter().any(|a| a.allows(origin, target)) {
            return Ok(());
        }
        let downgrade = origin.scheme() == "https" && target.scheme() == "http";
        let what = match (downgrade, origin.host() == target.host()) {
            (true, true) => "from https to plain http on the source's host".to_string(),
            (downgrade, _) => format!(
                "not on the source's host ({}){}",
                origin.origin().ascii_serialization(),
                if downgrade { ", and plain http" } else { "" }
            ),
        };
        Err(format!(
            "{what}; list \"{}\" in this source's allow_redirect_hosts to follow it",
            listing_for(target)
        ))
    }
}

/// The shortest `allow_redirect_hosts` entry that allows `target`.
fn listing_for(target: &Url) -> String {
    let host = target.host_str().unwrap_or_default();
    let port = target.port().map(|p| format!(":{p}")).unwrap_or_default();
    match target.scheme() {
        "http" => format!("http://{host}{port}"),
        _ => format!("{host}{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn policy(entries: &[&str]) -> RedirectPolicy {
        RedirectPolicy::new(
            entries
                .iter()
                .map(|e| RedirectHost::try_from(e.to_string()).unwrap())
                .collect(),
        )
    }

    #[test]
    fn entries_are_hosts_with_an_optional_scheme_and_port() {
        let good = [
            "export.arxiv.org",
            "Export.ArXiv.org",
            "127.0.0.1:8080",
            "[::1]:8080",
            "[::1]",
            "https://export.arxiv.org",
            "http://mirror.example.org:8080/",
            "bücher.example",
        ];
        for e in good {
            assert!(RedirectHost::try_from(e.to_string()).is_ok(), "{e}");
        }
        let bad = [
            ("", "is empty"),
            ("  ", "is empty"),
            ("ftp://x.org", "only http and https"),
            ("x.org/feed", "not a host"),
            ("user@x.org", "not a host"),
            ("*.arxiv.org", "not a host"),
            ("x.org:0", "1-65535"),
            ("x.org:65536", "1-65535"),
            ("x.org:http", "1-65535"),
            ("::1", "without brackets"),
            ("[::1", "unclosed"),
            ("exa mple.org", "not a host"),
        ];
        for (e, want) in bad {
            let err = RedirectHost::try_from(e.to_string()).unwrap_err();
            assert!(err.contains(want), "{e}: {err}");
            assert!(err.contains("allow_redirect_hosts"), "{e}: {err}");
        }
    }

    #[test]
    fn a_source_stays_on_its_own_scheme_host_and_port() {
        let none = RedirectPolicy::default();
        let origin = url("https://rss.arxiv.org/atom/cs.AI");
        assert!(
            none.check(&origin, &url("https://rss.arxiv.org/v2/cs.AI"))
                .is_ok()
        );
        assert!(
            none.check(&origin, &url("https://RSS.arxiv.org:443/x"))
                .is_ok()
        );
        let refused = [
            ("https://export.arxiv.org/x", "list \"export.arxiv.org\""),
            (
                "https://rss.arxiv.org:8443/x",
                "list \"rss.arxiv.org:8443\"",
            ),
            (
                "http://rss.arxiv.org/x",
                "from https to plain http on the source's host",
            ),
            (
                "http://127.0.0.1:6379/",
                "not on the source's host (https://rss.arxiv.org), and plain http; \
                 list \"http://127.0.0.1:6379\" in this source's allow_redirect_hosts",
            ),
            ("file:///etc/passwd", "only http and https"),
        ];
        for (to, want) in refused {
            let err = none.check(&origin, &url(to)).unwrap_err();
            assert!(err.contains(want), "{to}: {err}");
        }
        // An http source may be sent to https on its own host only when listed.
        let plain = url("http://feeds.example.org/a");
        assert!(
            none.check(&plain, &url("https://feeds.example.org/a"))
                .is_err()
        );
        assert!(
            policy(&["feeds.example.org"])
                .check(&plain, &url("https://feeds.example.org/a"))
                .is_ok()
        );
    }

    #[test]
    fn listed_targets_are_followed_with_their_scheme_and_port() {
        let origin = url("https://rss.arxiv.org/atom");
        let p = policy(&[
            "export.arxiv.org",
            "127.0.0.1:8080",
            "http://mirror.example.org",
        ]);
        let allowed = [
            "https://export.arxiv.org/api",
            "https://EXPORT.arxiv.org:443/api",
            "https://127.0.0.1:8080/x",
            "http://mirror.example.org/x",
            "http://mirror.example.org:80/x",
        ];
        for to in allowed {
            assert!(p.check(&origin, &url(to)).is_ok(), "{to}");
        }
        let refused = [
            // No scheme in the entry: no downgrade from https.
            "http://export.arxiv.org/api",
            "http://127.0.0.1:8080/x",
            // Another port than listed, or the default one when a port is listed.
            "https://export.arxiv.org:8443/api",
            "https://127.0.0.1/x",
            // http:// listed: not https, and only port 80.
            "https://mirror.example.org/x",
            "http://mirror.example.org:8080/x",
            "https://sub.export.arxiv.org/api",
        ];
        for to in refused {
            assert!(p.check(&origin, &url(to)).is_err(), "{to}");
        }
        // From an http source, an entry without a scheme covers plain http too.
        let plain = url("http://127.0.0.1:9000/feed");
        assert!(p.check(&plain, &url("http://127.0.0.1:8080/x")).is_ok());
        // IDNA spellings of one host are one host.
        let idn = policy(&["bücher.example"]);
        assert!(
            idn.check(&origin, &url("https://xn--bcher-kva.example/"))
                .is_ok()
        );
    }
}
