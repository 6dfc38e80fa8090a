//! What keeps `/preview` (a scan of every recent paper, open to anyone) from starving the
//! service: a per-IP rate limit, a short-lived cache of rendered pages keyed by the
//! normalised query, and a cap on scans running at once.
//!
//! Both maps are small and in memory (the limits of the sign-up form are in the store
//! because they must survive restarts; a preview limit need not, and must not write).
//! Written out rather than taken from a cache or rate-limit crate: each is a bounded map
//! and a clock comparison, and both run on the app's injectable clock, so tests move time
//! instead of sleeping.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::Semaphore;

use super::limits::ip_bucket;

/// How long a rendered preview is served again for the same query.
pub(crate) const CACHE_TTL: Duration = Duration::seconds(60);
/// Most distinct queries kept.
const CACHE_ENTRIES: usize = 256;
/// Most client IPs tracked by the rate limit within one window.
const TRACKED_IPS: usize = 10_000;
/// Previews scanning the store at once: fewer than the store's read-only connections, so
/// `/healthz` always finds one free.
const SCANS: usize = crate::store::READERS - 2;

/// A rendered page and when it was rendered.
type Kept = (DateTime<Utc>, Arc<str>);

pub(crate) struct PreviewGuard {
    per_minute: u32,
    /// Per client: the start of its current one-minute window and its previews in it.
    hits: Mutex<HashMap<IpAddr, (DateTime<Utc>, u32)>>,
    /// Per normalised query (`frequency` and topic line).
    cache: Mutex<HashMap<String, Kept>>,
    /// Held while a preview scans and renders.
    pub scans: Semaphore,
}

impl PreviewGuard {
    pub(crate) fn new(per_minute: u32) -> PreviewGuard {
        PreviewGuard {
            per_minute,
            hits: Mutex::default(),
            cache: Mutex::default(),
            scans: Semaphore::new(SCANS),
        }
    }

    /// Counts a preview from `ip` at `now`; `false` when it is over the per-minute limit
    /// (fixed one-minute windows; a limit of 0 allows everything).
    pub(crate) fn allow(&self, ip: Option<IpAddr>, now: DateTime<Utc>) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        // An unknown peer (no socket address: in-process callers) shares one bucket.
        let ip = ip.map_or(IpAddr::from([0, 0, 0, 0]), ip_bucket);
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let expired = |start: &DateTime<Utc>| now - *start >= Duration::minutes(1);
        if hits.len() >= TRACKED_IPS && !hits.contains_key(&ip) {
            hits.retain(|_, (start, _)| !expired(start));
            if hits.len() >= TRACKED_IPS {
                // A flood from more addresses than we track: refuse newcomers until
                // the window turns, rather than grow without bound.
                return false;
            }
        }
        let entry = hits.entry(ip).or_insert((now, 0));
        if expired(&entry.0) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }

    /// The page rendered for `key` less than [`CACHE_TTL`] before `now`.
    pub(crate) fn cached(&self, key: &str, now: DateTime<Utc>) -> Option<Arc<str>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|(at, _)| now - *at < CACHE_TTL && now >= *at)
            .map(|(_, page)| page.clone())
    }

    /// Keeps `page` for `key`; when full, drops expired entries, then the oldest.
    pub(crate) fn keep(&self, key: String, page: Arc<str>, now: DateTime<Utc>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_ENTRIES && !cache.contains_key(&key) {
            cache.retain(|_, (at, _)| now - *at < CACHE_TTL);
            if cache.len() >= CACHE_ENTRIES {
                let oldest = cache
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    cache.remove(&oldest);
                }
            }
        }
        cache.insert(key, (now, page));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    #[test]
    fn the_rate_limit_counts_per_client_and_window() {
        let g = PreviewGuard::new(2);
        let a = Some("10.0.0.1".parse().unwrap());
        let b = Some("2001:db8::1".parse().unwrap());
        let b_same_64 = Some("2001:db8::ffff".parse().unwrap());
        assert!(g.allow(a, t0()) && g.allow(a, t0()));
        assert!(!g.allow(a, t0()), "third in the minute");
        assert!(g.allow(b, t0()) && g.allow(b_same_64, t0()));
        assert!(!g.allow(b, t0()), "one /64 is one client");
        assert!(g.allow(a, t0() + Duration::minutes(1)), "a new window");
        assert!(PreviewGuard::new(0).allow(a, t0()), "0 is no limit");
    }

    #[test]
    fn the_cache_expires_and_stays_bounded() {
        let g = PreviewGuard::new(0);
        g.keep("q".into(), "page".into(), t0());
        assert_eq!(
            g.cached("q", t0() + Duration::seconds(59)).as_deref(),
            Some("page")
        );
        assert!(g.cached("q", t0() + CACHE_TTL).is_none());
        for i in 0..CACHE_ENTRIES + 10 {
            g.keep(
                i.to_string(),
                "p".into(),
                t0() + Duration::milliseconds(i as i64),
            );
        }
        let cache = g.cache.lock().unwrap();
        assert_eq!(cache.len(), CACHE_ENTRIES);
        assert!(!cache.contains_key("0"), "the oldest went first");
    }
}
