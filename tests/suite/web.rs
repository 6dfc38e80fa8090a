//! HTTP tests of `paperpost serve`: the real app on a free loopback port, a temporary SQLite
//! file, the file transport as outbox (mails parsed back with mail-parser) and a clock the
//! tests move (the harness: `support::web_app`).
use crate::support;

use std::sync::Arc;

use chrono::Duration;
use paperpost::domain::{
    Feedback, Frequency, Paper, PaperId, SubscriberStatus, TokenPurpose, Topics,
};
use paperpost::render::sample_digest;
use paperpost::store::Store;
use paperpost::web::WebSettings;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use support::net::{connect_from, is_closed, until_all_closed};
use support::operator::{OperatorBrowser, add_operator};
use support::web_app::{
    FORM, TestApp, assert_readable_page, csrf_of, form, spawn, spawn_configured, spawn_with,
    start_time,
};

#[tokio::test]
async fn every_route_answers_with_the_security_headers() {
    let app = spawn().await;
    let ada = app.add_active("ada@example.org", "llm");
    let token = app.manage_token(&ada);
    let feed = app.token(&ada, TokenPurpose::Feed);
    let copy = app.token(&ada, TokenPurpose::Copy);
    let routes = [
        ("/", StatusCode::OK),
        ("/archive", StatusCode::OK),
        ("/archive/2026-W48", StatusCode::OK),
        ("/archive.xml", StatusCode::OK),
        ("/preview", StatusCode::OK),
        ("/preview?topics=diffusion", StatusCode::OK),
        ("/healthz", StatusCode::OK),
        (&format!("/preferences/{token}"), StatusCode::OK),
        (&format!("/unsubscribe/{token}"), StatusCode::OK),
        // A reader's feed (empty before a first digest) and a web copy of an edition that
        // was never sent to them.
        (&format!("/feed/{feed}.xml"), StatusCode::OK),
        (&format!("/d/{copy}/2026-W48"), StatusCode::NOT_FOUND),
        (
            "/confirm/1.00000000000000000000000000000000",
            StatusCode::NOT_FOUND,
        ),
        ("/no/such/page", StatusCode::NOT_FOUND),
        ("/subscribe", StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (path, status) in routes {
        let r = app.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        let h = r.headers();
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        if status.is_client_error() {
            let body = r.text().await.unwrap();
            assert_readable_page(&body, "home page");
        }
    }
    assert_eq!(app.get("/healthz").await.text().await.unwrap(), "ok\n");
    let home = app.get("/").await.text().await.unwrap();
    for id in [
        "id=\"subscribe-form\"",
        "id=\"email\"",
        "id=\"topics\"",
        "id=\"authors\"",
        "id=\"cat-cs.CL\"",
        "id=\"frequency-daily\"",
        "id=\"subscribe-submit\"",
    ] {
        assert!(home.contains(id), "home has {id}");
    }
    assert!(
        home.contains("Scaling Diffusion Models"),
        "the home page shows a sample of the latest issue"
    );
    assert!(
        !home.contains("<script"),
        "no script, and feed text escaped"
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_up_mails_a_link_that_confirms_once_and_reuse_is_harmless() {
    let app = spawn().await;
    let (status, body) = app
        .subscribe("ada@example.org", "diffusion, cat:cs.CL")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_readable_page(&body, "Check your inbox");
    let sub = app.subscriber("ada@example.org");
    assert_eq!(sub.status, SubscriberStatus::Pending);
    assert_eq!(sub.topics, Topics::parse("diffusion, cat:cs.CL").unwrap());

    let mails = app.mails_to("ada@example.org").await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.subject.contains("Confirm"), "{}", mail.subject);
    assert!(
        !mail.raw.contains("List-Unsubscribe:"),
        "a confirmation is not list mail"
    );
    let confirm = mail.path(&app.base, "confirm");
    let secret = confirm.rsplit('.').next().unwrap();
    assert_eq!(secret.len(), 32, "128 random bits as hex");

    let r = app.get(&confirm).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_readable_page(&r.text().await.unwrap(), "Confirm my subscription");
    assert_eq!(
        app.subscriber("ada@example.org").status,
        SubscriberStatus::Pending,
        "opening the link changes nothing"
    );
    let r = app.confirm(&confirm).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert_readable_page(&page, "You're subscribed");
    assert!(
        page.contains(&format!("/preferences/{}", app.manage_token(&sub))),
        "links to preferences"
    );
    assert_eq!(
        app.subscriber("ada@example.org").status,
        SubscriberStatus::Active
    );

    let again = app.get(&confirm).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_readable_page(&again.text().await.unwrap(), "Already confirmed");
    assert_eq!(
        app.subscriber("ada@example.org").status,
        SubscriberStatus::Active
    );

    let forged = format!("{}0", &confirm[..confirm.len() - 1]);
    let forged = if forged == confirm {
        format!("{}1", &confirm[..confirm.len() - 1])
    } else {
        forged
    };
    assert_eq!(app.get(&forged).await.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn the_answer_is_identical_for_new_pending_and_active_addresses() {
    let app = spawn().await;
    app.add_active("active@example.org", "llm");
    app.subscribe("pending@example.org", "").await;
    assert_eq!(app.mails().await.len(), 1);

    let mut answers = Vec::new();
    for email in [
        "new@example.org",
        "pending@example.org",
        "ACTIVE@example.org",
    ] {
        let r = app
            .post(
                "subscribe",
                form(&[
                    ("email", email),
                    ("topics", "robots"),
                    ("frequency", "daily"),
                ]),
            )
            .await;
        let mut headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(k, _)| *k != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        headers.sort();
        answers.push((r.status(), headers, r.bytes().await.unwrap()));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "status, headers and body are the same"
    );

    let new = app.mails_to("new@example.org").await;
    assert_eq!(new.len(), 1);
    new[0].link(&app.base, "confirm");
    let pending = app.mails_to("pending@example.org").await;
    assert_eq!(
        pending.len(),
        2,
        "a pending address gets a fresh confirmation"
    );
    let active = app.mails_to("active@example.org").await;
    assert_eq!(active.len(), 1);
    assert!(
        active[0].subject.contains("already subscribed"),
        "{}",
        active[0].subject
    );
    let prefs = active[0].path(&app.base, "preferences");
    assert_eq!(
        prefs,
        format!(
            "preferences/{}",
            app.manage_token(&app.subscriber("active@example.org"))
        )
    );
    let active = app.subscriber("active@example.org");
    assert_eq!(
        (active.status, active.topics.to_string()),
        (SubscriberStatus::Active, "llm".into()),
        "a form cannot change an active subscriber"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_address_gets_a_few_confirmation_mails_a_day_whatever_is_posted() {
    let app = spawn().await;
    let variants = [
        "bob@example.org",
        "BOB@example.org",
        " Bob@Example.org ",
        "bob@example.org",
        "bob@EXAMPLE.org",
    ];
    let mut bodies = Vec::new();
    for (i, email) in variants.iter().enumerate() {
        let (status, body) = app.subscribe(email, &format!("topic{i}")).await;
        assert_eq!(status, StatusCode::OK);
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "over the limit, the answer does not change"
    );
    assert_eq!(
        app.mails_to("bob@example.org").await.len(),
        3,
        "max_confirmations_per_address_per_day = 3"
    );
    app.advance(Duration::hours(25));
    app.subscribe("bob@example.org", "").await;
    assert_eq!(
        app.mails_to("bob@example.org").await.len(),
        4,
        "the next day allows more"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_ip_gets_a_limited_number_of_sign_ups_an_hour() {
    let app = spawn_with(WebSettings {
        max_subscribes_per_ip_per_hour: 3,
        ..WebSettings::default()
    })
    .await;
    for i in 0..5 {
        let (status, body) = app.subscribe(&format!("user{i}@example.org"), "").await;
        assert_eq!(status, StatusCode::OK);
        assert_readable_page(&body, "Check your inbox");
    }
    assert_eq!(app.mails().await.len(), 3);
    assert!(
        app.store
            .subscriber_by_email("user4@example.org")
            .unwrap()
            .is_none(),
        "nothing stored over the limit"
    );
    app.advance(Duration::minutes(61));
    app.subscribe("user4@example.org", "").await;
    assert_eq!(app.mails().await.len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn forwarded_for_is_only_trusted_when_configured() {
    let settings = WebSettings {
        max_subscribes_per_ip_per_hour: 1,
        ..WebSettings::default()
    };
    for trust in [false, true] {
        let app = spawn_with(WebSettings {
            trust_forwarded_for: trust,
            ..settings.clone()
        })
        .await;
        for i in 0..2 {
            app.http
                .post(app.url("subscribe"))
                .header(CONTENT_TYPE, FORM)
                .header("x-forwarded-for", format!("203.0.113.7, 198.51.100.{i}"))
                .body(form(&[("email", &format!("fwd{i}@example.org"))]))
                .send()
                .await
                .unwrap();
        }
        let expected = if trust { 2 } else { 1 };
        assert_eq!(
            app.mails().await.len(),
            expected,
            "trust_forwarded_for = {trust}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn confirmation_links_expire_and_a_new_sign_up_sends_a_fresh_one() {
    let app = spawn().await;
    app.subscribe("eve@example.org", "").await;
    let old = app.mails_to("eve@example.org").await[0].path(&app.base, "confirm");
    app.advance(Duration::hours(48));
    let r = app.get(&old).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert_readable_page(&r.text().await.unwrap(), "expired");
    assert_eq!(
        app.subscriber("eve@example.org").status,
        SubscriberStatus::Pending
    );

    app.subscribe("eve@example.org", "").await;
    let mails = app.mails_to("eve@example.org").await;
    let fresh = mails.last().unwrap().path(&app.base, "confirm");
    assert_ne!(fresh, old);
    assert_eq!(app.confirm(&fresh).await.status(), StatusCode::OK);
    assert_eq!(
        app.subscriber("eve@example.org").status,
        SubscriberStatus::Active
    );
    let r = app.get(&old).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "an older link of a confirmed subscriber is harmless"
    );
    assert_readable_page(&r.text().await.unwrap(), "Already confirmed");
    app.stop().await;
}

#[tokio::test]
async fn one_click_unsubscribe_and_subscribing_again() {
    let app = spawn().await;
    let sub = app.add_active("carol@example.org", "llm");
    let path = format!("unsubscribe/{}", app.manage_token(&sub));

    let page = app.get(&path).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(r#"<form id="unsubscribe-form" method="post""#),
        "{page}"
    );
    assert!(page.contains(r#"name="List-Unsubscribe" value="One-Click""#));
    assert_eq!(
        app.subscriber("carol@example.org").status,
        SubscriberStatus::Active,
        "GET changes nothing"
    );

    let wrong = app.post(&path, "List-Unsubscribe=Maybe").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_readable_page(&wrong.text().await.unwrap(), "List-Unsubscribe=One-Click");
    assert_eq!(
        app.subscriber("carol@example.org").status,
        SubscriberStatus::Active
    );

    let r = app.post(&path, "List-Unsubscribe=One-Click").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get(LOCATION).is_none(), "no redirect");
    assert_readable_page(&r.text().await.unwrap(), "You're unsubscribed");
    assert_eq!(
        app.subscriber("carol@example.org").status,
        SubscriberStatus::Unsubscribed
    );
    let again = app.post(&path, "List-Unsubscribe=One-Click").await;
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "the token changed with the unsubscribe: the old link is spent"
    );
    assert_readable_page(&again.text().await.unwrap(), "This link does not work");
    assert_eq!(
        app.subscriber("carol@example.org").status,
        SubscriberStatus::Unsubscribed,
        "repeating is harmless"
    );

    let dave = app.add_active("dave@example.org", "llm");
    let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
    let r = app
        .http
        .post(app.url(&format!("unsubscribe/{}", app.manage_token(&dave))))
        .header(CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(multipart)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "RFC 8058's multipart body works too"
    );
    assert_eq!(
        app.subscriber("dave@example.org").status,
        SubscriberStatus::Unsubscribed
    );

    let bogus = format!("unsubscribe/{}.{}", sub.id, "0".repeat(32));
    assert_eq!(
        app.post(&bogus, "List-Unsubscribe=One-Click")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&bogus).await.status(), StatusCode::NOT_FOUND);

    app.subscribe("carol@example.org", "robots").await;
    let s = app.subscriber("carol@example.org");
    assert_eq!(s.status, SubscriberStatus::Pending);
    let confirm = app
        .mails_to("carol@example.org")
        .await
        .last()
        .unwrap()
        .path(&app.base, "confirm");
    assert_eq!(app.confirm(&confirm).await.status(), StatusCode::OK);
    let s = app.subscriber("carol@example.org");
    assert_eq!(
        (s.status, s.topics.to_string()),
        (SubscriberStatus::Active, "robots".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn preferences_change_topics_frequency_and_pause_with_csrf() {
    let app = spawn().await;
    let sub = app.add_active("dan@example.org", "llm, cat:cs.CL");
    let path = format!("preferences/{}", app.manage_token(&sub));
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains("dan@example.org"));
    assert!(
        page.contains(&format!(
            "href=\"/feed/{}.xml\"",
            app.token(&sub, TokenPurpose::Feed)
        )),
        "the reader's private feed is linked"
    );
    assert!(
        page.contains(r#"id="cat-cs.CL" type="checkbox" name="categories" value="cs.CL" checked"#)
    );
    let csrf = csrf_of(&page, "preferences-form");

    let r = app
        .post(
            &path,
            form(&[
                ("csrf", &csrf),
                ("action", "save"),
                ("topics", "robots, -survey"),
                ("authors", "Ada Lovelace"),
                ("categories", "cs.RO"),
                ("categories", "hep-th"),
                ("frequency", "daily"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], format!("/{path}?done=saved"));
    let s = app.subscriber("dan@example.org");
    assert_eq!(s.frequency, Frequency::Daily);
    assert_eq!(
        s.topics,
        Topics::parse("robots, author:\"Ada Lovelace\", cat:cs.RO, cat:hep-th, -survey").unwrap()
    );
    assert!(
        app.get(&format!("{path}?done=saved"))
            .await
            .text()
            .await
            .unwrap()
            .contains("Saved.")
    );

    let r = app
        .post(
            &path,
            form(&[
                ("csrf", &csrf),
                ("categories", "cs.FAKE"),
                ("frequency", "weekly"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_readable_page(
        &r.text().await.unwrap(),
        "“cs.FAKE” is not an arXiv category",
    );

    for bad in [
        form(&[("action", "pause")]),
        form(&[("csrf", &"0".repeat(64)), ("action", "pause")]),
    ] {
        let r = app.post(&path, bad).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_readable_page(&r.text().await.unwrap(), "This form is out of date");
    }
    let other = app.add_active("eve@example.org", "");
    let other_page = app
        .get(&format!("preferences/{}", app.manage_token(&other)))
        .await
        .text()
        .await
        .unwrap();
    let other_csrf = csrf_of(&other_page, "pause-form");
    assert_eq!(
        app.post(&path, form(&[("csrf", &other_csrf), ("action", "pause")]))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.subscriber("dan@example.org").status,
        SubscriberStatus::Active
    );

    let csrf = csrf_of(&page, "pause-form");
    assert_eq!(
        app.post(&path, form(&[("csrf", &csrf), ("action", "pause")]))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.subscriber("dan@example.org").status,
        SubscriberStatus::Paused
    );
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains("id=\"resume-submit\""));
    assert_eq!(
        app.post(&path, form(&[("csrf", &csrf), ("action", "resume")]))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.subscriber("dan@example.org").status,
        SubscriberStatus::Active
    );

    let bogus = format!("preferences/{}.{}", sub.id, "f".repeat(32));
    assert_eq!(app.get(&bogus).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.post(&bogus, form(&[("csrf", &csrf)])).await.status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn readers_choose_their_own_time_zone_and_hour() {
    let app = spawn().await;
    let sub = app.add_active("tz@example.org", "llm");
    let path = format!("preferences/{}", app.manage_token(&sub));
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains(r#"<option value="" selected>Newsletter default</option>"#));
    assert!(page.contains(r#"<option value="Asia/Kolkata">Asia/Kolkata</option>"#));
    assert!(page.contains(r#"<option value="23">23:00</option>"#));
    assert!(
        page.contains("at this local hour"),
        "the copy says when digests come"
    );
    let csrf = csrf_of(&page, "preferences-form");
    let save = |timezone: &str, hour: &str| {
        form(&[
            ("csrf", &csrf),
            ("action", "save"),
            ("topics", "llm"),
            ("frequency", "weekly"),
            ("timezone", timezone),
            ("send_hour", hour),
        ])
    };

    let r = app.post(&path, save("Asia/Kolkata", "7")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = app.subscriber("tz@example.org");
    assert_eq!(
        (s.timezone, s.send_hour),
        (Some(chrono_tz::Asia::Kolkata), Some(7))
    );
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains(r#"<option value="Asia/Kolkata" selected>"#));
    assert!(page.contains(r#"<option value="7" selected>07:00</option>"#));
    assert!(page.contains("at 07:00 Asia/Kolkata"));

    for (timezone, hour, needle) in [
        (
            "Mars/Olympus",
            "7",
            "Time zone: “Mars/Olympus” is not a time zone",
        ),
        ("Asia/Kolkata", "24", "Delivery hour: “24” is not an hour"),
        ("Asia/Kolkata", "-1", "Delivery hour: “-1” is not an hour"),
        ("<b>x</b>", "7am", "Delivery hour: “7am” is not an hour"),
    ] {
        let r = app.post(&path, save(timezone, hour)).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{timezone} {hour}"
        );
        let body = r.text().await.unwrap();
        assert_readable_page(&body, needle);
        assert!(!body.contains("<b>x</b>"), "posted values are escaped");
        let s = app.subscriber("tz@example.org");
        assert_eq!(
            (s.timezone, s.send_hour),
            (Some(chrono_tz::Asia::Kolkata), Some(7)),
            "a refused form changes nothing"
        );
    }

    let r = app.post(&path, save("", "")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = app.subscriber("tz@example.org");
    assert_eq!((s.timezone, s.send_hour), (None, None));

    // The sign-up form takes them too, for the pending subscriber it creates.
    let r = app
        .post(
            "subscribe",
            form(&[
                ("email", "new-tz@example.org"),
                ("frequency", "daily"),
                ("timezone", "America/New_York"),
                ("send_hour", "18"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s = app.subscriber("new-tz@example.org");
    assert_eq!(s.status, SubscriberStatus::Pending);
    assert_eq!(
        (s.timezone, s.send_hour),
        (Some(chrono_tz::America::New_York), Some(18))
    );
    let r = app
        .post(
            "subscribe",
            form(&[("email", "bad-tz@example.org"), ("send_hour", "24")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_readable_page(&r.text().await.unwrap(), "Delivery hour: “24”");
    assert!(
        app.store
            .subscriber_by_email("bad-tz@example.org")
            .unwrap()
            .is_none()
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_form_posts_get_a_readable_4xx_and_store_nothing() {
    let app = spawn().await;
    let huge = form(&[
        ("email", "big@example.org"),
        ("topics", &"x, ".repeat(10_000)),
    ]);
    let r = app.post("subscribe", huge).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_readable_page(&r.text().await.unwrap(), "too much");

    let r = app
        .post(
            "subscribe",
            form(&[("email", "not-an-address"), ("topics", "llm")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert_readable_page(&body, "is not a valid email address");
    assert!(
        body.contains(r#"value="not-an-address""#),
        "the form comes back filled in"
    );
    assert!(body.contains(">llm</textarea>"));

    let r = app
        .post(
            "subscribe",
            form(&[
                ("email", "ok@example.org"),
                ("categories", "cs.FAKE"),
                ("topics", "cat:math.XX"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert_readable_page(&body, "“cs.FAKE” is not an arXiv category");
    assert!(body.contains("item 1 “cat:math.XX” (column 1): `math.XX` is not an arXiv category"));

    let r = app
        .post(
            "subscribe",
            form(&[
                ("email", "\"><script>alert(1)</script>@x"),
                ("topics", "</textarea><script>"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(!body.contains("<script>"), "user input is escaped");

    let r = app
        .post(
            "subscribe",
            "email=%FF%FE%00&topics=%E2%28&&=&frequency=hourly",
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "garbage is refused, not a 500"
    );

    let r = app
        .http
        .post(app.url("subscribe"))
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"email":"json@example.org"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_readable_page(&r.text().await.unwrap(), "ordinary web form");

    assert_eq!(app.store.subscriber_count(None).unwrap(), 0);
    assert!(app.mails().await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn the_archive_and_its_atom_feed_list_public_editions() {
    let app = spawn().await;
    let list = app.get("archive").await;
    assert_eq!(list.headers()["cache-control"], "public, max-age=300");
    let list = list.text().await.unwrap();
    assert!(list.contains("href=\"/archive/2026-W48\""), "{list}");
    assert!(list.contains("Week of 2026-11-23"));

    let page = app.get("archive/2026-W48").await.text().await.unwrap();
    assert!(page.contains("Scaling Diffusion Models to Millions of Tokens: Paper 1"));
    assert!(
        page.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; Friends"),
        "feed text is escaped"
    );
    assert!(!page.contains("<script") && !page.contains("javascript:"));
    assert_eq!(
        app.get("archive/2099-W01").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("archive/%3Cscript%3E").await.status(),
        StatusCode::NOT_FOUND
    );

    let feed = app.get("archive.xml").await;
    assert_eq!(
        feed.headers()[CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    let xml = feed.text().await.unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut entries, mut depth) = (0, 0i32);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => {
                depth += 1;
                entries += (e.name().as_ref() == "entry") as usize;
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((entries, depth), (1, 0));
    assert!(xml.contains(&format!("<id>{}archive/2026-W48</id>", app.base)));
    assert!(!xml.contains("<script"));
    assert!(
        xml.contains("&amp;lt;script&amp;gt;"),
        "HTML content, escaped twice: {xml}"
    );
    app.stop().await;
}

/// Issue 20: a researcher who types `Yann LeCun` (no `author:`) is told what it means, on
/// the saved preferences and in the preview; the line is kept as written.
#[tokio::test]
async fn a_bare_persons_name_is_saved_as_typed_with_a_hint_naming_author() {
    let app = spawn().await;
    let sub = app.add_active("fay@example.org", "llm");
    let path = format!("preferences/{}", app.manage_token(&sub));
    let page = app.get(&path).await.text().await.unwrap();
    let csrf = csrf_of(&page, "preferences-form");
    let r = app
        .post(
            &path,
            form(&[
                ("csrf", &csrf),
                ("action", "save"),
                ("topics", "Yann LeCun, diffusion AND video"),
                ("frequency", "weekly"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "saved, and the hint shown now");
    let page = r.text().await.unwrap();
    assert_readable_page(&page, "Saved.");
    assert!(
        page.contains("did you mean author:&quot;Yann LeCun&quot;?")
            || page.contains("did you mean author:\"Yann LeCun\"?"),
        "{page}"
    );
    assert_eq!(
        app.subscriber("fay@example.org").topics,
        Topics::parse("\"Yann LeCun\", diffusion AND video").unwrap()
    );
    // Saving without a name redirects as before.
    let r = app
        .post(
            &path,
            form(&[
                ("csrf", &csrf),
                ("action", "save"),
                ("topics", "author:\"Yann LeCun\""),
                ("frequency", "weekly"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The preview says it in its heading; quoted, the phrase gets no note.
    for (topics, noted) in [("Yann+LeCun", true), ("%22Yann+LeCun%22", false)] {
        let r = app.get(&format!("preview?topics={topics}")).await;
        let page = r.text().await.unwrap();
        assert_eq!(
            page.contains("looks like a person's name"),
            noted,
            "{topics}: {page}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn preview_renders_what_topics_would_get_now() {
    let app = spawn().await;
    let r = app.get("preview?topics=diffusion").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("Scaling Diffusion Models"), "{page}");
    assert!(
        !page.contains("Sparse Mixture-of-Experts to Millions"),
        "only matching papers"
    );
    assert!(page.contains("A preview for the topics: diffusion."));

    let page = app
        .get("preview?topics=&frequency=weekly")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("trending"), "no topics: the trending digest");

    // Only a liked paper: the period ranked by likeness to it, as planning would mail it.
    let page = app
        .get("preview?topics=like:2611.01000")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Close to papers you liked: “Scaling"),
        "{page}"
    );
    assert!(
        !page.contains("Trending on Hugging Face"),
        "not the trending digest"
    );

    let page = app
        .get("preview?categories=cs.CL&authors=Author1+Surname0")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Paper 1"), "{page}");

    let r = app.get("preview?topics=cat:cs.FAKE").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_readable_page(
        &r.text().await.unwrap(),
        "`cs.FAKE` is not an arXiv category",
    );

    app.advance(Duration::days(30));
    let page = app
        .get("preview?topics=diffusion")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Scaling Diffusion Models"),
        "old papers drop out of the window"
    );
    app.stop().await;
}

#[tokio::test]
async fn feedback_links_record_nothing_on_get_or_head_and_the_button_post_records() {
    // Arrange: a reader and a stored paper.
    let app = spawn().await;
    let sub = app.add_active("fay@example.org", "llm");
    let paper = sample_digest(5).picks()[0].paper.clone();
    let id = paper.id.clone().unwrap();
    let path = format!("feedback/{}/{}", app.manage_token(&sub), id);

    // Act: what a link scanner does — GET and HEAD, both verdicts.
    for v in ["like", "dislike"] {
        let r = app.get(&format!("{path}?v={v}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let page = r.text().await.unwrap();
        assert_readable_page(&page, &paper.title);
        assert!(page.contains("id=\"feedback-submit\""), "one button");
        let head = app
            .http
            .head(app.url(&format!("{path}?v={v}")))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
    }
    assert!(
        app.store.feedback_of(sub.id).unwrap().is_empty(),
        "GET and HEAD record nothing"
    );

    // A post without the page's CSRF field, or with another reader's, records nothing.
    let other = app.add_active("gus@example.org", "");
    let other_page = app
        .get(&format!(
            "feedback/{}/{}?v=like",
            app.manage_token(&other),
            id
        ))
        .await
        .text()
        .await
        .unwrap();
    for bad in [String::new(), csrf_of(&other_page, "feedback-form")] {
        let r = app
            .post(&path, form(&[("csrf", &bad), ("v", "like")]))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert!(app.store.feedback_of(sub.id).unwrap().is_empty());

    // The button's post records the verdict; a later one replaces it.
    let page = app
        .get(&format!("{path}?v=like"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page, "feedback-form");
    let r = app
        .post(&path, form(&[("csrf", &csrf), ("v", "like")]))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("More like what you liked"));
    let rows = app.store.feedback_of(sub.id).unwrap();
    assert_eq!((rows.len(), rows[0].feedback), (1, Feedback::Like));
    assert_eq!(rows[0].paper_id, id);

    // The preferences page lists it with a remove button that works.
    let prefs = format!("preferences/{}", app.manage_token(&sub));
    let page = app.get(&prefs).await.text().await.unwrap();
    let liked = &page[page.find("id=\"liked-papers\"").expect("liked list")..];
    assert!(liked.contains(&paper.title));
    let r = app
        .post(&path, form(&[("csrf", &csrf), ("v", "remove")]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.feedback_of(sub.id).unwrap().is_empty());
    let page = app.get(&prefs).await.text().await.unwrap();
    assert!(page.contains("id=\"feedback-none\""));

    // Unknown papers, bad verdicts and bad tokens are clear errors that store nothing.
    for (url, status) in [
        (
            format!("feedback/{}/2499.99999?v=like", app.manage_token(&sub)),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("feedback/{}/not-an-id?v=like", app.manage_token(&sub)),
            StatusCode::NOT_FOUND,
        ),
        (format!("{path}?v=love"), StatusCode::BAD_REQUEST),
        (
            format!("feedback/{}.x/{id}?v=like", sub.id),
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(app.get(&url).await.status(), status, "{url}");
    }
    let r = app
        .post(&path, form(&[("csrf", &csrf), ("v", "love")]))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(app.store.feedback_of(sub.id).unwrap().is_empty());
    app.stop().await;
}

// ---- Issue 8: slow and many clients, /preview guards ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_capped_and_closed_while_healthz_answers() {
    // Arrange: short timeouts, a per-IP cap of 100.
    let app = spawn_with(WebSettings {
        header_timeout_secs: 3,
        body_timeout_secs: 3,
        request_timeout_secs: 30,
        max_connections: 1000,
        max_connections_per_ip: 100,
        // All of 127.0.0.x is one network: its cap is tests/single_pass/web_connections.rs's business.
        max_connections_per_network: Some(0),
        ..WebSettings::default()
    })
    .await;
    let addr = app.addr();
    use tokio::io::AsyncWriteExt;

    // Act: 100 idle connections from 127.0.0.2, 100 with half a request head from
    // 127.0.0.3, 100 with a head and half a body from 127.0.0.4.
    let mut idle = Vec::new();
    let mut half_head = Vec::new();
    let mut half_body = Vec::new();
    for _ in 0..100 {
        idle.push(connect_from([127, 0, 0, 2], addr).await);
        let mut s = connect_from([127, 0, 0, 3], addr).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        half_head.push(s);
        let mut s = connect_from([127, 0, 0, 4], addr).await;
        s.write_all(
            b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=ada%40exa",
        )
        .await
        .unwrap();
        half_body.push(s);
    }

    // Assert: the service still answers, with all 300 held open.
    let r = app.get("healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok\n");
    let held = idle
        .iter()
        .chain(&half_head)
        .chain(&half_body)
        .filter(|s| !is_closed(s))
        .count();
    assert_eq!(
        held, 300,
        "all were accepted and are waiting on their timeouts"
    );

    // One IP past its cap is closed at once, while its first 100 stay open.
    let mut over = Vec::new();
    for _ in 0..20 {
        over.push(connect_from([127, 0, 0, 2], addr).await);
    }
    until_all_closed(over, std::time::Duration::from_secs(2)).await;
    assert!(
        idle.iter().all(|s| !is_closed(s)),
        "the cap closed only the newcomers"
    );
    let r = app.get("healthz").await;
    assert_eq!(r.status(), StatusCode::OK, "another client is still served");

    // Every one of the 300 is closed by the server after its timeout, and nothing was
    // stored from the half-sent sign-ups.
    let all: Vec<_> = idle.into_iter().chain(half_head).chain(half_body).collect();
    until_all_closed(all, std::time::Duration::from_secs(30)).await;
    assert_eq!(app.store.subscriber_count(None).unwrap(), 0);
    for _ in 0..100 {
        let mut s = connect_from([127, 0, 0, 2], addr).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        use tokio::io::AsyncReadExt;
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_request_body_that_stops_coming_gets_an_answer_and_the_connection_closes() {
    let app = spawn_with(WebSettings {
        body_timeout_secs: 1,
        ..WebSettings::default()
    })
    .await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = connect_from([127, 0, 0, 1], app.addr()).await;
    s.write_all(
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        s.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers and closes")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).unwrap_or_default();
    assert!(
        status.starts_with('4'),
        "a 4xx for the unfinished body: {answer}"
    );
    assert!(
        answer.contains("<!DOCTYPE html>"),
        "a readable page: {answer}"
    );
    assert_eq!(app.store.subscriber_count(None).unwrap(), 0);
    app.stop().await;
}

/// `n` more papers with long abstracts, so a preview has a real scan to do.
fn add_papers(store: &Store, n: usize) {
    let abstract_text = "We study scaling laws of sparse models on long documents. ".repeat(20);
    let papers: Vec<Paper> = (0..n)
        .map(|i| Paper {
            id: PaperId::parse_arxiv(&format!("2611.{:05}", 20000 + i)).map(|(id, _)| id),
            title: format!("Bulk paper {i} on graph transformers"),
            abstract_text: abstract_text.clone(),
            authors: vec![format!("Author {i}"), "Ada Lovelace".into()],
            categories: vec!["cs.LG".into()],
            upvotes: Some((i % 50) as u32),
            ..Paper::default()
        })
        .collect();
    store.upsert_papers(papers, start_time()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_sign_ups_answer_while_many_slow_previews_run() {
    // Arrange: a paper set large enough that every preview scan takes a while.
    // (No request timeout: on a busy machine the queued previews may take long.)
    let app = spawn_with(WebSettings {
        max_previews_per_ip_per_minute: 0,
        request_timeout_secs: 3600,
        ..WebSettings::default()
    })
    .await;
    add_papers(&app.store, 10_000);
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    // Act: 8 distinct previews (no two share a cache entry), then health and a sign-up.
    let mut previews = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (http, url, done) = (
            app.http.clone(),
            app.url(&format!("preview?topics=graph+{i}")),
            done.clone(),
        );
        previews.spawn(async move {
            let r = http.get(url).send().await.unwrap();
            let status = r.status();
            r.text().await.unwrap();
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            status
        });
    }
    // Wait until the server is busy with them: the first preview has completed.
    support::wait::until_async(
        "a first preview",
        std::time::Duration::from_secs(120),
        || done.load(std::sync::atomic::Ordering::SeqCst) > 0,
    )
    .await;
    let health = app.get("healthz").await;
    let previews_done_at_health = done.load(std::sync::atomic::Ordering::SeqCst);
    let (status, _) = app.subscribe("ada@example.org", "graph").await;
    let previews_done_at_sign_up = done.load(std::sync::atomic::Ordering::SeqCst);

    // Assert: both answered while most previews were still queued or scanning.
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(status, StatusCode::OK);
    assert!(
        previews_done_at_health < 8 && previews_done_at_sign_up < 8,
        "health answered after {previews_done_at_health} and the sign-up after \
         {previews_done_at_sign_up} of 8 previews"
    );
    assert_eq!(app.mails_to("ada@example.org").await.len(), 1);
    while let Some(status) = previews.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    app.stop().await;
}

#[tokio::test]
async fn identical_previews_are_served_from_a_short_lived_cache() {
    let app = spawn().await;
    let page = |p: &'static str| {
        let app = &app;
        async move { app.get(p).await.text().await.unwrap() }
    };
    let first = page("preview?topics=diffusion").await;
    assert!(first.contains("Scaling Diffusion Models"));

    // A new matching paper arrives; the same query (however spelled) gets the kept page.
    app.store
        .upsert_papers(
            vec![Paper {
                id: PaperId::parse_arxiv("2611.08888").map(|(id, _)| id),
                title: "Fresh Diffusion Results".into(),
                upvotes: Some(500),
                ..Paper::default()
            }],
            start_time(),
        )
        .unwrap();
    for spelling in [
        "preview?topics=diffusion",
        "preview?topics=+Diffusion+&frequency=weekly",
    ] {
        let again = page(spelling).await;
        assert_eq!(again, first, "{spelling} is served from the cache");
    }
    // A minute later the query is scanned again.
    app.advance(Duration::seconds(61));
    let later = page("preview?topics=diffusion").await;
    assert!(later.contains("Fresh Diffusion Results"), "{later}");
    app.stop().await;
}

#[tokio::test]
async fn previews_are_rate_limited_per_client_ip_and_nothing_else_is() {
    let app = spawn_with(WebSettings {
        max_previews_per_ip_per_minute: 3,
        ..WebSettings::default()
    })
    .await;
    for i in 0..3 {
        let r = app.get(&format!("preview?topics=t{i}")).await;
        assert_eq!(r.status(), StatusCode::OK, "preview {i}");
    }
    let r = app.get("preview?topics=t9").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_readable_page(&r.text().await.unwrap(), "wait a minute");
    let r = app.get("preview?topics=t0").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "cached pages count too"
    );
    assert_eq!(app.get("healthz").await.status(), StatusCode::OK);
    assert_eq!(
        app.get("preview").await.status(),
        StatusCode::OK,
        "the bare form is free"
    );
    assert_eq!(
        app.subscribe("bob@example.org", "t1").await.0,
        StatusCode::OK
    );

    app.advance(Duration::minutes(1));
    assert_eq!(app.get("preview?topics=t9").await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_previews_answer_while_a_long_write_holds_the_store() {
    if support::on_postgres() {
        eprintln!("skipped on PostgreSQL: watches SQLite's WAL file grow");
        return;
    }
    // Arrange: a big batch of papers being stored in one transaction on the blocking pool
    // (the scheduler's fetch does this), observed under way by its growing WAL file.
    let app = spawn().await;
    let wal = app._db.path().join("paperpost.db-wal");
    let wal_size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    let before = wal_size();
    let bulk = tempfile::tempdir().unwrap();
    let source = Store::open(&bulk.path().join("bulk.db")).unwrap();
    add_papers(&source, 20_000);
    let papers: Vec<Paper> = source
        .papers_seen_since(start_time() - Duration::days(1))
        .unwrap()
        .into_iter()
        .map(|p| p.paper)
        .collect();
    let written = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = tokio::task::spawn_blocking({
        let (store, written) = (app.store.clone(), written.clone());
        move || {
            store.upsert_papers(papers, start_time()).unwrap();
            written.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    support::wait::until_async(
        "the write to grow the WAL by 1 MB or end",
        std::time::Duration::from_secs(120),
        || wal_size() >= before + 1_000_000 || written.load(std::sync::atomic::Ordering::SeqCst),
    )
    .await;

    // Act
    let health = app.get("healthz").await;
    let preview = app.get("preview?topics=diffusion").await;
    let write_done = written.load(std::sync::atomic::Ordering::SeqCst);

    // Assert: both answered from read-only connections before the write was done.
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(preview.status(), StatusCode::OK);
    assert!(
        preview
            .text()
            .await
            .unwrap()
            .contains("Scaling Diffusion Models")
    );
    assert!(!write_done, "health and preview waited for the write");
    writer.await.unwrap();
    assert!(app.store.paper_count().unwrap() > 20_000);
    app.stop().await;
}

// ---- Issue 8: weaknesses ----

#[tokio::test]
async fn confirmation_needs_the_button_and_get_or_head_change_nothing() {
    let app = spawn().await;
    app.subscribe("ada@example.org", "llm").await;
    app.subscribe("bob@example.org", "llm").await;
    let confirm = app.mails_to("ada@example.org").await[0].path(&app.base, "confirm");
    let bobs = app.mails_to("bob@example.org").await[0].path(&app.base, "confirm");
    let pending = || app.subscriber("ada@example.org").status == SubscriberStatus::Pending;

    // What link scanners do: HEAD and GET, repeatedly.
    for _ in 0..2 {
        let head = app.http.head(app.url(&confirm)).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        let page = app.get(&confirm).await.text().await.unwrap();
        assert!(
            page.contains(r#"<form id="confirm-form" method="post""#),
            "{page}"
        );
    }
    assert!(pending(), "HEAD and GET confirmed nobody");

    // Posts not made from this link's page.
    let bobs_csrf = csrf_of(&app.get(&bobs).await.text().await.unwrap(), "confirm-form");
    for (body, why) in [
        (String::new(), "no field"),
        (form(&[("csrf", &"0".repeat(64))]), "a made-up field"),
        (form(&[("csrf", &bobs_csrf)]), "another link's field"),
    ] {
        let r = app.post(&confirm, body).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{why}");
        assert_readable_page(&r.text().await.unwrap(), "This form is out of date");
        assert!(pending(), "{why} confirmed nobody");
    }

    let r = app.confirm(&confirm).await;
    assert_readable_page(&r.text().await.unwrap(), "You're subscribed");
    assert_eq!(
        app.subscriber("ada@example.org").status,
        SubscriberStatus::Active
    );
    assert_eq!(
        app.subscriber("bob@example.org").status,
        SubscriberStatus::Pending
    );
    app.stop().await;
}

#[tokio::test]
async fn spellings_of_one_mailbox_share_its_daily_confirmation_limit() {
    // Arrange: three confirmation mails a day per mailbox (the default).
    let app = spawn().await;
    let spellings = [
        "ada@xn--bcher-kva.example",
        "ADA+news@xn--bcher-kva.example",
        "Ada+x@XN--BCHER-KVA.EXAMPLE",
        // Over the limit from here on: the same mailbox in Unicode, NFD and tagged.
        "ada@bücher.example",
        "ada@bu\u{308}cher.example",
        "ada+more@BÜCHER.example",
        "ADA+Z@xn--bcher-kva.example",
    ];
    // Act
    for email in spellings {
        let (status, body) = app.subscribe(email, "llm").await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
        assert_readable_page(&body, "Check your inbox");
    }
    // Assert: three mails in all; the addresses were stored as typed.
    assert_eq!(app.mails().await.len(), 3);
    assert_eq!(
        app.subscriber("ADA+news@xn--bcher-kva.example")
            .email
            .as_ref(),
        "ADA+news@xn--bcher-kva.example"
    );
    app.stop().await;
}

#[tokio::test]
async fn old_links_cannot_touch_a_new_sign_up_of_the_same_address() {
    let app = spawn().await;
    // An active reader with their preferences page open.
    let carol = app.add_active("carol@example.org", "llm");
    let prefs = format!("preferences/{}", app.manage_token(&carol));
    let csrf = csrf_of(
        &app.get(&prefs).await.text().await.unwrap(),
        "preferences-form",
    );
    let r = app
        .post(
            &format!("unsubscribe/{}", app.manage_token(&carol)),
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.get(&prefs).await.status(), StatusCode::NOT_FOUND);

    // They (or someone) sign up again: pending, with new topics.
    app.subscribe("carol@example.org", "robots").await;
    let again = app.subscriber("carol@example.org");
    assert_eq!(again.status, SubscriberStatus::Pending);
    assert_ne!(app.manage_token(&again), app.manage_token(&carol));
    let hijack = form(&[
        ("csrf", &csrf),
        ("action", "save"),
        ("topics", "hijacked"),
        ("frequency", "daily"),
    ]);
    let r = app.post(&prefs, hijack).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "the old link is spent");
    let s = app.subscriber("carol@example.org");
    assert_eq!(
        (s.status, s.topics.to_string(), s.frequency),
        (
            SubscriberStatus::Pending,
            "robots".into(),
            Frequency::Weekly
        )
    );

    // A second sign-up spends the first one's confirmation link.
    app.subscribe("carol@example.org", "graphs").await;
    let mails = app.mails_to("carol@example.org").await;
    let (first, latest) = (
        mails[mails.len() - 2].path(&app.base, "confirm"),
        mails[mails.len() - 1].path(&app.base, "confirm"),
    );
    let r = app.get(&first).await;
    assert_readable_page(&r.text().await.unwrap(), "already used");
    assert_eq!(
        app.subscriber("carol@example.org").status,
        SubscriberStatus::Pending
    );
    let r = app.confirm(&latest).await;
    assert_readable_page(&r.text().await.unwrap(), "You're subscribed");
    let s = app.subscriber("carol@example.org");
    assert_eq!(
        (s.status, s.topics.to_string()),
        (SubscriberStatus::Active, "graphs".into())
    );
    app.stop().await;
}

/// The app with a `/status` page that says "status page".
async fn spawn_with_status(settings: WebSettings) -> TestApp {
    spawn_configured(settings, |state| {
        state.status = Some(Arc::new(|_| Ok(maud::html! { p { "status page" } })));
    })
    .await
}

#[tokio::test]
async fn non_ascii_topics_never_drop_the_connection_or_fail_the_server() {
    let app = spawn().await;
    let cases: [(&str, &str, &str); 6] = [
        ("café", "", "a Latin letter with an accent"),
        ("日本語", "", "CJK"),
        (
            "author:\"Łukasz Kaiser\"",
            "",
            "an author with a Polish letter",
        ),
        ("au: Łukasz", "", "the short author form"),
        ("", "Émile Borel", "the authors field"),
        (
            "café, -日本語, \"Łódź graphs\"",
            "Łukasz Kaiser, Émile Borel",
            "all at once",
        ),
    ];
    for (i, (topics, authors, what)) in cases.into_iter().enumerate() {
        // GET /preview
        let query = form(&[("topics", topics), ("authors", authors)]);
        let r = app
            .http
            .get(app.url(&format!("preview?{query}")))
            .send()
            .await;
        let r = r.unwrap_or_else(|e| panic!("preview of {what}: connection dropped: {e}"));
        assert!(r.status().is_success(), "preview of {what}: {}", r.status());
        assert_readable_page(&r.text().await.unwrap(), "preview");

        // POST /subscribe
        let email = format!("reader{i}@example.org");
        let body = form(&[
            ("email", &email),
            ("topics", topics),
            ("authors", authors),
            ("frequency", "weekly"),
        ]);
        let r = app
            .http
            .post(app.url("subscribe"))
            .header(CONTENT_TYPE, FORM)
            .body(body);
        let r = r
            .send()
            .await
            .unwrap_or_else(|e| panic!("sign-up with {what}: {e}"));
        assert_eq!(r.status(), StatusCode::OK, "sign-up with {what}");
        app.subscriber(&email); // the stored row reads back

        // POST /preferences, then the page again
        let sub = app.add_active(&format!("active{i}@example.org"), "llm");
        let path = format!("preferences/{}", app.manage_token(&sub));
        let csrf = csrf_of(
            &app.get(&path).await.text().await.unwrap(),
            "preferences-form",
        );
        let body = form(&[
            ("csrf", &csrf),
            ("action", "save"),
            ("topics", topics),
            ("authors", authors),
            ("frequency", "weekly"),
        ]);
        let r = app
            .http
            .post(app.url(&path))
            .header(CONTENT_TYPE, FORM)
            .body(body);
        let r = r
            .send()
            .await
            .unwrap_or_else(|e| panic!("preferences with {what}: {e}"));
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "preferences with {what}");
        let page = app.get(&path).await;
        assert_eq!(
            page.status(),
            StatusCode::OK,
            "preferences page after {what}"
        );
    }
    assert_eq!(app.get("healthz").await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_answers_is_cut_off() {
    let app = spawn_with(WebSettings {
        body_timeout_secs: 1,
        ..WebSettings::default()
    })
    .await;
    use tokio::io::AsyncWriteExt;
    // Pipelined requests for the home page, written for ever, answers never read: once
    // the socket buffers are full the server's writes stall.
    let stream = connect_from([127, 0, 0, 2], app.addr()).await;
    let (_never_read, mut write) = stream.into_split();
    let requests = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100);
    let cut = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while write.write_all(&requests).await.is_ok() {}
    })
    .await;
    assert!(cut.is_ok(), "the server closed the stalled connection");
    assert_eq!(app.get("healthz").await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let app = spawn_with(WebSettings {
        header_timeout_secs: 1,
        ..WebSettings::default()
    })
    .await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = connect_from([127, 0, 0, 1], app.addr()).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // The answer, on a connection kept alive; then nothing more is sent.
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.ends_with(b"ok\n") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("connection: close"), "kept alive: {head}");
    let n = tokio::time::timeout(std::time::Duration::from_secs(20), s.read(&mut buf))
        .await
        .expect("the server closes the idle connection")
        .unwrap_or(0);
    assert_eq!(n, 0, "closed without another answer");
    app.stop().await;
}

#[tokio::test]
async fn the_status_page_writes_the_editors_note_and_pins_that_the_archive_then_shows() {
    // Arrange: the status page and an operator signed in; week 2026-W48 has a public
    // edition.
    let app = spawn_with_status(WebSettings::default()).await;
    add_operator(&app, "editor", "a long enough password");
    let editor = OperatorBrowser::new(&app)
        .signed_in("editor", "a long enough password")
        .await;
    let page = editor.get("status").await.text().await.unwrap();
    assert!(
        page.contains("Editor's note and picks — 2026-W48"),
        "{page}"
    );
    assert!(
        !page.contains("http-equiv=\"refresh\""),
        "no reload while typing"
    );
    let csrf = csrf_of(&page, "editorial");
    let post = |pairs: Vec<(&'static str, String)>| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        editor.post("status/editorial", body)
    };
    let with = |action: &'static str, rest: &[(&'static str, &str)]| {
        let mut v = vec![
            ("csrf", csrf.clone()),
            ("action", action.to_string()),
            ("edition", "2026-W48".to_string()),
        ];
        v.extend(rest.iter().map(|(k, val)| (*k, val.to_string())));
        v
    };

    // Act: a note and a pin, as the forms post them.
    let r = post(with("note", &[("note", "  A week of scaling laws.  ")])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/status?edition=2026-W48#editorial");
    let r = post(with(
        "pin",
        &[("paper", "arXiv:2611.01003v1"), ("note", "Read first")],
    ))
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Assert: stored as the CLI stores them; bad posts are refused and change nothing.
    let editorial = app.store.editorial("2026-W48").unwrap();
    assert_eq!(editorial.note.as_deref(), Some("A week of scaling laws."));
    assert_eq!(editorial.pins.len(), 1);
    assert_eq!(editorial.pins[0].paper_id.as_str(), "2611.01003");
    let long = "x".repeat(501);
    type Post = Vec<(&'static str, String)>;
    let bad: [(Post, StatusCode, &str); 5] = [
        (
            with("note", &[("note", "forged")])[1..].to_vec(),
            StatusCode::FORBIDDEN,
            "no CSRF field",
        ),
        (
            vec![
                ("csrf", csrf.clone()),
                ("action", "note".into()),
                ("edition", "W48".into()),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "not an edition",
        ),
        (
            with("pin", &[("paper", "nope")]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not an arXiv id",
        ),
        (
            with("note", &[("note", &long)]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a note too long",
        ),
        (
            with("drop", &[]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "an unknown action",
        ),
    ];
    for (pairs, status, why) in bad {
        assert_eq!(post(pairs).await.status(), status, "{why}");
    }
    assert_eq!(app.store.editorial("2026-W48").unwrap(), editorial);
    let page = editor
        .get("status?edition=2026-W48")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("A week of scaling laws.") && page.contains("2611.01003"));

    // The public archive of the edition: the note, then the pinned paper, marked, first.
    let archive = app.get("archive/2026-W48").await.text().await.unwrap();
    let note = archive.find("A week of scaling laws.").expect("the note");
    let mark = archive
        .find("★ Editor&#39;s pick")
        .or_else(|| archive.find("★ Editor's pick"));
    let mark = mark.expect("the pick is marked");
    let pinned = mark + archive[mark..].find("Paper 4").unwrap();
    let first_public = mark + archive[mark..].find("Paper 1").unwrap();
    assert!(note < mark && pinned < first_public, "the pick leads");
    assert!(archive.contains("Read first"));

    // Unpinning removes it.
    let r = post(with("unpin", &[("paper", "2611.01003")])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.editorial("2026-W48").unwrap().pins.is_empty());
    app.stop().await;
}

/// `serve` keeps one writer connection and a few read-only ones (WAL): a write in progress,
/// here one holding this process's writer while another process holds SQLite's write lock,
/// does not hold up the health check or an archive page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_from_the_web_answer_while_a_long_write_holds_the_writer() {
    if support::on_postgres() {
        eprintln!(
            "skipped on PostgreSQL: holds SQLite's write lock from another connection (WAL readers)"
        );
        return;
    }
    // Arrange: another process's write transaction, left open.
    let app = spawn().await;
    let path = app._db.path().join("paperpost.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO meta (key, value) VALUES ('other', 'x');")
        .unwrap();
    // …and a write of ours that holds the writer until told to finish.
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let store = app.store.clone();
    let writer = std::thread::spawn(move || {
        store.meta_or_init("test.long_write", move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            "done".into()
        })
    });
    started_rx
        .recv()
        .expect("the write started and holds the writer");

    // Act: reads while the writer is held, each with a deadline far beyond a normal answer.
    let deadline = std::time::Duration::from_secs(5);
    let health = tokio::time::timeout(deadline, app.get("healthz"))
        .await
        .expect("/healthz answers while the writer is held");
    let page = tokio::time::timeout(deadline, app.get("archive/2026-W48"))
        .await
        .expect("an archive page answers while the writer is held");

    // Assert
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(page.status(), StatusCode::OK);
    assert_readable_page(&page.text().await.unwrap(), "Scaling Diffusion Models");
    assert!(!writer.is_finished(), "the write was still in progress");
    other.execute_batch("COMMIT").unwrap();
    release_tx.send(()).unwrap();
    assert_eq!(writer.join().unwrap().unwrap(), "done");
    app.stop().await;
}
