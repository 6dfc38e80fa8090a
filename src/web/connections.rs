//! Who may hold a connection, and who makes room when the server is full.
//!
//! Caps: `max_connections` in all, `max_connections_per_ip` from one client (an IPv4
//! address, an IPv6 /64) and `max_connections_per_network` from one network (an IPv4 /24,
//! an IPv6 /64). Ten addresses at their per-IP cap were enough to fill the server and lock
//! everyone else out, so caps alone do not do: under pressure (the server or the newcomer's
//! network full) the server closes a connection that holds a slot **without a request in
//! progress** to let the newcomer in. A connection whose request is being read, handled or
//! answered is never closed to make room; when every connection in the way is such a one,
//! the newcomer is closed at once, as before. A client at its own per-IP cap is refused
//! (it would only push out its own connections).
//!
//! Which one goes: the one that has waited longest for a request — since it was accepted,
//! or since its last answer — whether it is idle (keep-alive, or connected and silent) or
//! halfway through a request head (a slow header sender). Both kinds cost the same (a slot
//! until `header_timeout_secs`), and what tells an attacker's connection from a real
//! client's is how long it has held its slot without asking anything: a browser sends its
//! head within a round trip of connecting, and a newcomer is always the youngest, so
//! under a flood that reopens its connections as they close, the flood's own older
//! connections go first (ordering slow senders before idle ones would instead pick a
//! newcomer whose head is still on the way whenever the flood holds idle keep-alive
//! connections). Under the global cap the victim comes from the network holding the most
//! connections, so a flood from few networks displaces itself before anyone else.
//!
//! State per connection is one atomic phase and when its wait began (a ticket from one
//! shared counter: only the order matters), written by the connection's own task (a
//! request starts, an answer ends) without the lock; the registry
//! (a std `Mutex`: held for a count and, at a cap, one scan of the connections in scope,
//! never across an `.await`) reads them when it must choose. The evicted connection's
//! task is woken through a `Notify` and closes it: at once if it never answered anything,
//! else with hyper's graceful shutdown, which closes an idle connection after flushing
//! what it still owed (an answer whose body just ended).
use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::{Notify, watch};

use super::WebSettings;
use super::limits::{ip_bucket, network_bucket};

/// Accepted, no request yet.
const FRESH: u8 = 0;
/// Answered at least one request; waiting for the next.
const IDLE: u8 = 1;
/// A request is being read, handled or answered.
const BUSY: u8 = 2;
/// Chosen to make room: no longer counted, being closed.
const EVICTED: u8 = 3;

/// One open connection as the registry sees it; shared with its task.
pub(super) struct Conn {
    id: u64,
    /// The client (IPv4 address, IPv6 /64) and its network (IPv4 /24, IPv6 /64).
    ip: IpAddr,
    network: IpAddr,
    phase: AtomicU8,
    /// When the current wait for a request began (accept or last answer): a ticket of
    /// `tickets`, so a lower one waited longer.
    waiting_since: AtomicU64,
    tickets: Arc<AtomicU64>,
    /// Requests started on it (to know whether a close may cut an answer).
    requests: AtomicU32,
    evicted: Notify,
}

impl Conn {
    /// A request head arrived and goes to the router.
    fn request_started(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        // FRESH or IDLE → BUSY; an EVICTED connection stays so (the request is still
        // served: the connection closes after its answer).
        let _ = self
            .phase
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| {
                (p != EVICTED).then_some(BUSY)
            });
    }

    /// The answer's body ended (or was dropped): waiting for the next request.
    fn request_done(&self) {
        let now = self.tickets.fetch_add(1, Ordering::Relaxed);
        self.waiting_since.store(now, Ordering::Release);
        let _ = self
            .phase
            .compare_exchange(BUSY, IDLE, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Resolves once the registry closed this connection to make room.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await;
    }

    /// Whether it may be dropped at once: it never started a request, so no answer can be
    /// cut short.
    pub(super) fn never_asked(&self) -> bool {
        self.requests.load(Ordering::Acquire) == 0
    }
}

/// Marks its connection busy while it lives: created when a request starts, kept in the
/// answer's body, dropped when the body ends.
pub(super) struct Busy(Arc<Conn>);

