//! The transport alone: N pre-built messages of about L bytes over S reused SMTP sessions
//! (`paperpost::delivery::Session`: TCP_NODELAY, a timeout per step), against a local sink.
//! No store, no rendering: what paperpost's SMTP client costs next to Postfix's smtp-source.
//!
//! usage: cargo bench --bench transport -- [MESSAGES] [SESSIONS] [BYTES] [PORT]
//!   defaults: 10000 10 40000 2525 (the arguments of ../shared/bench/smtp-reference.sh)
//! tests/bench/send-bench.sh runs it against smtp-sink next to the reference.
use std::sync::Arc;
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::transport::smtp::extension::ClientId;
use paperpost::delivery::{Relay, RelayTls, Session};

/// A plausible message of about `size` bytes: headers, then 76-column base64-like lines.
fn message(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: paperpost <digest@example.org>\r\nTo: reader{i}@example.org\r\n\
         Subject: bench {i}\r\nMessage-ID: <bench.{i}@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    .into_bytes();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = i as u64 + 1;
    while m.len() + 78 < size {
        for _ in 0..76 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            m.push(alphabet[(x % 64) as usize]);
        }
        m.extend_from_slice(b"\r\n");
    }
    m
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(10_000);
    let sessions = args.get(1).copied().unwrap_or(10).max(1);
    let size = args.get(2).copied().unwrap_or(40_000);
    let port = args.get(3).copied().unwrap_or(2525) as u16;

    // Pre-built before the clock starts: 64 distinct bodies, cycled (10,000 distinct 40 KB
    // bodies would only measure memory bandwidth).
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..64).map(|i| message(i, size)).collect());
    let from: Address = "digest@example.org".parse().unwrap();
    let relay = Arc::new(Relay {
        name: "sink".into(),
        host: "127.0.0.1".into(),
        port,
        tls: RelayTls::None,
        credentials: None,
        timeout: Duration::from_secs(30),
        hello_name: ClientId::Domain("bench.paperpost.invalid".into()),
    });
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..sessions {
        let relay = relay.clone();
        let bodies = bodies.clone();
        let from = from.clone();
        tasks.push(tokio::spawn(async move {
            let mut session = Session::connect(relay).await.expect("connect to the sink");
            let mut sent = 0;
            for i in (s..n).step_by(sessions) {
                let to: Address = format!("reader{i}@example.org").parse().unwrap();
                session
                    .send(Some(&from), &to, &bodies[i % bodies.len()])
                    .await
                    .expect("the sink accepts");
                sent += 1;
            }
            session.quit().await;
            sent
        }));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "paperpost transport: {sent} messages of {size} bytes over {sessions} sessions in {secs:.3} s = {:.0} msgs/s",
        sent as f64 / secs
    );
}
