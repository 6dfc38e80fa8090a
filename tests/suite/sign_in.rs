//! Operator sign-in (issue 19, part 5) against the real app on a free loopback port, over a
//! temporary SQLite file or PostgreSQL database: the attacks of the issue reproduced on the
//! old ways in (a stranger behind a header-less TCP forwarder, forged proxy headers,
//! guessing thousands of tokens) and refused now; the session cookie, the CSRF and Origin
//! checks, sign-out, expiry and the throttle's log line. The harness is
//! `support::web_app`; an operator's browser is `support::operator`.
use crate::support;

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Duration;
use paperpost::web::WebSettings;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use support::operator::{
    OperatorBrowser, add_operator, csrf_in, is_sent_to_sign_in, note_of, set_cookies,
};
use support::web_app::{TestApp, form, spawn_configured};

const NAME: &str = "ada";
const PASSWORD: &str = "correct horse battery staple";
const WEEK: &str = "2026-W48";

/// The app with a `/status` page and the operator ada.
async fn spawn_status(settings: WebSettings) -> TestApp {
    let app = spawn_configured(settings, |state| {
        state.status = Some(Arc::new(|_| Ok(maud::html! { p { "status page" } })));
    })
    .await;
    add_operator(&app, NAME, PASSWORD);
    app
}

fn addr_of(app: &TestApp) -> SocketAddr {
    app.base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// A plain TCP forwarder, as `ssh -R`, stunnel or socat are: it listens on a port of its own
/// and relays every connection to `to` from 127.0.0.1, adding nothing to the requests.
/// Stopped by aborting the returned task.
async fn tcp_forwarder(to: SocketAddr) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (addr, task)
}

/// A client on the loopback address `ip`, following no redirects.
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The editor's forms as posted: `action` on week 2026-W48 with `rest`.
fn editorial(csrf: &str, action: &str, rest: &[(&str, &str)]) -> String {
    let mut pairs = vec![("csrf", csrf), ("action", action), ("edition", WEEK)];
    pairs.extend_from_slice(rest);
    form(&pairs)
}

