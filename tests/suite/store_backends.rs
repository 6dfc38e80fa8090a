//! The store a test's config names, on either backend: the newsletter harness's PostgreSQL
//! constructor, and `check-config` against a real PostgreSQL server.
use crate::support;

use support::newsletter::{Config, Newsletter, closed_port, relay};

#[test]
fn a_newsletter_on_postgres_uses_a_fresh_postgres_database_the_binary_and_the_test_share() {
    // Arrange: a newsletter on PostgreSQL whatever PAPERPOST_TEST_BACKEND says.
    let delivery = relay(None, closed_port(), 1.0);
    let n = Newsletter::on_postgres(&delivery);

    // Act: the test opens the store; the binary reports the one it opens.
    let store = n.store();
    let out = n.run(&["check-config"]);

    // Assert: both are the same PostgreSQL database, migrated to the current schema.
    assert!(n.is_postgres());
    assert!(store.is_postgres(), "{}", store.location());
    let info = store.schema_info().unwrap();
    assert_eq!(info.version, info.expected);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "store:      postgres, schema version {} (current) at {}",
            info.version,
            store.location()
        )),
        "{stdout}"
    );
    // A rewritten config keeps the same database.
    n.write_config("hf_daily_papers_2024-10-25_full.json", 5, &delivery);
    assert_eq!(n.store().location(), store.location());
}

#[test]
fn two_postgres_newsletters_get_two_databases() {
    let a = Config::new().on_postgres();
    let b = Config::new().on_postgres();
    assert!(a.is_postgres() && b.is_postgres());
    assert_ne!(a.text(), b.text());
    assert!(!Config::new().on_sqlite().is_postgres());
}

/// `paperpost check-config` on a config whose `[store]` has these keys after `path`; what it
/// printed (stdout, stderr) and whether it succeeded.
fn check_config(store_keys: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new().store_keys(store_keys).write(dir.path());
    let mut cmd = support::cli::command(&config, &["check-config"]);
    cmd.env("RUST_LOG", "off");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = support::cli::output(&mut cmd);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_fails_clearly_when_the_postgres_server_is_unreachable() {
    // Arrange: a port nothing listens on.
    let port = closed_port();
    let keys =
        format!("url = \"postgres://paperpost@127.0.0.1:{port}/papers\"\ntls = \"disable\"\n");

    // Act
    let (ok, stdout, stderr) = check_config(&keys, &[]);

    // Assert: a failure naming where it tried, and no "config OK".
    assert!(!ok, "{stdout}");
    assert!(!stdout.contains("config OK"), "{stdout}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("connect") || stderr.to_lowercase().contains("refused"),
        "{stderr}"
    );
}

#[test]
fn check_config_fails_naming_the_password_variable_when_it_is_not_set() {
    let url = support::newsletter::fresh_database();
    let keys = format!(
        "url = \"{url}\"\ntls = \"disable\"\npassword_env = \"PAPERPOST_TEST_NO_SUCH_PASSWORD\"\n"
    );

    let (ok, stdout, stderr) = check_config(&keys, &[]);
    // With the variable set (the test server trusts loopback), the same config passes.
    let (ok_with, stdout_with, _) =
        check_config(&keys, &[("PAPERPOST_TEST_NO_SUCH_PASSWORD", "secret")]);

    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("PAPERPOST_TEST_NO_SUCH_PASSWORD") && stderr.contains("not set"),
        "{stderr}"
    );
    assert!(ok_with, "{stdout_with}");
}

#[test]
fn check_config_refuses_a_postgres_store_newer_than_the_binary_naming_both_versions() {
    // Arrange: a database migrated by this binary, then marked one version ahead (as a
    // newer paperpost would leave it).
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new().on_postgres().write(dir.path());
    drop(support::open_store(&config));
    let expected = paperpost::store::Store::expected_schema_version();
    assert_eq!(
        support::execute_sql(&config, "UPDATE paperpost_schema SET version = version + 1"),
        1
    );

    // Act
    let out = support::cli::output(
        support::cli::command(&config, &["check-config"]).env("RUST_LOG", "off"),
    );

    // Assert
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&(expected + 1).to_string()) && stderr.contains(&expected.to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("newer"), "{stderr}");
}

#[test]
fn check_config_warns_when_the_postgres_password_is_in_the_config_file() {
    // The test server trusts loopback, so any password connects.
    let url = support::newsletter::fresh_database().replacen("paperpost@", "paperpost:hunter2@", 1);
    let keys = format!("url = \"{url}\"\ntls = \"disable\"\n");

    let (ok, stdout, stderr) = check_config(&keys, &[]);

    assert!(ok, "{stdout}{stderr}");
    assert!(
        stderr.contains("warning: `store.url` holds the PostgreSQL password")
            && stderr.contains("password_env"),
        "{stderr}"
    );
    assert!(
        stdout.contains("store:      postgres, schema version"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("hunter2"),
        "the password is not printed: {stdout}"
    );
}
