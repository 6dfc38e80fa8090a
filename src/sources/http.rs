//! The one HTTP client every source uses: timeouts, a User-Agent naming paperpost, retries
//! with exponential backoff, conditional GET (ETag / Last-Modified) remembered per URL, and
//! redirects followed here, hop by hop, only where the source's [`RedirectPolicy`] allows.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{
    ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RETRY_AFTER,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::config::SourceConfig;
use super::redirect::RedirectPolicy;

/// How the [`Fetcher`] behaves. [`FetchOptions::new`] gives the production defaults.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// `paperpost/<version> (+<contact url>)`; see [`user_agent`].
    pub user_agent: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt (5xx, 429, connection errors).
    pub max_retries: u32,
    /// First backoff; doubled at each retry.
    pub backoff_base: Duration,
    /// Upper bound for a server's `Retry-After` and for any one backoff.
    pub max_wait: Duration,
    /// Largest body read from one response, success or error; a longer one fails the GET
    /// as soon as the limit is passed (the rest is never read). Sources may lower or raise
    /// it ([`Fetcher::for_source`]).
    pub max_body_bytes: u64,
}

/// The default of `[fetch] max_body_bytes`: 50 MiB, far above any real feed page (an arXiv
/// API page of 2000 entries is about 6 MB).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 50 * 1024 * 1024;

/// How much of an error response's body is kept (and read).
const ERROR_BODY_BYTES: u64 = 64 * 1024;

/// Redirects followed for one GET; one more is an error (real feeds use one or two).
pub const MAX_REDIRECTS: usize = 10;

impl FetchOptions {
    pub fn new(user_agent: String) -> FetchOptions {
        FetchOptions {
            user_agent,
            timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff_base: Duration::from_secs(2),
            max_wait: Duration::from_secs(60),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// The User-Agent the providers ask for: who we are and where to reach the operator.
pub fn user_agent(contact_url: &str) -> String {
    format!("paperpost/{} (+{})", env!("CARGO_PKG_VERSION"), contact_url)
}

/// What a server said a document's version is, sent back on the next request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The result of a successful GET.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    Body(String),
    /// 304: the document did not change since the validators were recorded.
    NotModified,
}

/// A GET that failed for good. Display names the URL and the status.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("GET {url}: HTTP {status} after {attempts} attempts")]
    GaveUp {
        url: String,
        status: u16,
        attempts: u32,
    },
    /// A 4xx other than 429: not retried. `body` is kept (cut to 64 KiB) because some
    /// APIs explain the refusal there (the arXiv API answers 400 with an Atom entry).
    #[error("GET {url}: HTTP {status}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("GET {url}: {message} after {attempts} attempts")]
    Transport {
        url: String,
        message: String,
        attempts: u32,
    },
    #[error("GET {url}: {message}")]
    Invalid { url: String, message: String },
    /// A redirect that is not followed: off the source's host and not listed in its
    /// `allow_redirect_hosts`, a loop, one hop too many, or a `Location` that is no URL.
    /// Never retried: asking again gets the same answer. `location` is the target as
    /// resolved against the URL that answered (as sent when it does not resolve).
    #[error("GET {url}: redirect to {location} refused: {reason}")]
    Redirect {
        url: String,
        location: String,
        reason: String,
    },
    /// The body passed `max_body_bytes`; reading stopped there.
    #[error(
        "GET {url}: HTTP {status}: the body is larger than the limit of {limit} bytes (max_body_bytes); reading stopped there"
    )]
    TooLarge {
        url: String,
        status: u16,
        limit: u64,
    },
}

/// A cheap-to-clone HTTP client. Clones share the connection pool and the validators.
#[derive(Debug, Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
    /// This handle's body limit (see [`FetchOptions::max_body_bytes`]).
    max_body_bytes: u64,
    /// Where this handle's GETs may be redirected (by default: their own origin only).
    redirects: Arc<RedirectPolicy>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    options: FetchOptions,
    validators: Mutex<HashMap<String, Validators>>,
}

