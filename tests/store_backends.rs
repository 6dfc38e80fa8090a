//! The store a test's config names, on either backend: the newsletter harness's PostgreSQL
//! constructor, and `check-config` against a real PostgreSQL server.
mod support;

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
