//! The recorded sources on a local HTTP server: HF Daily Papers at `/api/daily_papers`, the
//! arXiv cs.AI feed at `/atom/cs.AI` and the arXiv API at `/api/query`, answering with the
//! files in `tests/fixtures/`, and the `[[sources]]` tables that fetch from it.
use std::sync::{Arc, Mutex};

use super::{TestServer, fixture, reply};

/// Which of the recorded sources have papers on a day; the others answer empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// HF Daily Papers: the recorded day (first page), or no papers.
    pub hf: bool,
    /// arXiv, feed and API: the recorded excerpt and query, or an empty feed and result.
    pub arxiv: bool,
}

impl Day {
    /// Every source has its recorded papers.
    pub const ALL: Day = Day {
        hf: true,
        arxiv: true,
    };
}

/// What day it is for a server from [`recorded_sources_on`]; tests move it on.
#[derive(Debug, Clone)]
pub struct Today(Arc<Mutex<Day>>);

impl Today {
    pub fn new(day: Day) -> Today {
        Today(Arc::new(Mutex::new(day)))
    }
    pub fn set(&self, day: Day) {
        *self.0.lock().unwrap() = day;
    }
    pub fn get(&self) -> Day {
        *self.0.lock().unwrap()
    }
}

/// Every recorded source with its papers.
pub async fn recorded_sources() -> TestServer {
    recorded_sources_on(Today::new(Day::ALL)).await
}

/// The recorded sources answering as `today` says at each request.
pub async fn recorded_sources_on(today: Today) -> TestServer {
    TestServer::start(move |seen, _| {
        let day = today.get();
        match seen.path.as_str() {
            "/api/daily_papers" if day.hf && seen.param("p") == Some("0") => {
                reply(200, fixture("hf_daily_papers_2024-10-25_full.json"))
            }
            "/api/daily_papers" => reply(200, "[]"),
            "/atom/cs.AI" if day.arxiv => {
                reply(200, fixture("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml"))
            }
            "/atom/cs.AI" => reply(200, fixture("arxiv_rss_atom_empty_handmade.xml")),
            "/api/query" if day.arxiv && seen.param("start") == Some("0") => {
                reply(200, fixture("arxiv_api_2026_query_testing_max10.xml"))
            }
            "/api/query" => reply(200, fixture("arxiv_api_2026_empty_result_id_0000.0000.xml")),
            _ => reply(404, "not found"),
        }
    })
    .await
}

/// `[[sources]]` for HF Daily Papers (one day) and the arXiv cs.AI feed on `server`.
pub fn feeds_toml(server: &TestServer) -> String {
    on(server, FEEDS)
}

/// `[[sources]]` for the arXiv API query "testing" on `server` (two pages of 10).
pub fn query_toml(server: &TestServer) -> String {
    on(server, QUERY)
}

const FEEDS: &str = r#"[[sources]]
name = "hf"
kind = "hf_daily"
url = "{base}/api/daily_papers"
days = 1

[[sources]]
name = "arxiv-ai"
kind = "arxiv_feed"
url = "{base}/atom"
categories = ["cs.AI"]
"#;

const QUERY: &str = r#"[[sources]]
name = "testing"
kind = "arxiv_api"
url = "{base}/api/query"
query = "testing"
max_results = 20
page_size = 10
delay_secs = 0
"#;

/// `toml` with `{base}` pointing at `server`.
fn on(server: &TestServer, toml: &str) -> String {
    toml.replace("{base}", &server.base)
}
