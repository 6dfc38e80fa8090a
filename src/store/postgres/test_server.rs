//! A throwaway PostgreSQL server for tests and benchmarks (not used by paperpost itself).
//!
//! `initdb` into a temporary directory (as the unprivileged `nobody` when running as root,
//! since PostgreSQL refuses to run as root), then `postgres` on a free loopback port with
//! durability off (tests never survive an OS crash anyway). The server is stopped by PID
//! by a small watchdog shell when the process that started it exits, however it exits,
//! and its directory removed. Set `PAPERPOST_TEST_PG_URL` to an admin URL to use a server
//! you run instead.
//!
//! Each test takes a database of its own: [`TestServer::fresh_database`].
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running server: connect as the superuser `paperpost` without a password.
pub struct TestServer {
    /// `postgres://paperpost@127.0.0.1:PORT` (no database: add `/name`).
    pub base_url: String,
    /// The data directory (none for an external server).
    pub data_dir: Option<PathBuf>,
    /// The postmaster's PID (none for an external server).
    pub pid: Option<u32>,
}

/// The server shared by this process's tests, started on first use.
pub fn shared() -> anyhow::Result<&'static TestServer> {
    static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Ok(url) = std::env::var("PAPERPOST_TEST_PG_URL") {
                return Ok(TestServer {
                    base_url: url.trim_end_matches('/').to_string(),
                    data_dir: None,
                    pid: None,
                });
            }
            start().map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|e| anyhow::anyhow!("cannot start a test PostgreSQL server: {e}"))
}

impl TestServer {
    /// Creates an empty database and returns its URL.
    pub fn fresh_database(&self, prefix: &str) -> anyhow::Result<String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name: String = format!(
            "{}_{}_{}_{}",
            prefix,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            &crate::store::random_token()[..6]
        )
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
        self.admin(&format!("CREATE DATABASE {name}"))?;
        Ok(format!("{}/{name}", self.base_url))
    }

    /// Runs one statement on the `postgres` database as the superuser.
    pub fn admin(&self, sql: &str) -> anyhow::Result<()> {
        let url = format!("{}/postgres", self.base_url);
        let sql = sql.to_string();
        std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                tokio::spawn(conn);
                client.batch_execute(&sql).await?;
                Ok(())
            })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the admin thread panicked"))?
    }
}

/// PostgreSQL's programs: `$PG_BIN`, the newest `/usr/lib/postgresql/*/bin`, or `PATH`.
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(dir.into());
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn program(name: &str) -> PathBuf {
    match bin_dir() {
        Some(dir) => dir.join(name),
        None => name.into(),
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// `program args…`, as `nobody` when we are root.
fn command(program: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        c.arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start() -> anyhow::Result<TestServer> {
    let root = is_root();
    let dir = std::env::temp_dir().join(format!(
        "paperpost-pg-{}-{}",
        std::process::id(),
        &crate::store::random_token()[..8]
    ));
    std::fs::create_dir_all(&dir)?;
    if root {
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534))
            .context("cannot hand the data directory to nobody")?;
    }
    let data = dir.join("data");
    let out = command(&program("initdb"), root)
        .args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "paperpost",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        ])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "cannot run initdb ({}); install PostgreSQL (Debian: apt-get install postgresql) \
                 or set PG_BIN",
                program("initdb").display()
            )
        })?;
    if !out.status.success() {
        bail!(
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let port = free_port()?;
    let log = dir.join("server.log");
    // The watchdog: start the server, then stop it (by its PID) once our process is gone.
    let script = format!(
        r#"{run} "$PGBIN" -D "$PGDATA" -p {port} -k "$PGDIR" -c listen_addresses=127.0.0.1 \
              -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
              -c max_connections=300 -c shared_buffers=64MB >"$PGDIR/server.log" 2>&1 &
           pg=$!
           echo $pg >"$PGDIR/pid"
           while kill -0 {owner} 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 0.5; done
           kill -INT $pg 2>/dev/null
           for i in $(seq 1 100); do kill -0 $pg 2>/dev/null || break; sleep 0.1; done
           kill -KILL $pg 2>/dev/null
           rm -rf "$PGDIR""#,
        run = if root {
            "setpriv --reuid=65534 --regid=65534 --clear-groups --"
        } else {
            ""
        },
        owner = std::process::id(),
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("PGBIN", program("postgres"))
        .env("PGDATA", &data)
        .env("PGDIR", &dir)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start the PostgreSQL watchdog")?;
    let base_url = format!("postgres://paperpost@127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let server = TestServer {
                base_url: base_url.clone(),
                data_dir: Some(data.clone()),
                pid: std::fs::read_to_string(dir.join("pid"))
                    .ok()
                    .and_then(|p| p.trim().parse().ok()),
            };
            // Accepting TCP is not yet accepting sessions ("the database system is
            // starting up"): wait for a statement to run.
            if server.admin("SELECT 1").is_ok() {
                return Ok(server);
            }
        }
        if Instant::now() > deadline {
            bail!(
                "PostgreSQL did not start on port {port} within 60 s: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
