use std::path::PathBuf;

use chrono::Utc;
use clap::Args;

use crate::config::Settings;
use crate::domain::Topics;
use crate::pipeline;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Preview the digest of this subscriber (their topics, and the "More like what you
    /// liked" section when they liked papers).
    #[arg(long, conflicts_with = "topics")]
    subscriber: Option<String>,
    /// Preview these topics, e.g. `"diffusion model", cat:cs.CL, author:Hinton, min_upvotes:5`.
    /// Without --subscriber or --topics: the trending digest.
    #[arg(long)]
    topics: Option<String>,
    /// Write the HTML page here (default: preview.html next to the config).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Open the page in the default browser afterwards.
    #[arg(long)]
    open: bool,
}

pub(super) fn preview(
    settings: &Settings,
    store: &Store,
    args: PreviewArgs,
) -> anyhow::Result<i32> {
    let newsletter = settings.newsletter_options();
    let (topics, digest) = match (&args.subscriber, &args.topics) {
        (Some(email), _) => {
            let reader = store
                .subscriber_by_email(email)?
                .ok_or_else(|| anyhow::anyhow!("no subscriber {email}"))?;
            let digest = pipeline::preview_reader_digest(&newsletter, store, &reader, Utc::now())?;
            (reader.topics, digest)
        }
        (None, t) => {
            let topics = match t {
                Some(t) => Topics::parse(t)?,
                None => Topics::default(),
            };
            let digest = pipeline::preview_digest(&newsletter, store, &topics, Utc::now())?;
            (topics, digest)
        }
    };
    let page = pipeline::preview_page(&newsletter, digest.as_ref(), &topics);
    let out = args
        .out
        .unwrap_or_else(|| settings.base_dir.join("preview.html"));
    std::fs::write(&out, page)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    let n = digest.as_ref().map_or(0, |d| d.len());
    println!(
        "{}; preview written to {}",
        crate::domain::count(n, "paper", "papers"),
        out.display()
    );
    if args.open
        && let Err(why) = open_in_browser(&out)
    {
        eprintln!(
            "could not open a browser ({why}); open {} yourself",
            out.display()
        );
        return Ok(1);
    }
    Ok(0)
}

/// Opens `page` with the desktop's opener and waits for its answer: `xdg-open` exits
/// non-zero when it finds no browser (no desktop, nothing registered), which a bare spawn
/// would not notice.
fn open_in_browser(page: &std::path::Path) -> Result<(), String> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let out = std::process::Command::new(opener)
        .arg(page)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| format!("{opener}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.trim();
    Err(match (out.status.code(), said.is_empty()) {
        (Some(code), true) => format!("{opener} exited with {code}"),
        (Some(code), false) => format!("{opener} exited with {code}: {said}"),
        (None, _) => format!("{opener} was killed"),
    })
}
