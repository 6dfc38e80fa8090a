//! The real Fetcher and fetch_all against a real local HTTP server serving the fixtures.
use crate::support;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use paperpost::sources::{Fetcher, SourceReport, fetch_all};
use support::{TestServer, fetcher, fixture, reply, reply_with, sources};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 10, 25).unwrap()
}

async fn run(cfg: &str, f: &Fetcher) -> Vec<SourceReport> {
    fetch_all(&sources(cfg), f, today(), &|_| {}).await
}

fn hf_source(base: &str, name: &str) -> String {
    format!(
        "[[sources]]\nname = \"{name}\"\nkind = \"hf_daily\"\nurl = \"{base}/api/daily_papers\"\ndays = 1\n"
    )
}

#[tokio::test]
async fn hf_pages_until_the_empty_page() {
    let server = TestServer::start(|seen, _| match seen.param("p") {
        Some("0") => reply(200, fixture("hf_daily_papers_2024-10-25_full.json")),
        Some("1") => reply(
            200,
            format!(
                "[{}]",
                fixture("hf_daily_papers_item_2026-03_full_fields.json")
            ),
        ),
        _ => reply(200, "[]"),
    })
    .await;
    let progress = std::sync::Mutex::new(Vec::new());
    let reports = fetch_all(
        &sources(&hf_source(&server.base, "hf")),
        &fetcher(),
        today(),
        &|r| progress.lock().unwrap().push(r.name.clone()),
    )
    .await;
    let r = &reports[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!((r.papers.len(), r.documents, r.not_modified), (30, 3, 0));
    assert!(r.papers.iter().all(|p| p.sources.contains("hf")));
    assert_eq!(*progress.lock().unwrap(), ["hf"]);
    let seen = server.seen();
    let pages: Vec<_> = seen
        .iter()
        .map(|s| s.param("p").unwrap().to_string())
        .collect();
    assert_eq!(pages, ["0", "1", "2"]);
    assert!(seen.iter().all(|s| s.path == "/api/daily_papers"
        && s.param("date") == Some("2024-10-25")
        && s.param("limit") == Some("50")));
    assert!(
        seen.iter()
            .all(|s| s.header("user-agent").unwrap().contains("paperpost"))
    );
    server.stop().await;
}

#[tokio::test]
async fn two_server_errors_then_success_recovers_in_three_requests() {
    let server = TestServer::start(|seen, n| match (n, seen.param("p")) {
        (0 | 1, _) => reply(500, "oops"),
        (_, Some("0")) => reply(200, fixture("hf_daily_papers_2024-10-25_full.json")),
        _ => reply(200, "[]"),
    })
    .await;
    let r = &run(&hf_source(&server.base, "hf"), &fetcher()).await[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.papers.len(), 29);
    let p: Vec<_> = server
        .seen()
        .iter()
        .map(|s| s.param("p").unwrap().to_string())
        .collect();
    assert_eq!(
        p,
        ["0", "0", "0", "1"],
        "3 requests for page 0, then the end marker"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_source_that_always_fails_does_not_stop_the_others() {
    let server = TestServer::start(|seen, _| match seen.path.as_str() {
        "/atom/cs.AI" => reply(200, fixture("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml")),
        _ => reply(500, "down"),
    })
    .await;
    let cfg = format!(
        "{}[[sources]]\nname = \"arxiv-ai\"\nkind = \"arxiv_feed\"\nurl = \"{}/atom\"\ncategories = [\"cs.AI\"]\n",
        hf_source(&server.base, "hf"),
        server.base
    );
    let reports = run(&cfg, &fetcher()).await;
    let (hf, feed) = (&reports[0], &reports[1]);
    let err = hf.error.as_ref().expect("hf fails").to_string();
    let url = format!(
        "{}/api/daily_papers?date=2024-10-25&limit=50&p=0",
        server.base
    );
    assert_eq!(
        err,
        format!("source \"hf\": GET {url}: HTTP 500 after 3 attempts")
    );
    assert!(hf.papers.is_empty());
    assert!(feed.error.is_none(), "{:?}", feed.error);
    assert_eq!(feed.papers.len(), 7);
    let hf_requests = server
        .seen()
        .iter()
        .filter(|s| s.path == "/api/daily_papers")
        .count();
    assert_eq!(hf_requests, 3, "1 attempt + max_retries 2");
    server.stop().await;
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let server = TestServer::start(|seen, n| match (n, seen.param("p")) {
        (0, _) => reply_with(429, &[("retry-after", "1")], "slow down"),
        (_, Some("0")) => reply(
            200,
            fixture("hf_daily_papers_item_2026-03_full_fields.json"),
        ),
        _ => reply(200, "[]"),
    })
    .await;
    let started = Instant::now();
    let r = &run(&hf_source(&server.base, "hf"), &fetcher()).await[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.papers.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_huge_retry_after_is_capped() {
    let server = TestServer::start(|_, n| match n {
        0 => reply_with(429, &[("retry-after", "3600")], ""),
        _ => reply(200, "[]"),
    })
    .await;
    let f = Fetcher::new(paperpost::sources::FetchOptions {
        max_wait: Duration::from_millis(100),
        ..support::options()
    })
    .unwrap();
    let started = Instant::now();
    let r = &run(&hf_source(&server.base, "hf"), &f).await[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.seen().len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn validators_make_the_second_fetch_a_304() {
    const ETAG: &str = "\"feed-v1\"";
    const LM: &str = "Wed, 20 Aug 2025 04:00:19 GMT";
    let server = TestServer::start(|seen, _| {
        if seen.header("if-none-match") == Some(ETAG) {
            return reply(304, "");
        }
        let doc = fixture("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml");
        reply_with(200, &[("etag", ETAG), ("last-modified", LM)], doc)
    })
    .await;
    let cfg = format!(
        "[[sources]]\nname = \"ai\"\nkind = \"arxiv_feed\"\nurl = \"{}/atom\"\ncategories = [\"cs.AI\", \"cs.CL\"]\n",
        server.base
    );
    let first = fetcher();
    let r = &run(&cfg, &first).await[0];
    assert_eq!((r.papers.len(), r.documents, r.not_modified), (7, 1, 0));
    let saved = first.validators();
    let url = format!("{}/atom/cs.AI+cs.CL", server.base);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].0, url);
    assert_eq!(saved[0].1.etag.as_deref(), Some(ETAG));
    // As the store would: a new run, seeded with what the last one saved.
    let persisted = serde_json::to_string(&saved).unwrap();
    let second = fetcher().with_validators(serde_json::from_str(&persisted).unwrap());
    let r = &run(&cfg, &second).await[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!((r.papers.len(), r.documents, r.not_modified), (0, 0, 1));
    let seen = server.seen();
    assert_eq!(seen[0].header("if-none-match"), None);
    assert_eq!(seen[1].header("if-none-match"), Some(ETAG));
    assert_eq!(seen[1].header("if-modified-since"), Some(LM));
    assert_eq!(seen[1].path, "/atom/cs.AI+cs.CL");
    server.stop().await;
}

fn api_source(base: &str, query: &str, max_results: u32, page_size: u32) -> String {
    format!(
        "[[sources]]\nname = \"q\"\nkind = \"arxiv_api\"\nurl = \"{base}/api/query\"\nquery = \"{query}\"\n\
         max_results = {max_results}\npage_size = {page_size}\ndelay_secs = 0\n"
    )
}

#[tokio::test]
async fn the_arxiv_api_is_paged_with_start_and_max_results() {
    let server = TestServer::start(|seen, _| match seen.param("start") {
        Some("0") => reply(200, fixture("arxiv_api_2026_query_testing_max10.xml")),
        Some("10") => reply(200, fixture("arxiv_api_legacy2016_au_del_maestro.xml")),
        _ => reply(
            200,
            fixture("arxiv_api_legacy2016_au_del_maestro_AND_ti_checkerboard.xml"),
        ),
    })
    .await;
    let r = &run(&api_source(&server.base, "all:testing", 25, 10), &fetcher()).await[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.documents, 3);
    assert!(r.papers.len() >= 20, "{}", r.papers.len());
    let seen = server.seen();
    let pages: Vec<_> = seen
        .iter()
        .map(|s| {
            (
                s.param("start").unwrap().to_string(),
                s.param("max_results").unwrap().to_string(),
            )
        })
        .collect();
    let want =
        [("0", "10"), ("10", "10"), ("20", "5")].map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(pages, want);
    assert!(
        seen.iter()
            .all(|s| s.param("search_query") == Some("all:testing")
                && s.param("sortBy") == Some("submittedDate")
                && s.param("sortOrder") == Some("descending"))
    );
    server.stop().await;
}

#[tokio::test]
async fn the_arxiv_api_stops_at_total_results_and_at_an_empty_page() {
    for (doc, papers) in [
        ("arxiv_api_2026_id_list_1605.08386.xml", 1),
        ("arxiv_api_2026_empty_result_id_0000.0000.xml", 0),
    ] {
        let server = TestServer::start(move |_, _| reply(200, fixture(doc))).await;
        let r = &run(&api_source(&server.base, "id:x", 300, 100), &fetcher()).await[0];
        assert!(r.error.is_none(), "{doc}: {:?}", r.error);
        assert_eq!(r.papers.len(), papers, "{doc}");
        assert_eq!(server.seen().len(), 1, "{doc}: one request");
        server.stop().await;
    }
}

#[tokio::test]
async fn an_arxiv_400_names_the_query_and_quotes_the_reason() {
    let server =
        TestServer::start(|_, _| reply(400, fixture("arxiv_api_2026_error_400_id_abc.xml"))).await;
    let r = &run(&api_source(&server.base, "id:abc", 10, 10), &fetcher()).await[0];
    let err = r.error.as_ref().unwrap().to_string();
    assert_eq!(
        err,
        "source \"q\": arXiv API rejected query \"id:abc\": incorrect id format for abc"
    );
    assert_eq!(server.seen().len(), 1, "a 400 is not retried");
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_page_keeps_earlier_pages_and_says_where_it_broke() {
    let server = TestServer::start(|seen, _| match seen.param("p") {
        Some("0") => reply_with(
            200,
            &[("etag", "\"p0\"")],
            fixture("hf_daily_papers_2024-10-25_full.json"),
        ),
        _ => reply_with(
            200,
            &[("etag", "\"p1\"")],
            "[{\"paper\": {\"id\": \"2410.17243\",\n \"upvotes\": \"many\"}}]",
        ),
    })
    .await;
    let f = fetcher();
    let r = &run(&hf_source(&server.base, "hf"), &f).await[0];
    assert_eq!(r.papers.len(), 29, "page 0 is kept");
    let err = r.error.as_ref().unwrap().to_string();
    let url = format!(
        "{}/api/daily_papers?date=2024-10-25&limit=50&p=1",
        server.base
    );
    assert!(
        err.starts_with(&format!(
            "source \"hf\": {url}: invalid JSON at line 2, column 18: invalid type: string"
        )),
        "{err}"
    );
    let remembered: Vec<_> = f.validators().into_iter().map(|(u, _)| u).collect();
    assert!(
        !remembered.contains(&url),
        "a page that could not be used is not remembered"
    );
    assert_eq!(remembered.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn connection_errors_are_retried_then_reported_with_the_url() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let r = &run(&hf_source(&base, "hf"), &fetcher()).await[0];
    let err = r.error.as_ref().unwrap().to_string();
    let url = format!("{base}/api/daily_papers?date=2024-10-25&limit=50&p=0");
    assert!(
        err.starts_with(&format!("source \"hf\": GET {url}: ")),
        "{err}"
    );
    assert!(err.ends_with("after 3 attempts"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_bodies_and_deep_documents_fail_their_own_source_and_the_others_go_on() {
    // Arrange: the recorded HF day next to five hostile sources on a real local server.
    let good = support::recorded::recorded_sources().await;
    let evil = support::hostile::HostileServer::start().await;
    let e = &evil.base;
    let cfg = format!(
        "{}
[[sources]]
name = \"endless-ok\"
kind = \"hf_daily\"
url = \"{e}/endless-200\"
days = 1

[[sources]]
name = \"endless-small\"
kind = \"hf_daily\"
url = \"{e}/endless-200-small\"
days = 1
max_body_bytes = 1048576

[[sources]]
name = \"endless-404\"
kind = \"hf_daily\"
url = \"{e}/endless-404\"
days = 1

[[sources]]
name = \"deep-xml\"
kind = \"arxiv_feed\"
url = \"{e}/deep-xml\"
categories = [\"cs.AI\"]

[[sources]]
name = \"deep-json\"
kind = \"hf_daily\"
url = \"{e}/deep-json\"
days = 1
",
        hf_source(&good.base, "hf")
    );

    // Act
    let reports = run(&cfg, &fetcher()).await;

    // Assert: the good source's papers are there; each hostile one failed alone, saying
    // which source and which limit.
    let by_name = |n: &str| reports.iter().find(|r| r.name == n).unwrap();
    let hf = by_name("hf");
    assert!(hf.error.is_none(), "{:?}", hf.error);
    assert_eq!(hf.papers.len(), 29, "the recorded day's papers");
    let expect = [
        (
            "endless-ok",
            "larger than the limit of 52428800 bytes (max_body_bytes)",
        ),
        (
            "endless-small",
            "larger than the limit of 1048576 bytes (max_body_bytes)",
        ),
        ("endless-404", "HTTP 404"),
        (
            "deep-xml",
            "nested deeper than 256 levels (the depth limit)",
        ),
        (
            "deep-json",
            "nested deeper than 128 levels (the depth limit)",
        ),
    ];
    for (name, what) in expect {
        let r = by_name(name);
        let err = r
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("{name} did not fail"))
            .to_string();
        assert!(err.starts_with(&format!("source \"{name}\":")), "{err}");
        assert!(err.contains(what), "{name}: {err}");
        assert!(r.papers.is_empty(), "{name}");
    }
    // The endless bodies were abandoned just past their limits (50 MiB + 1 MiB + 64 KiB,
    // plus what sat in socket buffers), not read for the whole 10 s timeout.
    let written = evil.written();
    assert!(
        written < 80 * 1024 * 1024,
        "the server wrote {written} bytes"
    );
    // The peak is the single_pass binary's, the other modules' share in it too (~270 MB
    // measured with the relevance floors and the connection floods beside this test, ~70 MB
    // for this file alone): still far below what reading the bodies for 10 s would take.
    let peak = support::peak_rss();
    eprintln!("server wrote {written} bytes; peak RSS {peak} bytes");
    assert!(peak < 600 * 1024 * 1024, "peak RSS {peak} bytes");
    evil.stop();
    good.stop().await;
}

#[tokio::test]
async fn a_local_file_is_read_up_to_its_limit_and_no_further() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, format!("[{}]", " ".repeat(4096))).unwrap();
    let deep = dir.path().join("deep.xml");
    std::fs::write(&deep, support::hostile::deep_xml()).unwrap();
    let deep_json = dir.path().join("deep.json");
    std::fs::write(&deep_json, support::hostile::deep_json()).unwrap();
    let cfg = format!(
        "[[sources]]\nname = \"big\"\nkind = \"file\"\npath = {big:?}\nmax_body_bytes = 2048\n\
         [[sources]]\nname = \"endless\"\nkind = \"file\"\npath = \"/dev/zero\"\nmax_body_bytes = 4096\n\
         [[sources]]\nname = \"deep\"\nkind = \"file\"\npath = {deep:?}\n\
         [[sources]]\nname = \"deep-json\"\nkind = \"file\"\npath = {deep_json:?}\n\
         [[sources]]\nname = \"fine\"\nkind = \"file\"\npath = {:?}\n",
        support::fixture_path("hf_daily_papers_2024-10-25_full.json")
    );
    let reports = run(&cfg, &fetcher()).await;
    for (r, what) in reports.iter().zip([
        "larger than the limit of 2048 bytes",
        "larger than the limit of 4096 bytes",
        "nested deeper than 256 levels",
        "nested deeper than 128 levels",
    ]) {
        let err = r.error.as_ref().expect(&r.name).to_string();
        assert!(err.contains(what) && err.contains(&r.name), "{err}");
    }
    assert!(reports[4].error.is_none(), "{:?}", reports[4].error);
    assert_eq!(reports[4].papers.len(), 29);
}

/// An arXiv feed source at `feed_base` (`/atom/cs.AI`), with more keys after.
fn feed_source(feed_base: &str, extra: &str) -> String {
    format!(
        "[[sources]]\nname = \"ai\"\nkind = \"arxiv_feed\"\nurl = \"{feed_base}/atom\"\ncategories = [\"cs.AI\"]\n{extra}"
    )
}

/// A server that answers every request with `302 Location: location(path)`.
async fn redirecting(location: impl Fn(&str) -> String + Send + Sync + 'static) -> TestServer {
    TestServer::start(move |seen, _| reply_with(302, &[("location", &location(&seen.path))], ""))
        .await
}

/// The example: a feed redirected to another port of the same machine
/// (`127.0.0.1:OTHER/internal-secret`), and the same to another host name.
#[tokio::test]
async fn a_redirect_to_another_host_or_port_is_refused_naming_the_source_the_url_and_the_location()
{
    // Arrange: a "secret" server on another port, and feeds that redirect to it.
    let secret = TestServer::start(|_, _| reply(200, "internal secret")).await;
    let secret_url = secret.url("/internal-secret");
    let to_port = {
        let to = secret_url.clone();
        redirecting(move |_| to.clone()).await
    };
    let other_name = secret_url.replace("127.0.0.1", "localhost");
    let to_name = {
        let to = other_name.clone();
        redirecting(move |_| to.clone()).await
    };

    for (feed, location) in [(&to_port, &secret_url), (&to_name, &other_name)] {
        // Act
        let r = &run(&feed_source(&feed.base, ""), &fetcher()).await[0];

        // Assert: an error naming the source, the URL and the Location; asked once.
        let err = r
            .error
            .as_ref()
            .expect("the redirect is refused")
            .to_string();
        let url = format!("{}/atom/cs.AI", feed.base);
        assert!(
            err.starts_with(&format!(
                "source \"ai\": GET {url}: redirect to {location} refused: "
            )),
            "{err}"
        );
        assert!(err.contains("allow_redirect_hosts"), "{err}");
        assert_eq!(feed.seen().len(), 1, "not retried: {err}");
    }
    assert!(secret.seen().is_empty(), "the secret was never fetched");
    for s in [to_port, to_name, secret] {
        s.stop().await;
    }
}

/// The other example: a redirect loop was retried 4 times.
#[tokio::test]
async fn a_redirect_loop_or_too_many_hops_is_an_error_at_once_and_never_retried() {
    // A loop: /atom/cs.AI → /b → /atom/cs.AI.
    let looping =
        redirecting(|path| if path == "/b" { "/atom/cs.AI" } else { "/b" }.to_string()).await;
    let r = &run(&feed_source(&looping.base, ""), &fetcher()).await[0];
    let err = r.error.as_ref().expect("a loop fails").to_string();
    let url = format!("{}/atom/cs.AI", looping.base);
    assert!(
        err.starts_with(&format!(
            "source \"ai\": GET {url}: redirect to {url} refused: a redirect loop"
        )),
        "{err}"
    );
    let paths: Vec<_> = looping.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        ["/atom/cs.AI", "/b"],
        "each URL asked once, no retry"
    );

    // An endless chain of new URLs: /atom/cs.AI → /1 → /2 → …
    let endless = redirecting(|path| {
        let n: u32 = path.trim_start_matches('/').parse().unwrap_or(0);
        format!("/{}", n + 1)
    })
    .await;
    let r = &run(&feed_source(&endless.base, ""), &fetcher()).await[0];
    let err = r.error.as_ref().expect("too many hops fail").to_string();
    assert!(err.contains("more than 10 redirects"), "{err}");
    assert_eq!(
        endless.seen().len(),
        11,
        "the first request and 10 hops: {err}"
    );
    looping.stop().await;
    endless.stop().await;
}

#[tokio::test]
async fn redirects_on_the_sources_own_host_and_to_a_listed_host_are_followed() {
    // Arrange: the feed itself on a server; a front that moved it on its own host, and
    // one that hands it to the feed's server (another port: listed).
    let feed = TestServer::start(|seen, _| match seen.path.as_str() {
        "/v2/atom/cs.AI" => reply(200, fixture("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml")),
        _ => reply_with(301, &[("location", "/v2/atom/cs.AI")], ""),
    })
    .await;
    let moved_to = feed.url("/v2/atom/cs.AI");
    let front = {
        let to = moved_to.clone();
        redirecting(move |_| to.clone()).await
    };
    let feed_host = feed.base.trim_start_matches("http://").to_string();

    // Act + assert: on its own host (a relative Location) …
    let r = &run(&feed_source(&feed.base, ""), &fetcher()).await[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.papers.len(), 7);
    // … and across to a host:port the source lists (then on within that host).
    let listed = format!("allow_redirect_hosts = [\"{feed_host}\"]\n");
    let r = &run(&feed_source(&front.base, &listed), &fetcher()).await[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.papers.len(), 7);
    // Listing another port of that host does not do.
    let other_port = front.base.trim_start_matches("http://");
    let wrong = format!("allow_redirect_hosts = [\"{other_port}\"]\n");
    let r = &run(&feed_source(&front.base, &wrong), &fetcher()).await[0];
    let err = r
        .error
        .as_ref()
        .expect("another port is refused")
        .to_string();
    assert!(
        err.contains(&format!("redirect to {moved_to} refused")),
        "{err}"
    );
    front.stop().await;
    feed.stop().await;
}
