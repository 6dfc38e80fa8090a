//! A reader's own library seeds their profile: the parsers on real exports (Zotero, Google
//! Scholar, JabRef, pandoc's CSL-JSON, IEEE Xplore, JSTOR, DBLP, Springer, PubMed — see
//! tests/fixtures/README.md), `subscribers seed` end to end on the configured store (SQLite
//! file, or PostgreSQL with PAPERPOST_TEST_BACKEND=postgres), and the preferences page's
//! upload through a real server.
use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use paperpost::library::{self, Format, Library};
use support::cli;
use support::newsletter::{file_source, store_keys_for};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(support::fixture_path(&format!("library/{name}"))).unwrap()
}

fn read(name: &str) -> Library {
    library::read(&fixture(name), Some(name), None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The arXiv ids of the entries that have one, in file order.
fn arxiv_ids(lib: &Library) -> Vec<String> {
    lib.entries
        .iter()
        .filter_map(|e| e.arxiv.as_ref().map(|i| i.to_string()))
        .collect()
}

/// Each entry as `line key`, the key being its arXiv id, else its DOI, else its title.
fn keys(lib: &Library) -> Vec<String> {
    lib.entries
        .iter()
        .map(|e| {
            let key = match (&e.arxiv, &e.doi) {
                (Some(id), _) => format!("arxiv:{id}"),
                (None, Some(d)) => format!("doi:{d}"),
                (None, None) => format!("title:{}", e.title),
            };
            format!("{} {key}", e.line)
        })
        .collect()
}

#[test]
fn zoteros_biblatex_export_is_read_and_its_entry_missing_a_comma_is_bad_at_its_line() {
    let lib = read("zotero_biblatex_library.bib");
    assert_eq!(lib.format, Format::Bibtex);
    assert_eq!(
        keys(&lib),
        [
            "19 doi:10.4007/annals.2009.170.1417",
            "35 doi:10.1016/j.aim.2014.09.018",
            "50 doi:10.1006/jcph.1998.5962",
            "65 doi:10.1016/j.jcp.2014.02.031",
        ]
    );
    assert_eq!(lib.bad.len(), 1);
    assert_eq!(lib.bad[0].line, 2);
    assert!(
        lib.bad[0].reason.contains("comma at line 16"),
        "{}",
        lib.bad[0].reason
    );
    let euler = &lib.entries[0];
    assert_eq!(
        euler.title,
        "The Euler equations as a differential inclusion"
    );
    assert_eq!(euler.authors, ["Camillo De Lellis", "László Székelyhidi"]);
    assert_eq!(euler.year, Some(2009));
    assert_eq!(lib.entries[3].authors, ["Magnus Svärd", "Jan Nordström"]);
}

#[test]
fn zoteros_export_of_an_arxiv_preprint_gives_the_id_from_its_journal_and_note() {
    let lib = read("zotero_bibtex_arxiv_preprint.bib");
    assert_eq!(keys(&lib), ["1 arxiv:1310.8110"]);
    let e = &lib.entries[0];
    assert_eq!(
        e.title,
        "A new method to simulate the Bingham and related distributions in directional data \
         analysis with applications"
    );
    assert_eq!(e.authors.len(), 3);
}

#[test]
fn google_scholars_exports_read_latex_accents_and_drop_and_others() {
    let lib = read("google_scholar_one_entry.bib");
    assert_eq!(
        keys(&lib),
        ["1 title:Floating search methods in feature selection"]
    );
    assert_eq!(
        lib.entries[0].authors,
        ["Pavel Pudil", "Jana Novovičová", "Josef Kittler"]
    );
    assert_eq!(lib.entries[0].year, Some(1994));
    let prisma = read("google_scholar_prisma_refs.bib");
    assert_eq!(prisma.entries.len(), 2);
    assert!(prisma.bad.is_empty());
    let page = &prisma.entries[1];
    assert_eq!(
        page.authors.len(),
        10,
        "Scholar's `and others` is not an author"
    );
    assert_eq!(page.authors.last().unwrap(), "Sue E Brennan");
}

#[test]
fn a_jabref_library_reads_every_entry_with_its_arxiv_ids_and_skips_sets_strings_and_meta() {
    let lib = read("jabref_3.8.2_biblatex_examples.bib");
    assert!(lib.bad.is_empty(), "{:?}", lib.bad);
    assert_eq!(lib.skipped, 2, "the two @Set entries");
    assert_eq!(lib.entries.len(), 89);
    assert_eq!(
        arxiv_ids(&lib),
        [
            "math/0307200",
            "math/0307200",
            "hep-th/9603067",
            "1008.2849"
        ]
    );
    let angenendt = lib
        .entries
        .iter()
        .find(|e| e.title.starts_with("In Honore"))
        .unwrap();
    assert_eq!(angenendt.line, 33);
    assert_eq!(
        angenendt.title, "In Honore Salvatoris – Vom Sinn und Unsinn der Patrozinienkunde",
        "`~` is a space, `--` a dash"
    );
    assert_eq!(angenendt.year, Some(2002));
    assert!(
        lib.entries
            .iter()
            .any(|e| e.title.contains("Revue") || e.authors.iter().any(|a| a.contains('é'))),
        "LaTeX accents are decoded"
    );
}

#[test]
fn jabrefs_ris_export_and_pandocs_csl_json_read_every_record() {
    let ris = read("jabref_3.8.2_biblatex_examples.ris");
    assert_eq!(ris.format, Format::Ris);
    assert_eq!(ris.entries.len(), 89);
    assert!(ris.bad.is_empty(), "{:?}", ris.bad);
    assert_eq!(
        ris.skipped, 2,
        "the empty records JabRef writes for its two sets"
    );
    let csl = read("pandoc_2.17_csl_biblatex_examples.json");
    assert_eq!(csl.format, Format::CslJson);
    assert_eq!(csl.entries.len(), 89);
    assert!(csl.bad.is_empty(), "{:?}", csl.bad);
    assert_eq!(
        csl.skipped, 2,
        "pandoc writes the two sets as items with only a note"
    );
    assert_eq!(
        arxiv_ids(&csl),
        [
            "math/0307200",
            "math/0307200",
            "hep-th/9603067",
            "1008.2849"
        ]
    );
    // Lines point at each item's opening brace.
    let text = String::from_utf8(fixture("pandoc_2.17_csl_biblatex_examples.json")).unwrap();
    for e in &csl.entries {
        let line = text.lines().nth(e.line - 1).unwrap();
        assert!(
            line.trim_start().starts_with('{'),
            "line {}: {line}",
            e.line
        );
    }
}

#[test]
fn database_exports_in_ris_bibtex_and_csv_give_their_dois() {
    assert_eq!(
        keys(&read("ieee_xplore_export.ris")),
        [
            "1 doi:10.1234/random-name55555.2020.00050",
            "21 doi:10.1111/mc.2017.66"
        ]
    );
    let jstor = read("jstor_export.ris");
    assert!(jstor.bad.is_empty());
    assert!(jstor.entries.iter().all(|e| !e.title.is_empty()));
    assert_eq!(
        jstor.entries[0].line, 6,
        "the Provider header is not a record"
    );
    assert_eq!(
        keys(&read("dblp_export.bib")),
        ["1 doi:10.1111/7777777", "16 doi:10.3333/7777777.7777778"]
    );
    let ieee = read("ieee_xplore_export.csv");
    assert_eq!(ieee.format, Format::Csv);
    assert!(
        ieee.entries
            .iter()
            .all(|e| e.doi.is_some() && !e.abstract_text.is_empty())
    );
    assert_eq!(
        keys(&read("springer_link_export.csv")),
        ["2 doi:10.1007/11111"]
    );
    assert_eq!(
        keys(&read("pubmed_export.csv")),
        ["2 doi:10.1111/nature1111"],
        "PubMed's header starts with a byte order mark"
    );
}

// --- the command line ---

use cli::{quiet as paperpost, stderr, stdout};

/// A newsletter in `dir` whose file source holds HF Daily Papers of 2024-10-25.
fn newsletter(dir: &Path) -> PathBuf {
    let store = match store_keys_for(Some(dir)) {
        keys if keys.is_empty() => keys,
        keys => format!("\n[store]\n{keys}"),
    };
    let text = format!(
        "[newsletter]\nbase_url = \"https://papers.example.org/\"\n\
         from = \"paperpost <digest@example.org>\"\n\n{}{store}",
        file_source("hf", "hf_daily_papers_2024-10-25_full.json")
    );
    let config = dir.join("config.toml");
    std::fs::write(&config, text).unwrap();
    config
}

fn copy_fixture(dir: &Path, name: &str) -> String {
    let to = dir.join(name);
    std::fs::write(&to, fixture(name)).unwrap();
    to.display().to_string()
}

#[test]
fn subscribers_seed_reads_a_library_matches_stored_papers_and_show_lists_what_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = newsletter(dir.path());
    let ok = |o: &Output| assert!(o.status.success(), "{}\n{}", stdout(o), stderr(o));
    ok(&paperpost(&cfg, &["fetch"]));
    ok(&paperpost(&cfg, &["subscribers", "add", "ada@example.org"]));
    // A hand-made list naming two stored papers (HF's of that day) and one paperpost lacks.
    let mine = dir.path().join("mine.csv");
    std::fs::write(
        &mine,
        "https://arxiv.org/abs/2410.15580v1\narXiv:2410.16251\n10.48550/arXiv.2501.00001\n",
    )
    .unwrap();
    let mine = mine.display().to_string();

    let dry = paperpost(
        &cfg,
        &["subscribers", "seed", "ada@example.org", &mine, "--dry-run"],
    );
    ok(&dry);
    let out = stdout(&dry);
    assert!(out.contains("read 3 entries from"), "{out}");
    assert!(out.contains("(csv)"), "{out}");
    assert!(out.contains("2 matched stored papers"), "{out}");
    assert!(out.contains("1 kept as profile documents"), "{out}");
    assert!(out.contains("dry run: nothing stored"), "{out}");
    let show = stdout(&paperpost(
        &cfg,
        &["subscribers", "show", "ada@example.org"],
    ));
    assert!(show.contains("seeds:        none"), "{show}");

    let seeded = paperpost(&cfg, &["subscribers", "seed", "ADA@example.org", &mine]);
    ok(&seeded);
    assert!(
        stdout(&seeded).contains("3 added, 0 updated, 0 unchanged; 3 seeds in all"),
        "{}",
        stdout(&seeded)
    );
    let jabref = copy_fixture(dir.path(), "jabref_3.8.2_biblatex_examples.bib");
    let more = paperpost(&cfg, &["subscribers", "seed", "ada@example.org", &jabref]);
    ok(&more);
    assert!(
        stdout(&more).contains("read 89 entries"),
        "{}",
        stdout(&more)
    );
    assert!(
        stdout(&more).contains("2 blocks skipped"),
        "{}",
        stdout(&more)
    );
    let again = paperpost(&cfg, &["subscribers", "seed", "ada@example.org", &jabref]);
    ok(&again);
    let out = stdout(&again);
    assert!(
        out.contains("0 added, 0 updated,"),
        "the same file twice changes nothing: {out}"
    );

    let show = stdout(&paperpost(
        &cfg,
        &["subscribers", "show", "ada@example.org"],
    ));
    assert!(
        show.contains("of them stored papers (they count as liked)"),
        "{show}"
    );
    assert!(show.contains("from mine.csv (csv, "), "{show}");
    assert!(
        show.contains("from jabref_3.8.2_biblatex_examples.bib (bibtex, "),
        "{show}"
    );
    assert!(show.contains("    - "), "the first titles: {show}");
    assert!(show.contains("more"), "{show}");

    // A file with a bad entry: every bad entry by line, nothing imported, exit 1.
    let zotero = copy_fixture(dir.path(), "zotero_biblatex_library.bib");
    let bad = paperpost(&cfg, &["subscribers", "seed", "ada@example.org", &zotero]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(
        err.contains("zotero_biblatex_library.bib:2: bad entry: expected comma at line 16"),
        "{err}"
    );
    assert!(err.contains("nothing imported"), "{err}");
    let after = stdout(&paperpost(
        &cfg,
        &["subscribers", "show", "ada@example.org"],
    ));
    assert_eq!(
        seed_lines(&after),
        seed_lines(&show),
        "nothing half-imported"
    );
    let skip = paperpost(
        &cfg,
        &[
            "subscribers",
            "seed",
            "ada@example.org",
            &zotero,
            "--skip-bad",
        ],
    );
    ok(&skip);
    assert!(stdout(&skip).contains("4 added"), "{}", stdout(&skip));

    let replaced = paperpost(
        &cfg,
        &["subscribers", "seed", "ada@example.org", &mine, "--replace"],
    );
    ok(&replaced);
    assert!(
        stdout(&replaced).contains("seeds in all") && stdout(&replaced).contains("removed first")
    );
    let cleared = paperpost(&cfg, &["subscribers", "seed", "ada@example.org", "--clear"]);
    ok(&cleared);
    assert!(
        stdout(&cleared).contains("cleared 3 seeds of ada@example.org"),
        "{}",
        stdout(&cleared)
    );
}

fn seed_lines(show: &str) -> Vec<&str> {
    show.lines()
        .skip_while(|l| !l.contains("seeds:"))
        .filter(|l| !l.contains("from ") || !l.contains("UTC"))
        .collect()
}

#[test]
fn subscribers_seed_refuses_a_library_past_the_cap_an_oversized_file_and_an_unknown_reader() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = newsletter(dir.path());
    let add = paperpost(&cfg, &["subscribers", "add", "bob@example.org"]);
    assert!(add.status.success(), "{}", stderr(&add));
    let many = dir.path().join("many.csv");
    let ids: String = (1..=2001).map(|i| format!("2401.{i:05}\n")).collect();
    std::fs::write(&many, ids).unwrap();
    let many = many.display().to_string();
    let over = paperpost(&cfg, &["subscribers", "seed", "bob@example.org", &many]);
    assert_eq!(over.status.code(), Some(1));
    assert!(
        stderr(&over).contains("would hold 2001 seeds, and a reader keeps at most 2000"),
        "{}",
        stderr(&over)
    );
    let huge = dir.path().join("huge.bib");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(library::MAX_LIBRARY_BYTES as u64 + 10).unwrap();
    let huge = huge.display().to_string();
    let refused = paperpost(&cfg, &["subscribers", "seed", "bob@example.org", &huge]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("at most 16777216 bytes"),
        "{}",
        stderr(&refused)
    );
    let nobody = paperpost(&cfg, &["subscribers", "seed", "nobody@example.org", &many]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(stderr(&nobody).contains("no subscriber nobody@example.org"));
    let help = paperpost(&cfg, &["subscribers", "seed", "--help"]);
    let text = stdout(&help);
    for needle in [
        "--format",
        "--replace",
        "--dry-run",
        "--skip-bad",
        "--clear",
        "2,000",
        "by line",
    ] {
        assert!(
            text.contains(needle),
            "--help should mention {needle}:\n{text}"
        );
    }
}

// --- the preferences page ---

mod web {
    use paperpost::web::WebSettings;
    use reqwest::StatusCode;

    use super::fixture;
    use super::support::web_app::{csrf_of, spawn_with};

    /// A `multipart/form-data` body: text fields, then the file.
    fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
        let boundary = "----paperpost-test-boundary-7MA4YWxk";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }

    #[tokio::test]
    async fn a_reader_uploads_a_library_on_the_preferences_page_and_a_bad_one_stores_nothing() {
        let app = spawn_with(WebSettings {
            max_upload_bytes: 256 * 1024,
            ..WebSettings::default()
        })
        .await;
        let sub = app.add_active("ada@example.org", "");
        let page_path = format!("preferences/{}", app.manage_token(&sub));
        let upload_path = format!("{page_path}/library");
        let page = app.get(&page_path).await.text().await.unwrap();
        assert!(page.contains("id=\"library-form\""), "{page}");
        assert!(page.contains("enctype=\"multipart/form-data\""));
        let csrf = csrf_of(&page, "library-form");
        let post = |fields: Vec<(&'static str, String)>, name: &'static str, file: Vec<u8>| {
            let app = &app;
            let upload_path = upload_path.clone();
            async move {
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (content_type, body) = multipart(&fields, name, &file);
                app.http
                    .post(app.url(&upload_path))
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .unwrap()
            }
        };

        // The hand-made list names one of the app's stored papers.
        let stored = app.store.all_papers().unwrap()[0].id.clone().unwrap();
        let list = format!("arxiv\n{stored}\n2501.00001\n");
        let r = post(
            vec![("csrf", csrf.clone())],
            "C:\\Users\\ada\\mine.csv",
            list.into_bytes(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Read 2 entries from mine.csv (CSV)"),
            "{body}"
        );
        assert!(body.contains("1 of them are papers we have"), "{body}");
        assert!(body.contains("2 added, 0 updated, 0 unchanged"), "{body}");
        assert_eq!(app.store.seed_summary(sub.id, 5).unwrap().total, 2);

        // Zotero's export with one broken entry: listed by line, nothing stored.
        let zotero = fixture("zotero_biblatex_library.bib");
        let r = post(vec![("csrf", csrf.clone())], "zotero.bib", zotero).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains("Line 2: expected comma at line 16"), "{body}");
        assert!(body.contains("Nothing was imported"), "{body}");
        assert_eq!(
            app.store.seed_summary(sub.id, 5).unwrap().total,
            2,
            "nothing half-imported"
        );

        // A real export, replacing the list; the page then shows what seeded the profile.
        let jabref = fixture("jabref_3.8.2_biblatex_examples.bib");
        let r = post(
            vec![("csrf", csrf.clone()), ("replace", "on".into())],
            "jabref.bib",
            jabref,
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("(2 earlier ones replaced)")
        );
        let page = app.get(&page_path).await.text().await.unwrap();
        assert!(
            page.contains("82 papers from your library"),
            "89 entries, 82 distinct papers: {page}"
        );
        assert!(page.contains("jabref.bib"), "{page}");

        // No CSRF field: refused.
        let r = post(vec![], "mine.csv", b"2410.18975\n".to_vec()).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Over the upload limit: 413, nothing stored.
        let big = vec![b'%'; 300 * 1024];
        let r = post(vec![("csrf", csrf.clone())], "big.bib", big).await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(app.store.seed_summary(sub.id, 0).unwrap().total, 82);
        // Forgetting the library.
        let r = post(
            vec![("csrf", csrf.clone()), ("action", "clear".into())],
            "",
            Vec::new(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.store.seed_summary(sub.id, 0).unwrap().total, 0);
        app.stop().await;
    }
}

#[test]
fn fetch_stores_each_papers_vector_and_a_second_fetch_keeps_it_rather_than_embed_again() {
    use sha2::{Digest, Sha256};

    let dir = tempfile::tempdir().unwrap();
    let cfg = newsletter(dir.path());
    let out = paperpost(&cfg, &["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let store = support::open_store(&cfg);
    let papers = store.all_papers().unwrap();
    assert!(papers.len() > 3, "{} papers", papers.len());
    let embedder = paperpost::embed::Embedder::shipped();
    let wanted: Vec<_> = papers
        .iter()
        .map(|p| {
            let text = paperpost::embed::paper_text(p);
            (
                p.id.clone().unwrap(),
                hex::encode(Sha256::digest(text.as_bytes())),
            )
        })
        .collect();
    let stored = store
        .paper_vectors(&embedder.identity().key(), &wanted)
        .unwrap();
    assert_eq!(
        stored.len(),
        papers.len(),
        "every fetched paper has its vector"
    );
    for p in &papers {
        let text = paperpost::embed::paper_text(p);
        assert_eq!(stored[p.id.as_ref().unwrap()], embedder.embed_one(&text));
    }
    let ids: Vec<_> = wanted.into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        paperpost::pipeline::embed_stored_papers(&store, &embedder, &ids).unwrap(),
        0,
        "nothing is left to embed"
    );
    // A second fetch of the same papers changes no text: the stored vector is kept, not
    // recomputed (one replaced by a vector no model makes shows it), and read back.
    let first = &papers[0];
    let text = paperpost::embed::paper_text(first);
    let mut forged = vec![0.0f32; embedder.dim()];
    forged[0] = 1.0;
    let key = embedder.identity().key();
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    store
        .put_paper_vectors(&key, &[(ids[0].clone(), hash, forged.clone())])
        .unwrap();
    let again = paperpost(&cfg, &["fetch"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let store = support::open_store(&cfg);
    let first = store
        .papers_by_id(&ids[..1])
        .unwrap()
        .remove(&ids[0])
        .unwrap();
    assert_eq!(
        paperpost::pipeline::paper_vectors(&store, &embedder, &[&first]).unwrap(),
        [forged]
    );
}
