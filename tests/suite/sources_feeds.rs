//! Any paper feed and the bioRxiv API end to end: recorded feeds and handmade bioRxiv
//! `details` pages served by a local HTTP server → `paperpost fetch` → the store (SQLite or
//! PostgreSQL) → `paperpost preview`. Papers not on arXiv are keyed by DOI; the same paper
//! seen by two sources (a bioRxiv feed item and the API's record, by DOI; a preprint and
//! its journal version, by the preprint's published DOI) is stored once.
use crate::support;

use std::sync::{Arc, Mutex};

use paperpost::domain::{Paper, PaperId};
use support::cli::{paperpost, stderr, stdout};
use support::newsletter::Config;
use support::{TestServer, fixture, reply};

const INTERVAL: &str = "/api/details/biorxiv/2023-12-16/2023-12-17";

/// The Wiley TOC (RSS 2.0) at `/toc.rss`, the bioRxiv genomics feed (RSS 1.0) at
/// `/biorxiv.rdf`, the two handmade `details` pages by cursor; `/toc.rss` answers
/// malformed XML once `broken` is set.
async fn server(broken: Arc<Mutex<bool>>) -> TestServer {
    TestServer::start(move |seen, _| match seen.path.as_str() {
        "/toc.rss" if *broken.lock().unwrap() => reply(
            200,
            "<rss version=\"2.0\"><channel>\n<item><title>cut</channel>",
        ),
        "/toc.rss" => reply(200, fixture("feed_rss2_wiley_taxon_2021-12-21.xml")),
        "/biorxiv.rdf" => reply(200, fixture("feed_rss1_biorxiv_genomics_2023-12-16.xml")),
        p if p == format!("{INTERVAL}/0") => {
            reply(200, fixture("biorxiv_details_page1_handmade.json"))
        }
        p if p == format!("{INTERVAL}/2") => {
            reply(200, fixture("biorxiv_details_page2_handmade.json"))
        }
        _ => reply(404, "not found"),
    })
    .await
}

fn sources(server: &TestServer) -> String {
    format!(
        r#"[[sources]]
name = "taxon"
kind = "feed"
url = "{toc}"

[[sources]]
name = "biorxiv-genomics"
kind = "feed"
url = "{rdf}"
[sources.fields]
doi = "dc:identifier"

[[sources]]
name = "biorxiv-api"
kind = "biorxiv"
url = "{api}"
server = "biorxiv"
interval = "2023-12-16/2023-12-17"
"#,
        toc = server.url("/toc.rss"),
        rdf = server.url("/biorxiv.rdf"),
        api = server.url("/api"),
    )
}

