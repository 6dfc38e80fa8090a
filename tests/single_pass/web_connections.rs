//! `paperpost serve` under many connections: the real server on a free loopback port, raw
//! TCP clients bound to chosen loopback addresses (127.0.0.x and 127.0.1.x are distinct
//! client IPs to the server; on Linux the whole of 127/8 is loopback), counting what is
//! served and what the server closes. No timing thresholds: counts, and generous deadlines.
use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use paperpost::web::WebSettings;
use support::net::{connect_from, is_closed, until_all_closed};
use support::wait::until_async;
use support::web_app::spawn_with;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A connection from `from`, or `None` when the connect fails (the client's ports can run
/// short under churn; the caller tries again).
async fn try_connect(from: [u8; 4], to: std::net::SocketAddr) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket
        .bind((std::net::Ipv4Addr::from(from), 0).into())
        .ok()?;
    socket.connect(to).await.ok()
}

/// One `GET /healthz` on a new connection from `from`: whether it was answered 200.
async fn served_from(from: [u8; 4], to: std::net::SocketAddr) -> bool {
    let Some(mut s) = try_connect(from, to).await else {
        return false;
    };
    let ask = s
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    if ask.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
    matches!(read, Ok(Ok(_))) && answer.starts_with(b"HTTP/1.1 200")
}

/// Clients that hold idle connections (connected, nothing sent) and open a new one as
/// soon as the server closes one, until dropped.
struct IdleFlood {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: tokio::task::JoinSet<()>,
    /// Connections the server closed (each followed by a new one).
    closed: Arc<AtomicUsize>,
}

impl IdleFlood {
    fn start(from: &[[u8; 4]], per_address: usize, to: std::net::SocketAddr) -> IdleFlood {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let closed = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for &ip in from {
            for _ in 0..per_address {
                let mut stopped = stopped.clone();
                let closed = closed.clone();
                tasks.spawn(async move {
                    while !*stopped.borrow() {
                        let Some(mut s) = try_connect(ip, to).await else {
                            tokio::task::yield_now().await;
                            continue;
                        };
                        let mut buf = [0u8; 512];
                        tokio::select! {
                            _ = async { while s.read(&mut buf).await.is_ok_and(|n| n > 0) {} } => {
                                closed.fetch_add(1, Ordering::Relaxed);
                            }
                            _ = stopped.changed() => return,
                        }
                    }
                });
            }
        }
        IdleFlood {
            stop,
            tasks,
            closed,
        }
    }

    fn closed(&self) -> usize {
        self.closed.load(Ordering::Relaxed)
    }

