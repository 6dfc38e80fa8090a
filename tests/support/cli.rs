//! The `paperpost` binary run on a config file, as a user or a scheduler runs it.
use std::path::Path;
use std::process::{Child, Command, Output};

/// `paperpost --config <config> <args…>`, not started yet, logging paperpost's warnings
/// (set `RUST_LOG` again on it to log more or nothing).
pub fn command(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperpost"));
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "paperpost=warn");
    cmd
}

/// Runs `cmd` to its end, echoing what it printed (shown when a test fails).
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
    eprintln!(
        "$ paperpost {} → {}\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `paperpost --config <config> <args…>` to its end, echoing what it printed.
pub fn paperpost(config: &Path, args: &[&str]) -> Output {
    output(&mut command(config, args))
}

/// Runs `paperpost --config <config> <args…>` with logging off, so stderr holds only what
/// the command tells its user.
pub fn quiet(config: &Path, args: &[&str]) -> Output {
    output(command(config, args).env("RUST_LOG", "off"))
}

/// What a command printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a command printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `paperpost serve` on `config`, on a free loopback port, once it answers `/healthz` (at
/// most 30 s): the child (stop it with [`sigterm`]) and its base URL
/// (`http://127.0.0.1:PORT/`).
pub async fn serving(config: &Path) -> (Child, String) {
    let port = super::newsletter::closed_port();
    let mut serve = command(config, &["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let local = format!("http://127.0.0.1:{port}/");
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while http.get(format!("{local}healthz")).send().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "serve did not answer");
        assert!(serve.try_wait().unwrap().is_none(), "serve exited");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    (serve, local)
}

/// Sends SIGTERM to `child` (by its PID); fails the test if `kill` fails.
pub fn sigterm(child: &Child) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success(),
        "kill -TERM {pid}"
    );
}