fn stored(store: &paperpost::store::Store, key: &str) -> Paper {
    let id = PaperId::try_from(key.to_string()).unwrap();
    store
        .papers_by_id(std::slice::from_ref(&id))
        .unwrap()
        .remove(&id)
        .unwrap_or_else(|| panic!("{key} is stored or an alias of a stored paper"))
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_and_biorxiv_pages_are_stored_once_per_paper_and_previewed() {
    // Arrange
    let broken = Arc::new(Mutex::new(false));
    let server = server(broken.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new()
        .table("[fetch]\nbackoff_ms = 10\nretries = 1\n")
        .table(&sources(&server))
        .write(dir.path());

    // Act
    let fetch = paperpost(&config, &["fetch"]);

    // Assert: 66 + 1 + 3 papers (the two versions of one preprint are one), two of them
    // the same as another source's.
    assert!(fetch.status.success(), "{}", stderr(&fetch));
    let cursors: Vec<String> = server
        .seen()
        .iter()
        .filter(|s| s.path.starts_with(INTERVAL))
        .map(|s| s.path.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(cursors, ["0", "2"], "two pages, by cursor");
    let store = support::open_store(&config);
    assert_eq!(store.paper_count().unwrap(), 68);

    // The bioRxiv feed's item and the API's record: one paper, by DOI.
    let genome = stored(&store, "doi:10.1101/2023.12.16.571984");
    assert_eq!(
        genome.id.as_ref().unwrap().as_str(),
        "doi:10.1101/2023.12.16.571984"
    );
    assert_eq!(
        genome.sources.iter().collect::<Vec<_>>(),
        ["biorxiv-api", "biorxiv-genomics"]
    );
    assert_eq!(genome.categories, ["genomics"]);
    assert_eq!(genome.version, Some(1));
    // The two versions of the API's other preprint: one paper, the newer version.
    let histone = stored(&store, "doi:10.1101/641381");
    assert_eq!(histone.version, Some(2));
    assert_eq!(histone.authors.len(), 8);

    // The preprint whose journal version is in the Wiley feed: merged into it, found by
    // either DOI, its text from bioRxiv (the better-ranked source), its links both.
    let journal = stored(&store, "doi:10.1002/tax.12650");
    assert_eq!(journal, stored(&store, "doi:10.1101/2021.06.01.446600"));
    assert_eq!(
        journal.id.as_ref().unwrap().as_str(),
        "doi:10.1002/tax.12650",
        "a stored paper keeps its id"
    );
    assert_eq!(
        journal.sources.iter().collect::<Vec<_>>(),
        ["biorxiv-api", "taxon"]
    );
    assert_eq!(journal.published_doi.as_deref(), Some("10.1002/tax.12650"));
    assert!(
        journal.title.starts_with("Handmade preprint"),
        "{}",
        journal.title
    );
    assert_eq!(journal.categories, ["plant biology", "RESEARCH ARTICLE"]);

    // A second fetch finds them all known.
    let again = paperpost(&config, &["fetch"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(store.paper_count().unwrap(), 68);

    // A DOI paper in the digest: its page, no arXiv link made up for it.
    let page = dir.path().join("preview.html");
    let preview = paperpost(
        &config,
        &[
            "preview",
            "--topics",
            "Leptospermum",
            "--out",
            page.to_str().unwrap(),
        ],
    );
    assert!(preview.status.success(), "{}", stderr(&preview));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("Handmade preprint: genome skimming of Leptospermum"),
        "the merged paper is picked"
    );
    assert!(
        html.contains("https://www.biorxiv.org/content/10.1101/2021.06.01.446600v3"),
        "its page"
    );
    assert!(
        !html.contains("arxiv.org/abs/doi"),
        "no arXiv link for a DOI"
    );

    // A feed that breaks: the source's error says which and where; nothing stored is lost.
    *broken.lock().unwrap() = true;
    let failed = paperpost(&config, &["fetch"]);
    let said = format!("{}{}", stdout(&failed), stderr(&failed));
    assert!(said.contains("taxon"), "{said}");
    assert!(said.contains("/toc.rss"), "{said}");
    assert!(said.contains("malformed XML at line 2"), "{said}");
    assert_eq!(store.paper_count().unwrap(), 68);
    assert_eq!(
        stored(&store, "doi:10.1002/tax.12650").sources.len(),
        2,
        "the stored paper is as it was"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn items_a_feed_cannot_key_are_skipped_counted_and_named_and_the_rest_are_stored() {
    // Arrange: a journal feed whose second item has no title and whose third has nothing
    // to key it by.
    let server = TestServer::start(|_, _| {
        reply(
            200,
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>J</title>
<item><title>A kept paper</title><link>https://journal.example.org/a/1</link></item>
<item><link>https://journal.example.org/a/2</link></item>
<item><title>Nowhere</title></item>
</channel></rss>"#,
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new()
        .table(&format!(
            "[[sources]]\nname = \"journal\"\nkind = \"feed\"\nurl = \"{}\"\n",
            server.url("/toc.rss")
        ))
        .write(dir.path());

    // Act
    let fetch = paperpost(&config, &["fetch"]);

    // Assert: one paper stored; the fetch says two items were skipped and why the first.
    assert!(fetch.status.success(), "{}", stderr(&fetch));
    let said = stdout(&fetch);
    assert!(
        said.contains("1 paper ,     1 new; 2 items skipped (the first: item 2"),
        "{said}"
    );
    assert!(said.contains("has no title"), "{said}");
    assert_eq!(support::open_store(&config).paper_count().unwrap(), 1);
    let status = stdout(&paperpost(&config, &["status"]));
    assert!(
        status.contains("journal: 1 paper (1 new, 2 skipped)"),
        "{status}"
    );
}
