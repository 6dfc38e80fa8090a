//! The HTTP/1.1 accept loop, written out over hyper rather than `axum::serve`, which has no
//! timeouts and no connection caps: a client that opens sockets and sends nothing (or half
//! a request) would otherwise hold a file descriptor each until the process runs out.
//!
//! Here every connection must deliver a complete request head within `header_timeout_secs`
//! of opening or of its previous response (hyper's header-read timer, which so also closes
//! idle keep-alive connections); request bodies must keep coming (`body_timeout_secs`
//! between chunks), and so must the client's reading of a response ([`StallTimeout`]);
//! a whole request must be answered within `request_timeout_secs` (tower-http layers in
//! [`super::router`]). How many connections may be open, from whom, and which one makes
//! room for a newcomer when the server is full: [`super::connections`].
use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::WebSettings;
use super::connections::{Busy, Registry, Tracked};
use super::stall::StallTimeout;

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
    let registry = Registry::new(settings);
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
        let slot = match registry.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(cap) => {
                tracing::debug!(ip = %peer.ip(), ?cap, "connection cap reached: closed at once");
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let conn = slot.conn().clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            // Busy from the head until the answer's body ends: never evicted meanwhile.
            let busy = Busy::start(&conn);
            request.extensions_mut().insert(ConnectInfo(peer));
            let answer = router.clone().oneshot(request.map(axum::body::Body::new));
            async move {
                let response = answer.await?;
                Ok::<_, std::convert::Infallible>(response.map(|inner| {
                    axum::body::Body::new(Tracked {
                        inner,
                        busy: Some(busy),
                    })
                }))
            }
        });
        let io = StallTimeout::new(stream, Duration::from_secs(settings.body_timeout_secs));
        let connection = http.serve_connection(TokioIo::new(io), service);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let conn = slot.conn().clone();
            let _slot = slot;
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
                () = conn.evicted() => {
                    if conn.never_asked() {
                        // Nothing was ever written on it: dropping cuts nothing short.
                        return;
                    }
                    // Idle after an answer: hyper closes it once that answer is flushed.
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
    let mut open = registry.live();
    if tokio::time::timeout(drain, open.wait_for(|n| *n == 0))
        .await
        .is_err()
    {
        tracing::warn!("stopped with connections still open");
    }
}