impl Fetcher {
    pub fn new(options: FetchOptions) -> Result<Fetcher, String> {
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .timeout(options.timeout)
            // Followed in `follow`, where each hop is checked against the source's policy.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Fetcher {
            max_body_bytes: options.max_body_bytes,
            redirects: Arc::default(),
            inner: Arc::new(Inner {
                client,
                options,
                validators: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The same client (pool and validators shared) with `source`'s own body limit, if it
    /// sets one, and its redirect policy.
    pub fn for_source(&self, source: &SourceConfig) -> Fetcher {
        Fetcher {
            max_body_bytes: source.max_body_bytes.unwrap_or(self.max_body_bytes),
            redirects: Arc::new(source.redirect_policy()),
            inner: self.inner.clone(),
        }
    }

    /// The body limit of this handle.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }

    /// Seeds the validators (as the store kept them from the last run).
    pub fn with_validators(self, seed: Vec<(String, Validators)>) -> Fetcher {
        self.lock().extend(seed);
        self
    }

    /// Every URL's validators, for the store to persist.
    pub fn validators(&self) -> Vec<(String, Validators)> {
        let mut all: Vec<_> = self
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Drops what is known about `url`, so the next GET fetches it in full. Sources call it
    /// when a document they received could not be used (so a 304 does not hide it forever).
    pub fn forget(&self, url: &str) {
        self.lock().remove(url);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Validators>> {
        self.inner
            .validators
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// GETs `url`, retrying transient failures, sending the validators we hold for it.
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        let opts = &self.inner.options;
        let attempts = opts.max_retries + 1;
        let known = self.lock().get(url).cloned();
        let mut attempt = 0;
        let start = Url::parse(url).map_err(|e| FetchError::Invalid {
            url: url.to_string(),
            message: format!("not a URL: {e}"),
        })?;
        loop {
            attempt += 1;
            tracing::debug!(url, attempt, "GET");
            let wait = match self.follow(&start, known.as_ref()).await {
                Err(Hop::Refused(e)) => return Err(e),
                Ok(resp) => {
                    let status = resp.status();
                    if status == StatusCode::NOT_MODIFIED {
                        tracing::debug!(url, "not modified");
                        return Ok(Fetched::NotModified);
                    }
                    if status.is_success() {
                        let headers = resp.headers().clone();
                        // A declared length over the limit fails before any byte is read.
                        let declared = resp.content_length().unwrap_or(0);
                        let read = if declared > self.max_body_bytes {
                            Ok(Body::Cut(Vec::new()))
                        } else {
                            read_body(resp, self.max_body_bytes).await
                        };
                        let body = match read {
                            Ok(Body::Whole(b)) => b,
                            Ok(Body::Cut(_)) => {
                                return Err(FetchError::TooLarge {
                                    url: url.to_string(),
                                    status: status.as_u16(),
                                    limit: self.max_body_bytes,
                                });
                            }
                            Err(e) => {
                                return Err(FetchError::Transport {
                                    url: url.to_string(),
                                    message: format!("reading the body: {}", error_chain(&e)),
                                    attempts: attempt,
                                });
                            }
                        };
                        self.remember(url, &headers);
                        return Ok(Fetched::Body(String::from_utf8_lossy(&body).into_owned()));
                    }
                    let retryable =
                        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    if !retryable {
                        // Only the start of an error body is read: an endless one must not
                        // be buffered before it is cut.
                        let limit = ERROR_BODY_BYTES.min(self.max_body_bytes);
                        let body = match read_body(resp, limit).await {
                            Ok(Body::Whole(b) | Body::Cut(b)) => b,
                            Err(_) => Vec::new(),
                        };
                        let mut body = String::from_utf8_lossy(&body).into_owned();
                        cut(&mut body, limit as usize);
                        return Err(FetchError::Status {
                            url: url.to_string(),
                            status: status.as_u16(),
                            body,
                        });
                    }
                    if attempt >= attempts {
                        return Err(FetchError::GaveUp {
                            url: url.to_string(),
                            status: status.as_u16(),
                            attempts: attempt,
                        });
                    }
                    let retry_after = retry_after(resp.headers());
                    tracing::warn!(url, status = status.as_u16(), attempt, "retrying");
                    retry_after.unwrap_or_else(|| self.backoff(attempt))
                }
                Err(Hop::Failed(e)) if e.is_builder() => {
                    return Err(FetchError::Invalid {
                        url: url.to_string(),
                        message: e.to_string(),
                    });
                }
                Err(Hop::Failed(e)) => {
                    if attempt >= attempts {
                        return Err(FetchError::Transport {
                            url: url.to_string(),
                            message: error_chain(&e),
                            attempts: attempt,
                        });
                    }
                    tracing::warn!(url, attempt, error = %e, "retrying");
                    self.backoff(attempt)
                }
            };
            tokio::time::sleep(wait.min(opts.max_wait)).await;
        }
    }

    /// GETs `start` and follows its redirects (301, 302, 303, 307, 308) as far as the
    /// policy allows: the answer that is not a redirect, or why the chain stops. Each hop
    /// carries the validators held for `start`, as the redirect of a conditional GET should.
    async fn follow(
        &self,
        start: &Url,
        known: Option<&Validators>,
    ) -> Result<reqwest::Response, Hop> {
        let mut visited = vec![start.clone()];
        loop {
            let here = visited.last().expect("the start is visited");
            let mut req = self.inner.client.get(here.clone());
            if let Some(v) = known {
                if let Some(etag) = &v.etag {
                    req = req.header(IF_NONE_MATCH, etag);
                }
                if let Some(lm) = &v.last_modified {
                    req = req.header(IF_MODIFIED_SINCE, lm);
                }
            }
            let resp = req.send().await.map_err(Hop::Failed)?;
            let redirect = matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308);
            let Some(location) = resp.headers().get(LOCATION).filter(|_| redirect) else {
                return Ok(resp);
            };
            let sent = String::from_utf8_lossy(location.as_bytes()).into_owned();
            let refuse = |location: String, reason: String| {
                Hop::Refused(FetchError::Redirect {
                    url: start.to_string(),
                    location,
                    reason,
                })
            };
            let target = here
                .join(sent.trim())
                .map_err(|e| refuse(sent.clone(), format!("the Location is not a URL ({e})")))?;
            let shown = target.to_string();
            self.redirects
                .check(start, &target)
                .map_err(|why| refuse(shown.clone(), why))?;
            if visited.contains(&target) {
                let chain: Vec<&str> = visited.iter().map(Url::as_str).collect();
                let why = format!("a redirect loop ({} → {shown})", chain.join(" → "));
                return Err(refuse(shown, why));
            }
            if visited.len() > MAX_REDIRECTS {
                let why = format!("more than {MAX_REDIRECTS} redirects");
                return Err(refuse(shown, why));
            }
            tracing::debug!(from = %here, to = %target, "following a redirect");
            visited.push(target);
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.inner.options.backoff_base.saturating_mul(factor)
    }

    fn remember(&self, url: &str, headers: &HeaderMap) {
        let get = |name| {
            headers
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let v = Validators {
            etag: get(ETAG),
            last_modified: get(LAST_MODIFIED),
        };
        let mut map = self.lock();
        if v.etag.is_some() || v.last_modified.is_some() {
            map.insert(url.to_string(), v);
        } else {
            map.remove(url);
        }
    }
}

/// Why [`Fetcher::follow`] returned no response.
enum Hop {
    /// The request failed (connection, timeout…): retried like any transport error.
    Failed(reqwest::Error),
    /// A redirect that is not followed: final.
    Refused(FetchError),
}

/// A body read up to a limit.
enum Body {
    Whole(Vec<u8>),
    /// The first `limit` bytes of a longer body; the rest was not read.
    Cut(Vec<u8>),
}

/// Reads `resp`'s body chunk by chunk, stopping as soon as it passes `limit` bytes, so an
/// endless or huge body never takes more than `limit` (plus one chunk) of memory.
async fn read_body(mut resp: reqwest::Response, limit: u64) -> Result<Body, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit.saturating_sub(body.len() as u64) as usize;
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok(Body::Cut(body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Body::Whole(body))
}

/// `Retry-After` in seconds (the HTTP-date form is rare for these APIs and is ignored).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

fn cut(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_agent_names_paperpost_and_the_contact() {
        let ua = user_agent("https://example.org/about");
        assert!(ua.starts_with("paperpost/"), "{ua}");
        assert!(ua.ends_with("(+https://example.org/about)"), "{ua}");
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn validators_round_trip_through_seed_and_export() {
        let f = Fetcher::new(FetchOptions::new("paperpost/test".into()))
            .unwrap()
            .with_validators(vec![(
                "http://x/a".into(),
                Validators {
                    etag: Some("\"1\"".into()),
                    last_modified: None,
                },
            )]);
        assert_eq!(f.validators().len(), 1);
        f.forget("http://x/a");
        assert!(f.validators().is_empty());
    }
}
