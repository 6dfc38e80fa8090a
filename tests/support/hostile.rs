//! A hostile source on a real local HTTP server (raw HTTP/1.1 over tokio, because the
//! endless bodies must be written as they are read, which the canned-reply server cannot):
//! - `/endless-200…` and `/endless-404…`: a status line, no `Content-Length`, then bytes
//!   forever (until the client hangs up);
//! - `/deep-xml…`: a well-formed Atom document nested [`DEEP`] elements deep;
//! - `/deep-json…`: a JSON array nested [`DEEP`] levels deep.
//!
//! Every connection is counted with the bytes written to it, so a test can show that the
//! client stopped reading early.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How deep the deep documents nest.
pub const DEEP: usize = 60_000;

pub struct HostileServer {
    pub base: String,
    /// Bytes of body written to clients, over all connections.
    pub written: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl HostileServer {
    pub async fn start() -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let written = Arc::new(AtomicU64::new(0));
        let count = written.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                conns.spawn(serve(stream, count.clone()));
            }
        });
        HostileServer {
            base,
            written,
            task,
        }
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Stops accepting and drops every connection still open.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// The deep Atom document: `<feed>` then [`DEEP`] nested `<x>` elements.
pub fn deep_xml() -> String {
    format!(
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">{}{}</feed>",
        "<x>".repeat(DEEP),
        "</x>".repeat(DEEP)
    )
}

/// The deep JSON document: an HF Daily Papers page whose one item has a field nested
/// [`DEEP`] arrays deep (a field paperpost does not read, so only a depth limit stops it).
pub fn deep_json() -> String {
    format!(
        "[{{\"paper\": {{\"id\": \"2410.18975\", \"extra\": {}{}}}}}]",
        "[".repeat(DEEP),
        "]".repeat(DEEP)
    )
}

async fn serve(mut stream: TcpStream, written: Arc<AtomicU64>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let finite = |status: &str, body: String| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let endless = |status: &str| {
        format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    };
    let (head, forever) = if path.starts_with("/endless-200") {
        (endless("200 OK"), true)
    } else if path.starts_with("/endless-404") {
        (endless("404 Not Found"), true)
    } else if path.starts_with("/deep-xml") {
        (finite("200 OK", deep_xml()), false)
    } else if path.starts_with("/deep-json") {
        (finite("200 OK", deep_json()), false)
    } else {
        (finite("404 Not Found", "no such path".into()), false)
    };
    if stream.write_all(head.as_bytes()).await.is_err() || !forever {
        return;
    }
    // `[` then spaces, forever: valid as the start of a JSON document, never its end.
    let mut chunk = vec![b' '; 64 * 1024];
    chunk[0] = b'[';
    loop {
        if stream.write_all(&chunk).await.is_err() {
            return;
        }
        written.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        chunk[0] = b' ';
    }
}
