//! Bounces and complaints end to end: digests go out with a VERP envelope sender through a
//! private Postfix on loopback, which writes real DSNs (RFC 3464) into a Maildir;
//! `paperpost bounces ingest` suppresses exactly the readers they are about. ARF complaints
//! (RFC 5965), autoreplies, malformed and truncated messages, an mbox and standard input
//! are ingested through the real binary too.
use crate::support;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use paperpost::domain::SubscriberStatus;
use support::newsletter::{Newsletter, closed_port, relay};
use support::process::run_tool;
use support::smtp::SmtpServer;
use support::wait;

/// A Postfix instance of the test's own: its own config, queue and data folders in a temp
/// folder, smtpd on a free loopback port, the domain `local.test` delivered locally (with no
/// users of ours: every address there bounces), `bounce.test` delivered by virtual(8) into
/// the Maildir `mail/Maildir`, everything else relayed to the test's SMTP server. No system
/// Postfix needs to run; `stop` (and drop) stops this one only.
struct PrivatePostfix {
    dir: tempfile::TempDir,
    port: u16,
    stopped: bool,
}

/// Postfix's commands live in /usr/sbin, which a non-login PATH may lack.
fn sbin(name: &str) -> PathBuf {
    let p = Path::new("/usr/sbin").join(name);
    if p.exists() { p } else { PathBuf::from(name) }
}