impl Busy {
    pub(super) fn start(conn: &Arc<Conn>) -> Busy {
        conn.request_started();
        Busy(conn.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.request_done();
    }
}

/// An answer's body that keeps its connection [`Busy`] until it ends.
pub(super) struct Tracked<B> {
    pub(super) inner: B,
    pub(super) busy: Option<Busy>,
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let poll = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = poll {
            self.busy = None;
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The caps and the open connections; a cheap handle.
#[derive(Clone)]
pub(super) struct Registry {
    shared: Arc<Shared>,
}

struct Shared {
    max_total: usize,
    /// 0: no such cap.
    max_per_ip: usize,
    max_per_network: usize,
    table: Mutex<Table>,
    /// Connection tasks still running (evicted ones included), for the shutdown to wait on.
    live: watch::Sender<usize>,
    /// The clock of waits: taken at each accept and each answer's end.
    tickets: Arc<AtomicU64>,
}

#[derive(Default)]
struct Table {
    /// Counted connections (evicted ones are not).
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
    /// Each network's counted connections by id.
    networks: HashMap<IpAddr, HashMap<u64, Arc<Conn>>>,
    next_id: u64,
    pressure: Pressure,
}

/// What the caps did lately, told to the operator at most once a minute.
#[derive(Default)]
struct Pressure {
    evicted: u64,
    refused: u64,
    last_report: Option<Instant>,
}

/// Why a newcomer was closed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Its client is at `max_connections_per_ip`.
    Client,
    /// Its network is at `max_connections_per_network` and every connection there is busy.
    Network,
    /// The server is at `max_connections` and every connection is busy.
    Server,
}

/// A newcomer's place, counted until dropped (or until it is evicted).
pub(super) struct Slot {
    registry: Registry,
    conn: Arc<Conn>,
}

impl Slot {
    pub(super) fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }
}

impl Registry {
    pub(super) fn new(settings: &WebSettings) -> Registry {
        Registry {
            shared: Arc::new(Shared {
                max_total: settings.max_connections,
                max_per_ip: settings.max_connections_per_ip,
                max_per_network: settings.per_network_cap(),
                table: Mutex::default(),
                live: watch::Sender::new(0),
                tickets: Arc::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.shared.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Watches the number of connection tasks still running.
    pub(super) fn live(&self) -> watch::Receiver<usize> {
        self.shared.live.subscribe()
    }

    /// A slot for a connection from `peer`, making room if a cap is reached and some
    /// connection in the way has no request in progress.
    pub(super) fn admit(&self, peer: IpAddr) -> Result<Slot, Refusal> {
        let s = &*self.shared;
        let (ip, network) = (ip_bucket(peer), network_bucket(peer));
        let mut table = self.lock();
        let result = table.admit(s, ip, network);
        table.pressure.report();
        drop(table);
        let conn = result?;
        self.shared.live.send_modify(|n| *n += 1);
        Ok(Slot {
            registry: self.clone(),
            conn,
        })
    }
}

impl Table {
    fn admit(&mut self, s: &Shared, ip: IpAddr, network: IpAddr) -> Result<Arc<Conn>, Refusal> {
        if s.max_per_ip > 0 && self.per_ip.get(&ip).copied().unwrap_or(0) >= s.max_per_ip {
            self.pressure.refused += 1;
            return Err(Refusal::Client);
        }
        let in_network = self.networks.get(&network).map_or(0, HashMap::len);
        if s.max_per_network > 0
            && in_network >= s.max_per_network
            && !self.evict(|t| t.networks.get(&network).into_iter().collect())
        {
            self.pressure.refused += 1;
            return Err(Refusal::Network);
        }
        if self.total >= s.max_total && !self.evict(Table::largest_networks_first) {
            self.pressure.refused += 1;
            return Err(Refusal::Server);
        }
        self.next_id += 1;
        let conn = Arc::new(Conn {
            id: self.next_id,
            ip,
            network,
            phase: AtomicU8::new(FRESH),
            waiting_since: AtomicU64::new(s.tickets.fetch_add(1, Ordering::Relaxed)),
            tickets: s.tickets.clone(),
            requests: AtomicU32::new(0),
            evicted: Notify::new(),
        });
        self.total += 1;
        *self.per_ip.entry(ip).or_default() += 1;
        self.networks
            .entry(network)
            .or_default()
            .insert(conn.id, conn.clone());
        Ok(conn)
    }

    /// Every network's connections, the most crowded network first.
    fn largest_networks_first(&self) -> Vec<&HashMap<u64, Arc<Conn>>> {
        let mut all: Vec<_> = self.networks.values().collect();
        all.sort_unstable_by_key(|conns| std::cmp::Reverse(conns.len()));
        all
    }

    /// Closes the connection that has waited longest for a request, in the first of
    /// `scopes` that has one without a request in progress; `false` when none has.
    fn evict(&mut self, scopes: impl Fn(&Table) -> Vec<&HashMap<u64, Arc<Conn>>>) -> bool {
        // A connection may turn busy between the look and the claim: then look again.
        loop {
            let victim = scopes(self).into_iter().find_map(|conns| {
                conns
                    .values()
                    .filter(|c| matches!(c.phase.load(Ordering::Acquire), FRESH | IDLE))
                    .min_by_key(|c| c.waiting_since.load(Ordering::Acquire))
                    .cloned()
            });
            let Some(victim) = victim else {
                return false;
            };
            let claimed = [FRESH, IDLE].into_iter().any(|from| {
                victim
                    .phase
                    .compare_exchange(from, EVICTED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            });
            if claimed {
                tracing::debug!(ip = %victim.ip, "connection closed to make room");
                self.forget(&victim);
                self.pressure.evicted += 1;
                victim.evicted.notify_one();
                return true;
            }
        }
    }

    /// Stops counting `conn` (if it still is).
    fn forget(&mut self, conn: &Conn) {
        let Some(conns) = self.networks.get_mut(&conn.network) else {
            return;
        };
        if conns.remove(&conn.id).is_none() {
            return;
        }
        if conns.is_empty() {
            self.networks.remove(&conn.network);
        }
        self.total -= 1;
        if let Some(n) = self.per_ip.get_mut(&conn.ip) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&conn.ip);
            }
        }
    }
}

impl Pressure {
    const EVERY: Duration = Duration::from_secs(60);

    /// A warning with the counts of the last minute, if anything happened and none was
    /// given in the last minute: a flood is worth knowing of, one line per newcomer is not.
    fn report(&mut self) {
        if self.evicted + self.refused == 0
            || self.last_report.is_some_and(|t| t.elapsed() < Self::EVERY)
        {
            return;
        }
        tracing::warn!(
            closed_to_make_room = self.evicted,
            refused = self.refused,
            "connection caps reached (max_connections, max_connections_per_ip, \
             max_connections_per_network)"
        );
        self.evicted = 0;
        self.refused = 0;
        self.last_report = Some(Instant::now());
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.lock().forget(&self.conn);
        self.registry.shared.live.send_modify(|n| *n -= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(total: usize, per_ip: usize, per_network: usize) -> Registry {
        Registry::new(&WebSettings {
            max_connections: total,
            max_connections_per_ip: per_ip,
            max_connections_per_network: Some(per_network),
            ..WebSettings::default()
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn phase(slot: &Slot) -> u8 {
        slot.conn.phase.load(Ordering::Acquire)
    }

    #[test]
    fn the_longest_waiting_connection_without_a_request_makes_room() {
        let r = registry(3, 0, 0);
        let oldest = r.admit(ip("10.0.0.1")).unwrap();
        let busy = r.admit(ip("10.0.0.2")).unwrap();
        let busy_guard = Busy::start(busy.conn());
        let newer = r.admit(ip("10.0.0.3")).unwrap();
        // Full: the newcomer takes the oldest one's place, never the busy one's.
        let first = r.admit(ip("10.0.0.4")).unwrap();
        assert_eq!(phase(&oldest), EVICTED);
        assert_eq!((phase(&busy), phase(&newer)), (BUSY, FRESH));
        // An answer that just ended starts a new wait: younger than `newer`'s.
        drop(busy_guard);
        assert_eq!(phase(&busy), IDLE);
        let second = r.admit(ip("10.0.0.5")).unwrap();
        assert_eq!((phase(&newer), phase(&busy)), (EVICTED, IDLE));
        // Every one in the way busy: the newcomer is refused.
        let _guards: Vec<_> = [&busy, &first, &second]
            .iter()
            .map(|s| Busy::start(s.conn()))
            .collect();
        assert_eq!(r.admit(ip("10.0.0.6")).err(), Some(Refusal::Server));
        // A slot is freed once, whether its connection was evicted first or not.
        drop((oldest, newer, busy));
        assert_eq!(r.lock().total, 2);
        assert!(r.admit(ip("10.0.0.7")).is_ok());
    }

    #[test]
    fn a_full_network_makes_room_among_its_own_and_a_full_client_is_refused() {
        let r = registry(100, 2, 3);
        let a1 = r.admit(ip("192.0.2.1")).unwrap();
        let _a2 = r.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(r.admit(ip("192.0.2.1")).err(), Some(Refusal::Client));
        let _b = r.admit(ip("192.0.2.77")).unwrap();
        // Another /24: not affected by 192.0.2.0/24 being full.
        let other = r.admit(ip("198.51.100.1")).unwrap();
        let _c = r.admit(ip("192.0.2.200")).unwrap();
        assert_eq!(phase(&a1), EVICTED, "the network's oldest made room");
        assert_eq!(phase(&other), FRESH);
        // IPv6: one /64 is one client and one network.
        let r = registry(100, 2, 0);
        let _x = r.admit(ip("2001:db8:1:2::1")).unwrap();
        let _y = r.admit(ip("2001:db8:1:2:ffff::9")).unwrap();
        assert_eq!(r.admit(ip("2001:db8:1:2::5")).err(), Some(Refusal::Client));
        assert!(r.admit(ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn under_the_global_cap_the_most_crowded_network_gives_way() {
        let r = registry(4, 0, 0);
        let lone = r.admit(ip("203.0.113.9")).unwrap();
        let crowd: Vec<_> = (1..=3)
            .map(|i| r.admit(ip(&format!("198.51.100.{i}"))).unwrap())
            .collect();
        let _newcomer = r.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(phase(&lone), FRESH, "older, but alone in its network");
        assert_eq!(
            crowd.iter().filter(|s| phase(s) == EVICTED).count(),
            1,
            "one of the crowded network's"
        );
    }
}
