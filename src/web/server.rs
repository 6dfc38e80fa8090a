//! The HTTP/1.1 accept loop, written out over hyper rather than `axum::serve`, which has no
//! timeouts and no connection caps: a client that opens sockets and sends nothing (or half
//! a request) would otherwise hold a file descriptor each until the process runs out.
//!
//! Here every connection must deliver a complete request head within `header_timeout_secs`
//! of opening or of its previous response (hyper's header-read timer, which so also closes
//! idle keep-alive connections); request bodies must keep coming (`body_timeout_secs`
//! between chunks), and so must the client's reading of a response ([`StallTimeout`]);
//! a whole request must be answered within `request_timeout_secs` (tower-http layers in
//! [`super::router`]). At most `max_connections` are open at once,
//! and `max_connections_per_ip` from one client IP (IPv6: one /64); a connection over
//! either cap is closed as soon as it is accepted, so it costs a descriptor for an instant.
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::WebSettings;
use super::limits::ip_bucket;
use super::stall::StallTimeout;

/// Open connections, overall and per client IP bucket.
#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// The connection caps; a [`Slot`] is one open connection counted against them.
#[derive(Clone)]
struct Caps {
    max_total: usize,
    /// 0: no per-IP cap.
    max_per_ip: usize,
    counts: Arc<Mutex<Counts>>,
    /// The number of open connections, watched by the shutdown to wait for them.
    open: watch::Sender<usize>,
}

struct Slot {
    caps: Caps,
    ip: IpAddr,
}

impl Caps {
    fn new(settings: &WebSettings) -> Caps {
        Caps {
            max_total: settings.max_connections,
            max_per_ip: settings.max_connections_per_ip,
            counts: Arc::default(),
            open: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a connection from `ip`, or `None` when a cap is reached.
    fn take(&self, ip: IpAddr) -> Option<Slot> {
        let ip = ip_bucket(ip);
        let mut counts = self.lock();
        if counts.total >= self.max_total {
            return None;
        }
        let mine = counts.per_ip.get(&ip).copied().unwrap_or(0);
        if self.max_per_ip > 0 && mine >= self.max_per_ip {
            return None;
        }
        counts.total += 1;
        counts.per_ip.insert(ip, mine + 1);
        self.open.send_replace(counts.total);
        Some(Slot {
            caps: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.caps.lock();
        counts.total -= 1;
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
        self.caps.open.send_replace(counts.total);
    }
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets the
/// requests in progress finish (closing idle connections at once) and returns when every
/// connection is closed, or after `drain` at most.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &WebSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) {
    let caps = Caps::new(settings);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(settings.header_timeout_secs))
        .keep_alive(true);
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors (or a connection reset before accept): let
                    // connections close before trying again instead of spinning.
                    tracing::warn!(error = %e, "accept error");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = caps.take(peer.ip()) else {
            tracing::debug!(ip = %peer.ip(), "connection cap reached: closed at once");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let io = StallTimeout::new(stream, Duration::from_secs(settings.body_timeout_secs));
        let connection = http.serve_connection(TokioIo::new(io), service);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let mut open = caps.open.subscribe();
    if tokio::time::timeout(drain, open.wait_for(|n| *n == 0))
        .await
        .is_err()
    {
        tracing::warn!("stopped with connections still open");
    }
}