fn id_of(flag: &str) -> u32 {
    let out = Command::new("id").args([flag, "postfix"]).output().unwrap();
    assert!(
        out.status.success(),
        "no `postfix` user: install the postfix package"
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn postconf(conf: &Path, args: &[&str]) {
    run_tool(
        Command::new(sbin("postconf"))
            .arg("-c")
            .arg(conf)
            .args(args),
        "postconf (tests/run.sh installs postfix)",
    );
}

impl PrivatePostfix {
    fn start(relay_port: u16) -> PrivatePostfix {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Postfix's daemons drop to the `postfix` user: they must reach into the temp folder.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (uid, gid) = (id_of("-u"), id_of("-g"));
        for sub in ["conf", "queue", "data", "mail"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        for sub in ["data", "mail"] {
            std::os::unix::fs::chown(d.join(sub), Some(uid), Some(gid)).unwrap();
        }
        let port = closed_port();
        let conf = d.join("conf");
        // The package's own master.cf (the one in /etc may be an admin's).
        let master = [
            "/usr/share/postfix/master.cf.dist",
            "/etc/postfix/master.cf",
        ]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Postfix's master.cf (tests/run.sh installs postfix)");
        std::fs::copy(master, conf.join("master.cf")).unwrap();
        let main = format!(
            "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {d}
maillog_file = {d}/maillog
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.paperpost.test
mydomain = paperpost.test
myorigin = paperpost.test
mydestination = local.test
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{relay_port}
smtp_dns_support_level = disabled
smtputf8_enable = no
soft_bounce = no
maximal_queue_lifetime = 0
bounce_queue_lifetime = 0
recipient_delimiter = +
virtual_mailbox_domains = bounce.test
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = inline:{{ bounces@bounce.test=Maildir/ }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
",
            d = d.display()
        );
        std::fs::write(conf.join("main.cf"), main).unwrap();
        // No chroot (the temp queue has no copy of /etc), smtpd on our port only.
        postconf(&conf, &["-F", "*/*/chroot = n"]);
        postconf(&conf, &["-M#", "smtp/inet"]);
        postconf(
            &conf,
            &[
                "-M",
                &format!("127.0.0.1:{port}/inet = 127.0.0.1:{port} inet n - n - - smtpd"),
            ],
        );
        let pf = PrivatePostfix {
            dir,
            port,
            stopped: false,
        };
        let out = pf.postfix("start");
        assert!(
            out.status.success(),
            "postfix start failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            pf.log()
        );
        wait::poll_or(
            Duration::from_secs(30),
            || TcpStream::connect(("127.0.0.1", port)).ok(),
            || format!("postfix never listened\n{}", pf.log()),
        );
        pf
    }

    fn postfix(&self, verb: &str) -> std::process::Output {
        Command::new(sbin("postfix"))
            .arg("-c")
            .arg(self.dir.path().join("conf"))
            .arg(verb)
            .output()
            .expect("postfix (tests/run.sh installs it)")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail/Maildir")
    }

    /// Messages delivered into the bounce Maildir so far.
    fn delivered(&self) -> usize {
        std::fs::read_dir(self.maildir().join("new")).map_or(0, |d| d.count())
    }

    fn stop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            let out = self.postfix("stop");
            assert!(out.status.success(), "postfix stop failed\n{}", self.log());
        }
    }
}

impl Drop for PrivatePostfix {
    fn drop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            let _ = self.postfix("stop");
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn postfix_dsns_for_an_unknown_local_user_and_a_refusing_domain_suppress_exactly_those_readers() {
    // Postfix starts only as root (it drops to its own user); CI and tests/run.sh run as root.
    if !is_root() {
        eprintln!("SKIPPED: a private Postfix needs root");
        return;
    }
    // Arrange: the relay behind Postfix refuses gone@refusing.test with 550 at RCPT.
    let relay_server = SmtpServer::start(Some(serde_json::json!({
        "recipients": {"gone@refusing.test": ["550 rcpt"]}
    })));
    let mut postfix = PrivatePostfix::start(relay_server.port);
    let n = Newsletter::new(&format!(
        "bounce_address = \"bounces@bounce.test\"\n{}",
        relay(None, postfix.port, 10.0)
    ));
    let readers = [
        "ada@ok.test",
        "no-such-reader@local.test",
        "gone@refusing.test",
        "bob@ok.test",
    ]
    .map(String::from);
    n.fetch_and_import(&readers);

    // Act: Postfix accepts all four, delivers two to the relay and bounces two.
    let send = n.run(&["send"]);
    assert!(send.status.success());
    wait::poll_or(
        Duration::from_secs(60),
        || (postfix.delivered() >= 2).then_some(()),
        || format!("no DSNs arrived\n{}", postfix.log()),
    );
    let ingest = n.run(&["bounces", "ingest", postfix.maildir().to_str().unwrap()]);
    let again = n.run(&["bounces", "ingest", postfix.maildir().to_str().unwrap()]);
    let deliveries = n.run(&["deliveries"]);
    let status = n.run(&["status"]);
    postfix.stop();

    // Assert: the DSNs went to the VERP address, both were matched as hard bounces, and only
    // those two readers are suppressed, each with Postfix's status and diagnostic.
    assert_eq!(relay_server.received_by("ada@ok.test"), 1);
    assert_eq!(relay_server.received_by("bob@ok.test"), 1);
    let first = std::fs::read_dir(postfix.maildir().join("new"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let dsn = std::fs::read_to_string(first).unwrap();
    assert!(dsn.contains("Delivered-To: bounces+"), "{dsn}");
    assert!(dsn.contains("report-type=delivery-status"), "{dsn}");
    assert!(ingest.status.success());
    let summary = stdout(&ingest);
    assert!(
        summary.contains("read 2 messages: 2 matched (2 hard, 0 soft, 0 complaints)"),
        "{summary}"
    );
    assert!(summary.contains("2 addresses suppressed"), "{summary}");
    let store = n.store();
    let suppressed = store.suppressions().unwrap();
    let emails: Vec<&str> = suppressed.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(emails, ["gone@refusing.test", "no-such-reader@local.test"]);
    let reason = |e: &str| &suppressed.iter().find(|(x, _)| x == e).unwrap().1;
    assert!(
        reason("no-such-reader@local.test").contains("5.1.1")
            && reason("no-such-reader@local.test").contains("unknown user"),
        "{suppressed:?}"
    );
    assert!(
        reason("gone@refusing.test").contains("550 no such user"),
        "{suppressed:?}"
    );
    for ok in ["ada@ok.test", "bob@ok.test"] {
        assert!(!store.is_suppressed(ok).unwrap(), "{ok}");
    }
    for r in &readers {
        let s = store.subscriber_by_email(r).unwrap().unwrap();
        assert_eq!(
            s.status,
            SubscriberStatus::Active,
            "a bounce does not unsubscribe {r}"
        );
    }
    // Twice ingested: nothing changed.
    assert!(
        stdout(&again).contains("read 2 messages: 0 matched (0 hard, 0 soft, 0 complaints), 0 unverified, 0 unmatched, 0 ignored (0 autoreplies), 0 malformed, 2 already ingested"),
        "{}",
        stdout(&again)
    );
    assert_eq!(store.suppressions().unwrap(), suppressed);
    // `deliveries` and `status` show the counts and rates of the edition.
    let d = stdout(&deliveries);
    assert!(d.contains("2 (50.0%)"), "{d}");
    assert!(d.contains("hard      no-such-reader@local.test"), "{d}");
    let st = stdout(&status);
    assert!(
        st.contains("bounces: hard 2 (50.0%), soft 0 (0.0%); complaints 0 (0.0%)"),
        "{st}"
    );
}

/// What the SMTP test server recorded for each accepted message: (recipient, envelope
/// sender, Message-ID).
pub(crate) fn envelopes(server: &SmtpServer) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(server.mail_dir().join("log.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["to"][0].as_str().unwrap().to_string(),
                v["from"].as_str().unwrap().to_string(),
                v["message_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An ARF report following RFC 5965's example (section B.2): the complaint about the message
/// whose headers follow, with our VERP address as its Return-Path.
pub(crate) fn arf(reader: &str, verp: &str, message_id: &str) -> String {
    format!(
        "From: <abusedesk@example.com>\r
Date: Thu, 8 Mar 2026 17:40:36 EDT\r
Subject: FW: Earn money\r
To: <abuse@papers.example.org>\r
MIME-Version: 1.0\r
Message-ID: <arf-1@example.com>\r
Content-Type: multipart/report; report-type=feedback-report;\r
     boundary=\"part1_13d.2e68ed54_boundary\"\r
\r
--part1_13d.2e68ed54_boundary\r
Content-Type: text/plain; charset=\"US-ASCII\"\r
Content-Transfer-Encoding: 7bit\r
\r
This is an email abuse report for an email message received from IP\r
192.0.2.1 on Thu, 8 Mar 2026 14:00:00 EDT.  For more information\r
about this format please see http://www.mipassoc.org/arf/.\r
\r
--part1_13d.2e68ed54_boundary\r
Content-Type: message/feedback-report\r
\r
Feedback-Type: abuse\r
User-Agent: SomeGenerator/1.0\r
Version: 1\r
Original-Mail-From: <{verp}>\r
Original-Rcpt-To: <{reader}>\r
Arrival-Date: Thu, 8 Mar 2026 14:00:00 EDT\r
Reporting-MTA: dns; mail.example.com\r
Source-IP: 192.0.2.1\r
Authentication-Results: mail.example.com; spf=fail smtp.mail=somespammer@example.com\r
Reported-Domain: papers.example.org\r
\r
--part1_13d.2e68ed54_boundary\r
Content-Type: message/rfc822\r
Content-Disposition: inline\r
\r
Return-Path: <{verp}>\r
From: paperpost <digest@papers.example.org>\r
To: {reader}\r
Subject: papers\r
Message-ID: {message_id}\r
Date: Thu, 8 Mar 2026 13:59:00 EDT\r
\r
Papers.\r
--part1_13d.2e68ed54_boundary--\r
"
    )
}

/// `bounces ingest -` with `message` on standard input, as an MTA's pipe delivers it.
pub(crate) fn ingest_stdin(n: &Newsletter, message: &str) -> std::process::Output {
    let mut child = n
        .command(&["bounces", "ingest", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub(crate) fn mbox(messages: &[String]) -> String {
    messages
        .iter()
        .map(|m| {
            format!(
                "From MAILER-DAEMON Sat Nov 28 09:00:00 2026\n{}\n",
                m.replace("\r\n", "\n")
            )
        })
        .collect()
}

#[test]
fn complaints_autoreplies_malformed_mail_an_mbox_and_stdin_are_each_accounted_for() {
    // Arrange: three readers got a digest with a VERP envelope sender.
    let server = SmtpServer::start(None);
    let n = Newsletter::new(&format!(
        "bounce_address = \"bounces@papers.example.org\"\n{}",
        relay(None, server.port, 10.0)
    ));
    let readers = ["ada@example.net", "bob@example.net", "cyd@example.net"].map(String::from);
    n.fetch_and_import(&readers);
    assert!(n.run(&["send"]).status.success());
    let env = envelopes(&server);
    assert_eq!(env.len(), 3);
    let of = |r: &str| env.iter().find(|e| e.0 == r).unwrap().clone();
    let (_, ada_verp, ada_mid) = of("ada@example.net");
    let (_, _, bob_mid) = of("bob@example.net");
    let (_, _, cyd_mid) = of("cyd@example.net");
    assert!(ada_verp.starts_with("bounces+"), "{ada_verp}");
    assert!(ada_verp.ends_with("@papers.example.org"), "{ada_verp}");
    assert_ne!(
        ada_verp,
        of("bob@example.net").1,
        "one envelope sender per message"
    );

    // Act 1: an ARF complaint about ada, piped on standard input.
    let piped = ingest_stdin(&n, &arf("ada@example.net", &ada_verp, &ada_mid));

    // Act 2: an mbox with a hard bounce for bob (no VERP: by Message-ID), a soft bounce for
    // cyd, an out-of-office reply, a DSN about a stranger, a truncated DSN, a message with no
    // headers and a not-spam feedback report.
    let truncated = support::dsn_by_message_id("t", "cyd@example.net", "5.1.1", &cyd_mid);
    let truncated = truncated
        .get(..truncated.find("Final-Recipient").unwrap() + 10)
        .unwrap()
        .to_string();
    let messages = [
        support::dsn_by_message_id("b1", "bob@example.net", "5.1.1", &bob_mid),
        support::dsn_by_message_id("c1", "cyd@example.net", "4.2.2", &cyd_mid),
        "From: cyd@example.net\r\nTo: digest@papers.example.org\r\nSubject: Out of office\r\nMessage-ID: <ooo@example.net>\r\nAuto-Submitted: auto-replied\r\n\r\nI am away.\r\n".to_string(),
        support::dsn_by_message_id("s1", "stranger@example.net", "5.1.1", "<not-ours@example.net>"),
        truncated,
        "\r\n\r\nno headers at all\r\n".to_string(),
        arf("ada@example.net", &ada_verp, &ada_mid)
            .replace("Feedback-Type: abuse", "Feedback-Type: not-spam")
            .replace("<arf-1@example.com>", "<arf-2@example.com>"),
    ];
    let path = n.dir.path().join("bounces.mbox");
    std::fs::write(&path, mbox(&messages)).unwrap();
    let first = n.run(&["bounces", "ingest", path.to_str().unwrap()]);
    let second = n.run(&["bounces", "ingest", path.to_str().unwrap()]);
    let suppressed_after_first = n.store().suppressions().unwrap();
    let eml = n.dir.path().join("one.eml");
    std::fs::write(&eml, &messages[0]).unwrap();
    let single = n.run(&["bounces", "ingest", eml.to_str().unwrap()]);

    // Assert: the complaint unsubscribed and suppressed ada at once.
    assert!(piped.status.success());
    let p = stdout(&piped);
    assert!(
        p.contains("read 1 message: 1 matched (0 hard, 0 soft, 1 complaint)"),
        "{p}"
    );
    assert!(
        p.contains("1 address suppressed, 1 reader unsubscribed"),
        "{p}"
    );
    let store = n.store();
    let ada = store
        .subscriber_by_email("ada@example.net")
        .unwrap()
        .unwrap();
    assert_eq!(ada.status, SubscriberStatus::Unsubscribed);
    // Every message of the mbox is accounted for.
    assert!(first.status.success());
    let f = stdout(&first);
    assert!(
        f.contains("read 7 messages: 2 matched (1 hard, 1 soft, 0 complaints), 0 unverified, 1 unmatched, 2 ignored (1 autoreply), 2 malformed, 0 already ingested"),
        "{f}"
    );
    assert!(f.contains("unmatched hard for stranger@example.net"), "{f}");
    assert!(f.contains("message 5: malformed"), "{f}");
    assert!(f.contains("message 6: malformed"), "{f}");
    // bob hard-bounced; one soft bounce does not suppress cyd (soft_limit 3).
    let emails: Vec<String> = suppressed_after_first
        .iter()
        .map(|(e, _)| e.clone())
        .collect();
    assert_eq!(emails, ["ada@example.net", "bob@example.net"]);
    assert!(
        suppressed_after_first[0]
            .1
            .starts_with("complaint: Feedback-Type: abuse")
    );
    assert!(suppressed_after_first[1].1.contains("5.1.1"));
    assert_eq!(
        store
            .subscriber_by_email("cyd@example.net")
            .unwrap()
            .unwrap()
            .status,
        SubscriberStatus::Active
    );
    // Read again (the mbox, then one of its messages as an .eml): nothing changes; the
    // malformed ones are reported again.
    let s = stdout(&second);
    assert!(
        s.contains("read 7 messages: 0 matched (0 hard, 0 soft, 0 complaints), 0 unverified, 0 unmatched, 0 ignored (0 autoreplies), 2 malformed, 5 already ingested"),
        "{s}"
    );
    assert!(stdout(&single).contains("1 already ingested"));
    assert_eq!(store.suppressions().unwrap(), suppressed_after_first);
    // `deliveries` lists each bounce and complaint with its reason.
    let d = stdout(&n.run(&["deliveries"]));
    assert!(d.contains("complaint ada@example.net"), "{d}");
    assert!(d.contains("soft      cyd@example.net"), "{d}");
    assert!(d.contains("1 (33.3%)"), "{d}");
}

#[test]
fn the_outbox_records_each_messages_verp_envelope_sender_as_return_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::newsletter::Config::new()
        .table(&support::newsletter::file_source(
            "papers",
            "hf_daily_papers_2024-10-25_full.json",
        ))
        .table("[delivery]\ntransport = \"file\"\noutbox = \"out\"\nbounce_address = \"bounces@papers.example.org\"\n")
        .write(dir.path());
    assert!(
        support::cli::paperpost(&config, &["fetch"])
            .status
            .success()
    );
    assert!(
        support::cli::paperpost(&config, &["subscribers", "add", "ada@example.net"])
            .status
            .success()
    );
    assert!(support::cli::paperpost(&config, &["send"]).status.success());
    let eml = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .next()
        .expect("one .eml")
        .unwrap()
        .path();
    let text = std::fs::read_to_string(eml).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("Return-Path: <bounces+") && first.ends_with("@papers.example.org>"),
        "{first}"
    );
    let check = support::cli::paperpost(&config, &["check-config"]);
    assert!(stdout(&check).contains("envelope sender bounces+TOKEN@papers.example.org"));
}

/// A message whose second part is `message/rfc822` nested `depth` times, each level one
/// `Content-Type: message/rfc822` line and a blank line (the 320 KB message at 10,000).
fn nested_rfc822(depth: usize, id: &str) -> String {
    format!(
        "From: someone@example.net\r
To: bounces@papers.example.org\r
Subject: nested\r
Message-ID: <{id}@example.net>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"n\"\r
\r
--n\r
Content-Type: text/plain\r
\r
see attached\r
--n\r
{}Subject: innermost\r
\r
hello\r
--n--\r
",
        "Content-Type: message/rfc822\r\n\r\n".repeat(depth)
    )
}

/// A DSN about `reader` whose returned-message part is `message/rfc822` nested `depth` times.
fn dsn_with_nested_return(id: &str, reader: &str, depth: usize) -> String {
    with_returned_part(
        &support::dsn_by_message_id(id, reader, "5.1.1", "<x@y>"),
        &format!(
            "{}Subject: papers\r\n\r\nPapers.\r\n",
            "Content-Type: message/rfc822\r\n\r\n".repeat(depth)
        ),
    )
}

/// `dsn` (from [`support::dsn_by_message_id`]) with `part` (headers and body) as its
/// returned-message part instead of the returned headers.
fn with_returned_part(dsn: &str, part: &str) -> String {
    format!("{}--b\r\n{part}--b--\r\n", before_returned_part(dsn))
}

/// `dsn` up to its returned-headers part.
fn before_returned_part(dsn: &str) -> &str {
    let cut = dsn
        .find("--b\r\nContent-Type: text/rfc822-headers")
        .unwrap();
    &dsn[..cut]
}

fn maildir_with(root: &Path, messages: &[(&str, &str)]) -> PathBuf {
    let md = root.join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    for (name, text) in messages {
        std::fs::write(md.join("new").join(name), text).unwrap();
    }
    md
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_message_nested_ten_thousand_deep_is_set_aside_as_malformed_and_the_reports_after_it_still_act()
{
    // Arrange: two readers got a digest; a Maildir holds a real bounce for each, and between
    // them the 320 KB message and a DSN whose returned message is nested as deep.
    let server = SmtpServer::start(None);
    let n = Newsletter::new(&format!(
        "bounce_address = \"bounces@papers.example.org\"\n{}",
        relay(None, server.port, 10.0)
    ));
    let readers = ["ada@example.net", "bob@example.net"].map(String::from);
    n.fetch_and_import(&readers);
    assert!(n.run(&["send"]).status.success());
    let env = envelopes(&server);
    let mid = |r: &str| env.iter().find(|e| e.0 == r).unwrap().2.clone();
    let deep = nested_rfc822(10_000, "deep");
    assert!(deep.len() > 320_000, "{}", deep.len());
    let md = maildir_with(
        n.dir.path(),
        &[
            (
                "1.ada",
                &support::dsn_by_message_id(
                    "a1",
                    "ada@example.net",
                    "5.1.1",
                    &mid("ada@example.net"),
                ),
            ),
            ("2.deep", &deep),
            (
                "3.deep-dsn",
                &dsn_with_nested_return("d1", "bob@example.net", 10_000),
            ),
            (
                "4.bob",
                &support::dsn_by_message_id(
                    "b1",
                    "bob@example.net",
                    "5.1.1",
                    &mid("bob@example.net"),
                ),
            ),
        ],
    );

    // Act: the Maildir twice, the message as a file, and on standard input.
    let first = n.run(&["bounces", "ingest", md.to_str().unwrap()]);
    let second = n.run(&["bounces", "ingest", md.to_str().unwrap()]);
    let file = n.dir.path().join("deep.eml");
    std::fs::write(&file, &deep).unwrap();
    let from_file = n.run(&["bounces", "ingest", file.to_str().unwrap()]);
    let from_stdin = ingest_stdin(&n, &deep);

    // Assert: no crash; both nested messages are malformed with the limit named, set aside
    // out of new/, and the bounces before and after them suppressed their readers.
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    let f = stdout(&first);
    assert!(f.contains("read 4 messages: 2 matched (2 hard"), "{f}");
    assert!(f.contains("2 malformed"), "{f}");
    for name in ["2.deep", "3.deep-dsn"] {
        let line = f
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{f}"));
        assert!(
            line.contains("malformed") && line.contains("nested deeper than 32 levels"),
            "{line}"
        );
    }
    let store = n.store();
    for r in &readers {
        assert!(store.is_suppressed(r).unwrap(), "{r}");
    }
    assert_eq!(names_in(&md.join("new")), ["1.ada", "4.bob"]);
    assert_eq!(
        names_in(&md.join(".paperpost-rejected/new")),
        ["2.deep", "3.deep-dsn"]
    );
    let s = stdout(&second);
    assert!(s.contains("read 2 messages: 0 matched"), "{s}");
    assert!(s.contains("0 malformed, 2 already ingested"), "{s}");
    for (how, out) in [("file", &from_file), ("stdin", &from_stdin)] {
        assert_eq!(out.status.code(), Some(0), "{how}: {}", stdout(out));
        let o = stdout(out);
        assert!(o.contains("read 1 message: 0 matched"), "{how}: {o}");
        assert!(o.contains("1 malformed"), "{how}: {o}");
        assert!(o.contains("nested deeper than 32 levels"), "{how}: {o}");
    }
    assert!(
        file.exists(),
        "a file named on the command line is left where it is"
    );
}

/// `dsn` without its returned-message part: a report that quotes nothing.
fn without_returned_message(dsn: &str) -> String {
    format!("{}--b--\r\n", before_returned_part(dsn))
}

/// The delivery id of a VERP envelope sender `bounces+{id}-{check}@…`.
fn verp_delivery_id(verp: &str) -> &str {
    verp.trim_start_matches("bounces+")
        .split('-')
        .next()
        .unwrap()
}

/// A newsletter with VERP that sent `readers` a digest through `server`, and what the server
/// recorded of each message (recipient, envelope sender, Message-ID).
fn send_to(readers: &[&str], server: &SmtpServer) -> (Newsletter, Vec<(String, String, String)>) {
    let n = Newsletter::new(&format!(
        "bounce_address = \"bounces@papers.example.org\"\n{}",
        relay(None, server.port, 10.0)
    ));
    let readers: Vec<String> = readers.iter().map(|r| r.to_string()).collect();
    n.fetch_and_import(&readers);
    assert!(n.run(&["send"]).status.success());
    let env = envelopes(server);
    assert_eq!(env.len(), readers.len());
    (n, env)
}

#[test]
fn forged_bounces_and_complaints_change_nothing_and_are_counted_as_unverified() {
    // Arrange: four readers got a digest with a VERP envelope sender. The bounce address is
    // public, so a stranger (or bob, who knows his own digest's Message-ID) writes reports.
    let server = SmtpServer::start(None);
    let readers = [
        "alice@example.net",
        "bob@example.net",
        "carol@example.net",
        "dave@example.net",
    ];
    let (n, env) = send_to(&readers, &server);
    let of = |r: &str| env.iter().find(|e| e.0 == r).unwrap().clone();
    let (_, alice_verp, _) = of("alice@example.net");
    let (_, _, bob_mid) = of("bob@example.net");
    let (_, carol_verp, carol_mid) = of("carol@example.net");
    let store = n.store();
    let dave_tokens = store
        .subscriber_by_email("dave@example.net")
        .unwrap()
        .unwrap()
        .tokens;
    let to_bounces =
        |dsn: String, to: &str| dsn.replace("To: digest@papers.example.org", &format!("To: {to}"));
    let plain = "bounces@papers.example.org";
    let wrong_check = format!(
        "bounces+{}-0000000000@papers.example.org",
        verp_delivery_id(&alice_verp)
    );
    let forged_arf = |reader: &str, mid: &str, id: &str| {
        arf(reader, plain, mid).replace("<arf-1@example.com>", &format!("<{id}@example.com>"))
    };
    let mut messages = vec![
        // The DSN: Final-Recipient alice, failed, 5.1.1, no VERP token, nothing quoted.
        to_bounces(
            without_returned_message(&support::dsn_by_message_id(
                "f1",
                "alice@example.net",
                "5.1.1",
                "<x@y>",
            )),
            plain,
        ),
        // A VERP token of alice's delivery with a wrong check.
        to_bounces(
            without_returned_message(&support::dsn_by_message_id(
                "f2",
                "alice@example.net",
                "5.1.1",
                "<x@y>",
            )),
            &wrong_check,
        ),
        // An ARF complaint naming dave, quoting a Message-ID that is not ours.
        forged_arf("dave@example.net", "<forged@example.com>", "arf-f3"),
        // bob's own digest's Message-ID in a complaint naming alice.
        forged_arf("alice@example.net", &bob_mid, "arf-f4"),
    ];
    // Three soft bounces for bob (soft_limit 3), quoting Message-IDs that are not ours.
    for i in 5..8 {
        messages.push(support::dsn_by_message_id(
            &format!("f{i}"),
            "bob@example.net",
            "4.2.2",
            &format!("<forged-{i}@example.com>"),
        ));
    }
    // And one real complaint: carol's, sent back to her digest's VERP address.
    messages.push(arf("carol@example.net", &carol_verp, &carol_mid));
    let path = n.dir.path().join("forged.mbox");
    std::fs::write(&path, mbox(&messages)).unwrap();

    // Act
    let first = n.run(&["bounces", "ingest", path.to_str().unwrap()]);
    let second = n.run(&["bounces", "ingest", path.to_str().unwrap()]);
    let deliveries = stdout(&n.run(&["deliveries"]));
    let status = stdout(&n.run(&["status"]));

    // Assert: only carol's complaint acted; the seven forgeries are counted, each saying why.
    assert!(first.status.success());
    let f = stdout(&first);
    assert!(
        f.contains("read 8 messages: 1 matched (0 hard, 0 soft, 1 complaint), 7 unverified, 0 unmatched, 0 ignored (0 autoreplies), 0 malformed, 0 already ingested"),
        "{f}"
    );
    assert!(
        f.contains("1 address suppressed, 1 reader unsubscribed"),
        "{f}"
    );
    let note = |n: usize| {
        f.lines()
            .find(|l| l.contains(&format!("message {n}:")))
            .unwrap_or_else(|| panic!("no note for message {n}: {f}"))
            .to_string()
    };
    assert!(
        note(1).contains("unverified hard for alice@example.net")
            && note(1).contains("no VERP token and no Message-ID of ours; nothing changed"),
        "{}",
        note(1)
    );
    assert!(
        note(2).contains("its VERP token's check does not verify"),
        "{}",
        note(2)
    );
    assert!(
        note(3).contains("unverified complaint for dave@example.net"),
        "{}",
        note(3)
    );
    assert!(
        note(4).contains("of a delivery to another address"),
        "{}",
        note(4)
    );
    for i in 5..8 {
        assert!(
            note(i).contains("unverified soft for bob@example.net"),
            "{}",
            note(i)
        );
    }
    assert_eq!(
        store
            .suppressions()
            .unwrap()
            .iter()
            .map(|(e, _)| e.as_str())
            .collect::<Vec<_>>(),
        ["carol@example.net"]
    );
    for r in ["alice@example.net", "bob@example.net", "dave@example.net"] {
        let s = store.subscriber_by_email(r).unwrap().unwrap();
        assert_eq!(s.status, SubscriberStatus::Active, "{r}");
    }
    assert_eq!(
        store
            .subscriber_by_email("dave@example.net")
            .unwrap()
            .unwrap()
            .tokens,
        dave_tokens,
        "a forged complaint changes nothing of dave's"
    );
    assert!(
        stdout(&second).contains(
            "0 unverified, 0 unmatched, 0 ignored (0 autoreplies), 0 malformed, 8 already ingested"
        ),
        "{}",
        stdout(&second)
    );
    assert!(
        deliveries.contains("bounce reports not believed: 7 (unverified"),
        "{deliveries}"
    );
    assert!(
        deliveries.contains("complaint dave@example.net"),
        "{deliveries}"
    );
    assert!(
        status.contains("bounce reports not believed: 7 (unverified"),
        "{status}"
    );

    // With `[bounces] trust_unverified = true` (a relay that strips VERP), the address alone
    // acts again, and the summary says so.
    n.write_config(
        "hf_daily_papers_2024-10-25_full.json",
        3,
        &format!(
            "bounce_address = \"bounces@papers.example.org\"\n{}\n[bounces]\ntrust_unverified = true\n",
            relay(None, server.port, 10.0)
        ),
    );
    let eml = n.dir.path().join("trusted.eml");
    std::fs::write(
        &eml,
        to_bounces(
            without_returned_message(&support::dsn_by_message_id(
                "t1",
                "alice@example.net",
                "5.1.1",
                "<x@y>",
            )),
            plain,
        ),
    )
    .unwrap();
    let check = stdout(&n.run(&["check-config"]));
    assert!(
        check.contains("WARNING [bounces] trust_unverified = true"),
        "{check}"
    );
    let trusted = stdout(&n.run(&["bounces", "ingest", eml.to_str().unwrap()]));
    assert!(trusted.contains("1 matched (1 hard"), "{trusted}");
    assert!(trusted.contains("acted on without proof"), "{trusted}");
    assert!(store.is_suppressed("alice@example.net").unwrap());
}

#[tokio::test]
async fn a_proven_complaint_rotates_the_token_and_a_suppressed_reader_who_signs_up_again_can_lift_it()
 {
    use support::web_app::{Mail, spawn_on};

    // Arrange: ada complains (an ARF sent back to her digest's VERP address) and cyd's
    // mailbox hard-bounces (a DSN quoting his digest's Message-ID); bob is fine.
    let server = SmtpServer::start(None);
    let (n, env) = send_to(
        &["ada@example.net", "bob@example.net", "cyd@example.net"],
        &server,
    );
    let of = |r: &str| env.iter().find(|e| e.0 == r).unwrap().clone();
    let (_, ada_verp, ada_mid) = of("ada@example.net");
    let (_, _, cyd_mid) = of("cyd@example.net");
    let store = n.store();
    let ada_old_token = paperpost::security::reader_token(
        &paperpost::security::Secret::load(&store).unwrap(),
        paperpost::domain::TokenPurpose::Manage,
        &store
            .subscriber_by_email("ada@example.net")
            .unwrap()
            .unwrap(),
    );
    let reports = n.dir.path().join("reports.mbox");
    std::fs::write(
        &reports,
        mbox(&[
            arf("ada@example.net", &ada_verp, &ada_mid),
            support::dsn_by_message_id("c1", "cyd@example.net", "5.1.1", &cyd_mid),
        ]),
    )
    .unwrap();
    let ingest = stdout(&n.run(&["bounces", "ingest", reports.to_str().unwrap()]));
    assert!(
        ingest.contains("2 matched (1 hard, 0 soft, 1 complaint)"),
        "{ingest}"
    );
    let app = spawn_on(
        store.clone(),
        tempfile::tempdir().unwrap(),
        paperpost::web::WebSettings::default(),
        |_| {},
    )
    .await;

    // Act 1: ada's old preferences link.
    let old_prefs = app.get(&format!("preferences/{ada_old_token}")).await;
    let old_status = old_prefs.status();
    let old_page = old_prefs.text().await.unwrap();

    // Act 2: the two suppressed readers, bob (active) and a new address sign up; cyd tries
    // four times in one day.
    let mut answers = Vec::new();
    for email in [
        "ada@example.net",
        "cyd@example.net",
        "bob@example.net",
        "eve@example.net",
        "cyd@example.net",
        "cyd@example.net",
        "cyd@example.net",
    ] {
        let (status, body) = app.subscribe(email, "llm").await;
        assert_eq!(status, reqwest::StatusCode::OK, "{email}");
        answers.push(body);
    }
    let ada_mails = app.mails_to("ada@example.net").await;
    let cyd_mails = app.mails_to("cyd@example.net").await;
    let bob_mails = app.mails_to("bob@example.net").await;
    let cyd_before = store
        .subscriber_by_email("cyd@example.net")
        .unwrap()
        .unwrap();
    let confirmed_ada = app
        .confirm(&ada_mails.last().unwrap().path(&app.base, "confirm"))
        .await
        .text()
        .await
        .unwrap();
    let confirmed_cyd = app
        .confirm(&cyd_mails.last().unwrap().path(&app.base, "confirm"))
        .await
        .text()
        .await
        .unwrap();
    let show_ada = stdout(&n.run(&["subscribers", "show", "ada@example.net"]));
    let show_cyd = stdout(&n.run(&["subscribers", "show", "cyd@example.net"]));

    // Assert: the complaint changed ada's token, so her old link shows nothing.
    assert_ne!(old_status, reqwest::StatusCode::OK, "{old_page}");
    assert!(!old_page.contains("ada@example.net"), "{old_page}");
    // One answer for every address, whatever its state.
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "the answers differ"
    );
    // Suppressed readers get the confirmation mail (cyd within the per-address limit of 3);
    // bob gets his preferences link.
    assert_eq!(ada_mails.len(), 1);
    assert!(
        ada_mails[0]
            .subject
            .starts_with("Confirm your subscription")
    );
    assert_eq!(
        cyd_mails.len(),
        3,
        "max_confirmations_per_address_per_day = 3"
    );
    assert!(
        cyd_mails
            .iter()
            .all(|m| m.subject.starts_with("Confirm your subscription"))
    );
    assert!(
        bob_mails[0]
            .subject
            .starts_with("You're already subscribed")
    );
    assert!(Mail::link_in(&bob_mails[0].text, &app.base, "confirm").is_none());
    // Nothing changed for cyd before he clicked: still active with his topics, suppressed.
    assert_eq!(cyd_before.status, SubscriberStatus::Active);
    assert_eq!(cyd_before.topics.to_string(), "", "his topics stay");
    // Confirming lifts the suppression, and `subscribers show` says so.
    assert!(
        confirmed_ada.contains("You're subscribed"),
        "{confirmed_ada}"
    );
    assert!(
        confirmed_cyd.contains("You're subscribed"),
        "{confirmed_cyd}"
    );
    for r in ["ada@example.net", "cyd@example.net"] {
        assert!(!store.is_suppressed(r).unwrap(), "{r}");
        assert_eq!(
            store.subscriber_by_email(r).unwrap().unwrap().status,
            SubscriberStatus::Active
        );
    }
    assert!(show_ada.contains("suppressed:   no"), "{show_ada}");
    assert!(
        show_ada.contains("suppression (complaint: Feedback-Type: abuse")
            && show_ada.contains("lifted on re-confirmation at"),
        "{show_ada}"
    );
    assert!(
        show_cyd.contains("suppression (hard bounce: 5.1.1")
            && show_cyd.contains("lifted on re-confirmation at"),
        "{show_cyd}"
    );
    app.stop().await;
}
