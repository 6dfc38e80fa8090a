//! DKIM: keys made by `openssl` in the test, digests signed by a real `paperpost send`, and
//! every received message verified by an independent verifier (Python's dkimpy) that looks
//! the public key up through a `dnsfunc` serving the test's TXT record.
use crate::support;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use support::newsletter::{Newsletter, relay};
use support::process::run_tool;
use support::smtp::SmtpServer;

const SELECTOR: &str = "test2026";
const DOMAIN: &str = "papers.example.org";

/// The headers the issue asks the signature to cover, as they appear in `h=` (relaxed).
const COVERED: [&str; 10] = [
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "mime-version",
    "content-type",
];

const VERIFY_PY: &str = r#"
import sys, dkim
message = open(sys.argv[1], "rb").read()
record = sys.argv[2].encode()
wanted = sys.argv[3].encode()
def dnsfunc(name, timeout=5):
    return record if name.rstrip(b".") == wanted else None
print("PASS" if dkim.verify(message, dnsfunc=dnsfunc) else "FAIL")
"#;

fn openssl(args: &[&str]) {
    run_tool(Command::new("openssl").args(args), "openssl");
}

/// Makes a key pair; returns the DKIM TXT record of its public key.
fn make_key(dir: &Path, algorithm: &str) -> String {
    let key = dir.join("dkim.pem");
    let key = key.to_str().unwrap();
    let public = dir.join("dkim.pub.der");
    let public = public.to_str().unwrap();
    match algorithm {
        // PKCS#8 PEM, what `openssl genpkey` writes (paperpost converts it for lettre).
        "rsa" => openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            key,
        ]),
        _ => openssl(&["genpkey", "-algorithm", "ed25519", "-out", key]),
    }
    openssl(&[
        "pkey", "-in", key, "-pubout", "-outform", "DER", "-out", public,
    ]);
    let der = std::fs::read(public).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    match algorithm {
        "rsa" => format!("v=DKIM1; k=rsa; p={}", b64.encode(&der)),
        // RFC 8463: the raw 32-byte public key (the end of the SubjectPublicKeyInfo).
        _ => format!(
            "v=DKIM1; k=ed25519; p={}",
            b64.encode(&der[der.len() - 32..])
        ),
    }
}

fn verify(eml: &Path, record: &str) -> String {
    let out = run_tool(
        Command::new("python3")
            .args(["-c", VERIFY_PY])
            .arg(eml)
            .arg(record)
            .arg(format!("{SELECTOR}._domainkey.{DOMAIN}")),
        "python3 with dkimpy (tests/run.sh installs it)",
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The tags of the (unfolded) DKIM-Signature header.
fn signature_tags(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let line = unfolded
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("dkim-signature:"))
        .expect("a DKIM-Signature header");
    line.split_once(':')
        .unwrap()
        .1
        .split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.split_whitespace().collect()))
        .collect()
}

fn signs_and_verifies(algorithm: &str) {
    // Arrange
    let smtp = SmtpServer::start(None);
    let n = Newsletter::new("");
    let record = make_key(n.dir.path(), algorithm);
    n.write_config(
        "hf_daily_papers_2024-10-25_full.json",
        3,
        &format!(
            "{}\n[delivery.dkim]\nselector = \"{SELECTOR}\"\ndomain = \"{DOMAIN}\"\nkey_file = \"dkim.pem\"\nalgorithm = \"{algorithm}\"\n",
            relay(Some("local"), smtp.port, 5.0)
        ),
    );
    let readers = ["ada@example.org", "grace@example.org"].map(String::from);
    n.fetch_and_import(&readers);

    // Act
    let send = n.run(&["send"]);

    // Assert: each message verifies, and the signature covers what it must.
    assert!(send.status.success());
    let received = smtp.messages();
    assert_eq!(received.len(), readers.len());
    for (i, m) in received.iter().enumerate() {
        let eml = n.dir.path().join(format!("received-{i}.eml"));
        std::fs::write(&eml, &m.raw).unwrap();
        assert_eq!(verify(&eml, &record), "PASS", "{:?}", m.to);
        let tags = signature_tags(&m.raw);
        let tag = |k: &str| {
            tags.iter()
                .find(|(t, _)| t == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let expected_a = if algorithm == "rsa" {
            "rsa-sha256"
        } else {
            "ed25519-sha256"
        };
        assert_eq!(tag("a"), expected_a);
        assert_eq!(tag("c"), "relaxed/relaxed");
        assert_eq!(
            (tag("d"), tag("s")),
            (DOMAIN.to_string(), SELECTOR.to_string())
        );
        let h = tag("h").to_ascii_lowercase();
        let h: Vec<&str> = h.split(':').collect();
        for header in COVERED {
            assert!(h.contains(&header), "h= lacks {header}: {h:?}");
        }
        // A control: the same verifier rejects the message once a covered header changes.
        let tampered = String::from_utf8_lossy(&m.raw).replacen("Subject: ", "Subject: Re: ", 1);
        let bad = n.dir.path().join(format!("tampered-{i}.eml"));
        std::fs::write(&bad, tampered).unwrap();
        assert_eq!(verify(&bad, &record), "FAIL");
    }
}

#[test]
fn rsa_signed_digests_verify_with_dkimpy() {
    signs_and_verifies("rsa");
}

#[test]
fn ed25519_signed_digests_verify_with_dkimpy() {
    signs_and_verifies("ed25519");
}

#[test]
fn a_dkim_key_that_cannot_be_used_fails_at_load_with_the_key_and_line() {
    let n = Newsletter::new(&format!(
        "{}\n[delivery.dkim]\nselector = \"s\"\ndomain = \"example.org\"\nkey_file = \"missing.pem\"\n",
        relay(Some("local"), 2525, 5.0)
    ));
    let text = std::fs::read_to_string(&n.config).unwrap();
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("key_file"))
        .unwrap();
    let out = n.run(&["check-config"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`delivery.dkim.key_file`") && err.contains("missing.pem"),
        "{err}"
    );
    assert!(err.contains(&format!("config.toml:{line}:")), "{err}");

    std::fs::write(n.dir.path().join("missing.pem"), "not a key").unwrap();
    let out = n.run(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("is not an RSA private key"), "{err}");
}