#[tokio::test]
async fn a_stranger_behind_a_header_less_forwarder_cannot_read_status_or_write_the_note_or_pin() {
    // Arrange: the default settings (no loopback access), a TCP forwarder on this host in
    // front of the server: every request reaches it from 127.0.0.1, with no proxy header.
    let app = spawn_status(WebSettings::default()).await;
    let (forwarder, task) = tcp_forwarder(addr_of(&app)).await;
    let stranger = client_from([127, 0, 0, 9]);
    let via = |path: &str| format!("http://{forwarder}/{path}");
    let origin = format!("http://{forwarder}");

    // Act + assert: the page and the old token URL send the stranger to the sign-in page…
    for path in ["status", "status?token=0123456789abcdef0123456789"] {
        let r = stranger.get(via(path)).send().await.unwrap();
        assert!(is_sent_to_sign_in(&r), "{path}: {}", r.status());
    }
    // …and every write is refused, whatever CSRF value or Origin it carries (the old
    // loopback CSRF was a constant; now there is none without a session).
    for (body, headers) in [
        (
            editorial("", "note", &[("note", "written by a stranger")]),
            vec![],
        ),
        (
            editorial("0".repeat(64).as_str(), "pin", &[("paper", "2611.01003")]),
            vec![("origin", origin.as_str())],
        ),
    ] {
        let mut r = stranger
            .post(via("status/editorial"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        assert_eq!(r.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    let stored = app.store.editorial(WEEK).unwrap();
    assert_eq!(
        (stored.note, stored.pins.len()),
        (None, 0),
        "nothing written"
    );
    task.abort();
    app.stop().await;
}

#[tokio::test]
async fn no_header_ever_grants_loopback_access_and_only_plain_127_0_0_1_gets_it_when_configured() {
    let loopback = WebSettings {
        status_loopback: true,
        ..WebSettings::default()
    };
    let app = spawn_status(loopback.clone()).await;
    let headers = [
        ("x-client-ip", "127.0.0.1"),
        ("true-client-ip", "127.0.0.1"),
        ("cf-connecting-ip", "127.0.0.1"),
        ("x-forwarded-for", "127.0.0.1"),
        ("x-real-ip", "127.0.0.1"),
        ("forwarded", "for=127.0.0.1"),
        ("via", "1.1 proxy"),
    ];
    // From 127.0.0.2 no header makes the client local, and from 127.0.0.1 a proxy's header
    // takes loopback access away.
    for from in [[127, 0, 0, 2], [127, 0, 0, 1]] {
        for (header, value) in headers {
            let r = client_from(from)
                .get(app.url("status"))
                .header(header, value)
                .send()
                .await
                .unwrap();
            assert!(
                is_sent_to_sign_in(&r),
                "{header} from {from:?}: {}",
                r.status()
            );
        }
    }
    let plain = client_from([127, 0, 0, 1])
        .get(app.url("status"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK, "plain loopback, configured");
    app.stop().await;

    // Behind a configured proxy the peer is the proxy: no loopback access at all (the
    // config refuses the pair; the server does not rely on that).
    let app = spawn_status(WebSettings {
        trust_forwarded_for: true,
        ..loopback
    })
    .await;
    let r = client_from([127, 0, 0, 1])
        .get(app.url("status"))
        .send()
        .await
        .unwrap();
    assert!(is_sent_to_sign_in(&r), "{}", r.status());
    app.stop().await;
}

#[tokio::test]
async fn a_loopback_session_has_its_own_random_csrf_and_its_posts_need_its_cookie() {
    let app = spawn_status(WebSettings {
        status_loopback: true,
        ..WebSettings::default()
    })
    .await;
    // Two loopback browsers each get a session of their own, with different CSRF values.
    let (one, two) = (OperatorBrowser::new(&app), OperatorBrowser::new(&app));
    let (csrf_one, csrf_two) = (one.status_csrf().await, two.status_csrf().await);
    assert_ne!(
        csrf_one, csrf_two,
        "a CSRF value per session, not a constant"
    );
    assert_eq!(csrf_one.len(), 64);
    assert!(one.cookie("paperpost_session").is_some());

    // A POST with a valid-looking field but no session cookie is refused…
    let cookieless = OperatorBrowser::new(&app);
    let r = cookieless
        .post(
            "status/editorial",
            editorial(&csrf_one, "note", &[("note", "x")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // …and so is one session's field with the other's cookie.
    let r = two
        .post(
            "status/editorial",
            editorial(&csrf_one, "note", &[("note", "x")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(note_of(&app, WEEK), None);
    let r = one
        .post(
            "status/editorial",
            editorial(&csrf_one, "note", &[("note", "Mine.")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(note_of(&app, WEEK).as_deref(), Some("Mine."));
    app.stop().await;
}

#[tokio::test]
async fn wrong_guesses_are_throttled_per_ip_and_per_account_with_a_warning_naming_both() {
    support::logs::start();
    let app = spawn_status(WebSettings {
        max_login_failures_per_ip: 8,
        max_login_failures_per_account: 5,
        login_window_minutes: 15,
        ..WebSettings::default()
    })
    .await;
    add_operator(&app, "throttled.bob", PASSWORD);
    let guess = |n: usize| format!("wrong guess number {n}");

    // Five wrong passwords for ada from 127.0.0.2: refused; the sixth try, even with the
    // right password, meets the account's limit.
    let from_2 = OperatorBrowser::from_ip(&app, [127, 0, 0, 2]);
    for n in 0..5 {
        assert_eq!(
            from_2.sign_in(NAME, &guess(n)).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        from_2.sign_in(NAME, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The account is throttled from anywhere.
    let from_3 = OperatorBrowser::from_ip(&app, [127, 0, 0, 3]);
    assert_eq!(
        from_3.sign_in(NAME, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // Eight names guessed from 127.0.0.4 (unknown ones cost the same work as real ones):
    // then even a right password from there meets the IP's limit.
    let from_4 = OperatorBrowser::from_ip(&app, [127, 0, 0, 4]);
    for n in 0..8 {
        let r = from_4.sign_in(&format!("nobody{n}"), &guess(n)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let r = from_4.sign_in("throttled.bob", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));

    // The warning names the IP and the account, never a password.
    let log = support::logs::text();
    let warned = |ip: &str, account: &str| {
        log.lines().any(|l| {
            l.contains("WARN")
                && l.contains("sign-in throttled")
                && l.contains(ip)
                && l.contains(&format!("\"{account}\""))
        })
    };
    assert!(warned("127.0.0.2", NAME), "{log}");
    assert!(warned("127.0.0.3", NAME), "{log}");
    assert!(warned("127.0.0.4", "throttled.bob"), "{log}");
    assert!(
        !log.contains(PASSWORD) && !log.contains("wrong guess"),
        "{log}"
    );

    // Once the window has moved on, the right password works again.
    app.advance(Duration::minutes(16));
    let r = from_3.sign_in(NAME, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

#[tokio::test]
async fn forty_fast_guesses_meet_429_after_the_default_twenty_from_one_address() {
    // The issue guessed 4,000 tokens in 0.2 s. With the default limits, a few dozen guesses
    // show what became of that: after 20 failures from one address, only 429s.
    let app = spawn_status(WebSettings::default()).await;
    let attacker = OperatorBrowser::from_ip(&app, [127, 0, 0, 5]);
    let mut statuses = Vec::new();
    for n in 0..40 {
        // Ten names, so the per-account limit (10) is not what stops it.
        let r = attacker
            .sign_in(&format!("guess{}", n % 10), &format!("password guess {n}"))
            .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(&statuses[..20], &[403; 20][..]);
    assert_eq!(&statuses[20..], &[429; 20][..]);
    app.stop().await;
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_expiring_and_on_https_secure_with_the_host_prefix() {
    // Plain http (a test or a private network): no Secure, no prefix.
    let app = spawn_status(WebSettings::default()).await;
    let browser = OperatorBrowser::new(&app);
    let r = browser.sign_in(NAME, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("paperpost_session="))
        .expect("a session cookie");
    let (pair, attributes) = session.split_once("; ").unwrap();
    assert_eq!(pair.len(), "paperpost_session=".len() + 64);
    assert_eq!(
        attributes,
        "Path=/; Max-Age=43200; HttpOnly; SameSite=Strict"
    );
    app.stop().await;

    // An https site: Secure and __Host-, for the sign-in form's cookie too.
    let app = spawn_configured(WebSettings::default(), |state| {
        state.base_url = url::Url::parse("https://papers.example.org/").unwrap();
        state.status = Some(Arc::new(|_| Ok(maud::html! { p { "status page" } })));
    })
    .await;
    add_operator(&app, NAME, PASSWORD);
    let browser = OperatorBrowser::new(&app).with_origin("https://papers.example.org");
    let page = browser.get("login").await;
    let login_cookie = set_cookies(&page).join("\n");
    assert!(
        login_cookie.starts_with("__Host-paperpost_login=")
            && login_cookie.ends_with("; HttpOnly; SameSite=Strict; Secure"),
        "{login_cookie}"
    );
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    let r = browser.sign_in(NAME, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookies = set_cookies(&r);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-paperpost_session="))
        .expect("a __Host- session cookie");
    assert!(
        session.ends_with("; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure"),
        "{session}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-paperpost_login=;") && c.contains("Max-Age=0")),
        "the sign-in form's cookie is dropped: {cookies:?}"
    );
    // The unprefixed name means nothing on an https site.
    let plain = OperatorBrowser::new(&app);
    plain.set_cookie(
        "paperpost_session",
        &browser.cookie("__Host-paperpost_session").unwrap(),
    );
    assert!(is_sent_to_sign_in(&plain.get("status").await));
    assert_eq!(browser.get("status").await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn operator_posts_need_the_sessions_csrf_field_and_this_sites_origin() {
    let app = spawn_status(WebSettings::default()).await;
    let ada = OperatorBrowser::new(&app).signed_in(NAME, PASSWORD).await;
    let csrf = ada.status_csrf().await;
    let other = OperatorBrowser::new(&app).signed_in(NAME, PASSWORD).await;
    let other_csrf = other.status_csrf().await;
    assert_ne!(csrf, other_csrf);
    let note = |c: &str| editorial(c, "note", &[("note", "forged")]);
    let own = app.base.trim_end_matches('/');
    let status_page = format!("{own}/status");
    type Headers<'a> = Vec<(&'a str, &'a str)>;
    let cases: [(String, Headers<'_>, &str); 7] = [
        (note(""), vec![("origin", own)], "no CSRF field"),
        (
            note(&other_csrf),
            vec![("origin", own)],
            "another session's field",
        ),
        (
            note(&csrf),
            vec![("origin", "https://evil.example")],
            "a cross-origin post",
        ),
        (note(&csrf), vec![("origin", "null")], "an opaque origin"),
        (
            note(&csrf),
            vec![("referer", "https://evil.example/page")],
            "no Origin, a Referer elsewhere",
        ),
        (note(&csrf), vec![], "neither Origin nor Referer"),
        (
            note(&csrf),
            vec![
                ("origin", "https://evil.example"),
                ("referer", &status_page),
            ],
            "Origin elsewhere, whatever the Referer says",
        ),
    ];
    for (body, headers, why) in cases {
        let r = ada.post_with("status/editorial", body, &headers).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{why}");
    }
    assert_eq!(note_of(&app, WEEK), None, "nothing was written");
    // The same-origin Referer alone (no Origin) is enough, and so is the Origin.
    let ok = editorial(&csrf, "note", &[("note", "By Referer.")]);
    let r = ada
        .post_with("status/editorial", ok, &[("referer", &status_page)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(note_of(&app, WEEK).as_deref(), Some("By Referer."));
    let r = ada
        .post(
            "status/editorial",
            editorial(&csrf, "pin", &[("paper", "2611.01003")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/status?edition=2026-W48#editorial");
    assert_eq!(app.store.editorial(WEEK).unwrap().pins.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_sign_in_form_needs_its_own_cookie_field_and_this_sites_origin() {
    let app = spawn_status(WebSettings::default()).await;
    let browser = OperatorBrowser::new(&app);
    let page = browser.get("login").await.text().await.unwrap();
    let csrf = csrf_in(&page, "login-form");
    let body = |c: &str| form(&[("csrf", c), ("name", NAME), ("password", PASSWORD)]);
    // A page elsewhere posting the form (a "login CSRF"): refused by Origin.
    let r = browser
        .post_with("login", body(&csrf), &[("origin", "https://evil.example")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Without the form's cookie, or with another field: the form again, no session.
    let stranger = OperatorBrowser::new(&app);
    let r = stranger.post("login", body(&csrf)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("id=\"login-form\""));
    let r = browser.post("login", body(&"0".repeat(64))).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(browser.cookie("paperpost_session").is_none());
    // A wrong password says so, and keeps the typed name.
    let r = browser
        .post(
            "login",
            form(&[
                ("csrf", &csrf),
                ("name", NAME),
                ("password", "not it at all"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let again = r.text().await.unwrap();
    assert!(
        again.contains("do not match") && again.contains("value=\"ada\""),
        "{again}"
    );
    let r = browser.post("login", body(&csrf)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

#[tokio::test]
async fn signing_out_ends_the_session_and_signing_in_again_rotates_its_id() {
    let app = spawn_status(WebSettings::default()).await;
    let ada = OperatorBrowser::new(&app).signed_in(NAME, PASSWORD).await;
    let first = ada.cookie("paperpost_session").unwrap();
    // Signing in again from the same browser: a new id, and the old one is dead.
    let r = ada.sign_in(NAME, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let second = ada.cookie("paperpost_session").unwrap();
    assert_ne!(first, second);
    let stale = OperatorBrowser::new(&app);
    stale.set_cookie("paperpost_session", &first);
    assert!(is_sent_to_sign_in(&stale.get("status").await));

    // Sign out: the button's POST ends the session; the stolen cookie is worth nothing.
    let page = ada.get("status").await.text().await.unwrap();
    assert!(page.contains("id=\"operator-name\">ada<"), "{page}");
    let csrf = csrf_in(&page, "operator");
    let copy = OperatorBrowser::new(&app);
    copy.set_cookie("paperpost_session", &second);
    let r = ada.post("logout", form(&[("csrf", &csrf)])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/login");
    assert!(
        ada.cookie("paperpost_session").is_none(),
        "the cookie is cleared"
    );
    assert!(is_sent_to_sign_in(&copy.get("status").await));
    let r = copy
        .post(
            "status/editorial",
            editorial(&csrf, "note", &[("note", "after")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(note_of(&app, WEEK), None);
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_when_idle_or_past_their_absolute_limit() {
    let app = spawn_status(WebSettings {
        operator_idle_minutes: 30,
        operator_session_hours: 2,
        ..WebSettings::default()
    })
    .await;
    // Idle: 31 minutes without a request.
    let idle = OperatorBrowser::new(&app).signed_in(NAME, PASSWORD).await;
    let csrf = idle.status_csrf().await;
    app.advance(Duration::minutes(31));
    assert!(is_sent_to_sign_in(&idle.get("status").await));
    let r = idle
        .post(
            "status/editorial",
            editorial(&csrf, "note", &[("note", "late")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Busy: a request every 20 minutes keeps it alive, but not past two hours.
    let busy = OperatorBrowser::new(&app).signed_in(NAME, PASSWORD).await;
    for _ in 0..5 {
        app.advance(Duration::minutes(20));
        assert_eq!(busy.get("status").await.status(), StatusCode::OK);
    }
    app.advance(Duration::minutes(21)); // 2 h 1 min after signing in
    assert!(is_sent_to_sign_in(&busy.get("status").await));
    assert_eq!(note_of(&app, WEEK), None);
    app.stop().await;
}

#[tokio::test]
async fn a_new_password_signs_the_operator_out_everywhere() {
    let app = spawn_status(WebSettings::default()).await;
    let ada = OperatorBrowser::new(&app).signed_in(NAME, PASSWORD).await;
    let name = paperpost::domain::OperatorName::parse(NAME).unwrap();
    let new = paperpost::domain::OperatorPassword::parse("a brand new passphrase".into()).unwrap();
    let hash = paperpost::web::hash_password(&new).unwrap();
    assert!(
        app.store
            .set_operator_password(&name, &hash, support::web_app::start_time())
            .unwrap()
    );
    assert!(is_sent_to_sign_in(&ada.get("status").await));
    assert_eq!(
        ada.sign_in(NAME, PASSWORD).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ada.sign_in(NAME, "a brand new passphrase").await.status(),
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}
