//! Whether an operator's POST came from a page of this site: its `Origin` header must be the
//! origin of `newsletter.base_url`; without `Origin` its `Referer` must be on that origin;
//! without either it is refused. Browsers send `Origin` on every POST of a form, so a page
//! elsewhere cannot post as the operator even with the session cookie (`SameSite=Strict`
//! already keeps that cookie off cross-site requests: this is the second lock). Operator
//! pages are served with `Referrer-Policy: same-origin`: under the site's usual
//! `no-referrer`, a browser sends `Origin: null` for the forms of the page itself.
//!
//! One more origin passes, for an operator who reaches the server directly on loopback
//! (`ssh -L`, `status_loopback`): when the peer is 127.0.0.1 or ::1 and the `Host` is a
//! loopback name (`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`), `http://` + that
//! `Host`. A page elsewhere cannot have that origin, and DNS rebinding cannot make a
//! browser send such a `Host` for another name.
use axum::http::{HeaderMap, header};
use url::Url;

/// Whether `headers` show a POST made by a page on `site` (or, for a loopback peer, on the
/// loopback address it connected to).
pub(crate) fn same_origin(headers: &HeaderMap, site: &Url, loopback_peer: bool) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let claimed = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return false,
    };
    let Ok(claimed) = Url::parse(claimed.trim()) else {
        return false;
    };
    let claimed = claimed.origin();
    if !claimed.is_tuple() {
        return false; // `Origin: null`, `data:`, `file:`
    }
    if claimed == site.origin() {
        return true;
    }
    loopback_peer
        && text(header::HOST)
            .filter(|host| is_loopback_host(host))
            .and_then(|host| Url::parse(&format!("http://{host}/")).ok())
            .is_some_and(|own| own.origin() == claimed)
}

/// `127.0.0.1`, `[::1]` or `localhost`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "127.0.0.1" | "[::1]" | "localhost"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn only_the_sites_own_origin_passes() {
        let site = Url::parse("https://papers.example.org/news/").unwrap();
        type Headers<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Headers<'_>, bool, &str); 12] = [
            (
                &[("origin", "https://papers.example.org")],
                true,
                "the origin",
            ),
            (
                &[("origin", "https://papers.example.org:443")],
                true,
                "the default port spelled out",
            ),
            (&[("origin", "https://evil.example")], false, "another site"),
            (
                &[("origin", "http://papers.example.org")],
                false,
                "another scheme",
            ),
            (
                &[("origin", "https://papers.example.org:8443")],
                false,
                "another port",
            ),
            (
                &[("origin", "https://papers.example.org.evil.example")],
                false,
                "a longer host",
            ),
            (&[("origin", "null")], false, "an opaque origin"),
            (
                &[(
                    "referer",
                    "https://papers.example.org/news/status?edition=2026-W48",
                )],
                true,
                "no Origin: the Referer on the site",
            ),
            (
                &[("referer", "https://evil.example/papers.example.org")],
                false,
                "a Referer elsewhere",
            ),
            (
                &[
                    ("origin", "https://evil.example"),
                    ("referer", "https://papers.example.org/"),
                ],
                false,
                "Origin wins over Referer",
            ),
            (&[], false, "neither header"),
            (&[("origin", "not a url")], false, "garbage"),
        ];
        for (pairs, want, why) in cases {
            assert_eq!(same_origin(&headers(pairs), &site, false), want, "{why}");
        }
    }

    #[test]
    fn a_loopback_peer_may_post_from_the_loopback_address_it_connected_to() {
        let site = Url::parse("https://papers.example.org/").unwrap();
        let ok = [
            ("127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("localhost:9000", "http://localhost:9000"),
            ("[::1]:8080", "http://[::1]:8080"),
        ];
        for (host, origin) in ok {
            let h = headers(&[("host", host), ("origin", origin)]);
            assert!(same_origin(&h, &site, true), "{host}");
            assert!(
                !same_origin(&h, &site, false),
                "{host}: only for a loopback peer"
            );
        }
        let refused = [
            (
                "127.0.0.1:8080",
                "http://127.0.0.1:3000",
                "another local port",
            ),
            (
                "evil.example:8080",
                "http://evil.example:8080",
                "a rebound name",
            ),
            ("127.0.0.1:8080", "https://127.0.0.1:8080", "another scheme"),
        ];
        for (host, origin, why) in refused {
            let h = headers(&[("host", host), ("origin", origin)]);
            assert!(!same_origin(&h, &site, true), "{why}");
        }
    }
}