    async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The attack: 640 idle connections from 10 addresses (127.0.0.2–.11, 64 each: the
/// per-IP cap), re-opened as soon as they close, against a server of 512 connections; the
/// per-network cap is off so that the global cap is what they fill. Meanwhile `legit` asks
/// for `/healthz` 100 times, each on a new connection.
async fn legit_requests_get_through_640_idle_connections(legit: [u8; 4]) {
    // Arrange
    let app = spawn_with(WebSettings {
        max_connections: 512,
        max_connections_per_ip: 64,
        max_connections_per_network: Some(0),
        ..WebSettings::default()
    })
    .await;
    let addr = app.addr();
    let attackers: Vec<[u8; 4]> = (2..=11).map(|x| [127, 0, 0, x]).collect();
    let flood = IdleFlood::start(&attackers, 64, addr);
    // The server is full once it pushes back: 128 of the 640 cannot all be held.
    until_async(
        "the flood to fill the server",
        Duration::from_secs(60),
        || flood.closed() >= 128,
    )
    .await;

    // Act
    let mut served = 0;
    for _ in 0..100 {
        if served_from(legit, addr).await {
            served += 1;
        }
    }

    // Assert
    let closed = flood.closed();
    flood.stop().await;
    assert!(
        served >= 95,
        "{served} of 100 legitimate requests served (the flood saw {closed} closes)"
    );
    assert_eq!(app.get("healthz").await.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_the_floods_own_network_is_served_through_640_idle_connections() {
    legit_requests_get_through_640_idle_connections([127, 0, 0, 12]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_another_network_is_served_through_640_idle_connections() {
    legit_requests_get_through_640_idle_connections([127, 0, 1, 12]).await;
}

/// A connection that sent half a request head and stops there (a slow header sender).
async fn half_a_head(from: [u8; 4], to: std::net::SocketAddr) -> TcpStream {
    let mut s = connect_from(from, to).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    s
}

/// A keep-alive connection that was answered once and now idles.
async fn idle_after_an_answer(from: [u8; 4], to: std::net::SocketAddr) -> TcpStream {
    let mut s = connect_from(from, to).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    read_until(&mut s, b"ok\n").await;
    s
}

/// A connection in the middle of a request: a sign-up whose body is still to come. The
/// server's `100 Continue` says the request reached the handler.
async fn mid_request(from: [u8; 4], to: std::net::SocketAddr) -> TcpStream {
    let mut s = connect_from(from, to).await;
    s.write_all(
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\nExpect: 100-continue\r\n\r\n",
    )
    .await
    .unwrap();
    read_until(&mut s, b"100 Continue\r\n\r\n").await;
    s
}

/// Reads from `s` until what came so far ends with `end`.
async fn read_until(s: &mut TcpStream, end: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(end) {
        let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf))
            .await
            .expect("an answer within the deadline")
            .unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_full_the_connection_waiting_longest_makes_room_idle_or_mid_head_and_a_busy_one_never()
{
    // Arrange: room for three; timeouts long enough not to close anything themselves.
    let app = spawn_with(WebSettings {
        max_connections: 3,
        max_connections_per_ip: 0,
        max_connections_per_network: Some(0),
        header_timeout_secs: 120,
        body_timeout_secs: 120,
        request_timeout_secs: 300,
        ..WebSettings::default()
    })
    .await;
    let addr = app.addr();
    let slow = half_a_head([127, 0, 0, 2], addr).await;
    let idle = idle_after_an_answer([127, 0, 0, 3], addr).await;
    let mut busy = mid_request([127, 0, 0, 4], addr).await;

    // Act + assert: a newcomer is served in place of the slow header sender, which has
    // waited since it connected, longer than the idle one since its answer.
    assert!(
        served_from([127, 0, 0, 5], addr).await,
        "the newcomer is served"
    );
    until_all_closed(vec![slow], Duration::from_secs(20)).await;
    assert!(!is_closed(&idle) && !is_closed(&busy));

    // Now the idle one has waited longer than a newer slow header sender: it goes.
    let newer_slow = half_a_head([127, 0, 0, 6], addr).await;
    assert!(
        served_from([127, 0, 0, 7], addr).await,
        "the newcomer is served"
    );
    until_all_closed(vec![idle], Duration::from_secs(20)).await;
    assert!(!is_closed(&newer_slow) && !is_closed(&busy));

    // Two more requests in progress push out the last connection without one …
    let others = [
        mid_request([127, 0, 0, 8], addr).await,
        mid_request([127, 0, 0, 9], addr).await,
    ];
    until_all_closed(vec![newer_slow], Duration::from_secs(20)).await;
    // … and with every slot busy, a newcomer is closed at once, unanswered.
    let mut refused = connect_from([127, 0, 0, 10], addr).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), refused.read_to_end(&mut answer));
    let _ = read.await.expect("the newcomer is closed");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert!(others.iter().all(|s| !is_closed(s)));

    // The first request in progress was never disturbed: its body arrives, it is answered.
    let mut body = String::from("email=ada%40example.org&topics=");
    body.push_str(&"x".repeat(100 - body.len()));
    busy.write_all(body.as_bytes()).await.unwrap();
    let answer = read_until(&mut busy, b"</html>").await;
    let head = String::from_utf8_lossy(&answer);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Once the requests in progress end, newcomers are served again.
    drop(others);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !served_from([127, 0, 0, 11], addr).await {
        assert!(std::time::Instant::now() < deadline, "never served again");
    }
    drop(busy);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_network_makes_room_among_its_own_connections_and_127_0_1_x_is_one_network() {
    // Arrange: 4 per client, 8 per /24; 127.0.1.2 and .3 fill 127.0.1.0/24 with idle
    // connections, the first of .2's being the oldest.
    let app = spawn_with(WebSettings {
        max_connections: 1000,
        max_connections_per_ip: 4,
        max_connections_per_network: Some(8),
        ..WebSettings::default()
    })
    .await;
    let addr = app.addr();
    let mut network = Vec::new();
    for from in [[127, 0, 1, 2], [127, 0, 1, 3]] {
        for _ in 0..4 {
            network.push(connect_from(from, addr).await);
        }
    }
    let oldest = network.remove(0);

    // Act + assert: another /24 is not held back by it, and pushes nobody out …
    let mut elsewhere = Vec::new();
    for _ in 0..4 {
        elsewhere.push(connect_from([127, 0, 2, 2], addr).await);
    }
    assert!(served_from([127, 0, 2, 3], addr).await);
    // … while a newcomer from 127.0.1.4, a third address of the full network, is served
    // in place of the network's oldest connection.
    assert!(served_from([127, 0, 1, 4], addr).await);
    until_all_closed(vec![oldest], Duration::from_secs(20)).await;
    assert!(network.iter().chain(&elsewhere).all(|s| !is_closed(s)));
    drop((network, elsewhere));
    app.stop().await;
}
