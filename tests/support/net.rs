//! Raw TCP clients for the web server's connection limits: connections from chosen
//! loopback addresses (each another client IP), and checks that the server closed them.

/// A TCP connection to `to` from the loopback address `from` (127.0.0.x): each x is
/// another client IP to the server.
pub async fn connect_from(from: [u8; 4], to: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind((std::net::Ipv4Addr::from(from), 0).into())
        .unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the server has closed `stream` (EOF or reset); `false` while it is open.
pub fn is_closed(stream: &tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a response (e.g. 408) before the close
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// Waits until the server closes every stream (EOF or reset); panics after `within`.
pub async fn until_all_closed(streams: Vec<tokio::net::TcpStream>, within: std::time::Duration) {
    use tokio::io::AsyncReadExt;
    let mut tasks = tokio::task::JoinSet::new();
    for mut s in streams {
        tasks.spawn(async move {
            let mut buf = [0u8; 4096];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        });
    }
    tokio::time::timeout(within, async {
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
    })
    .await
    .expect("the server closes every connection");
}
