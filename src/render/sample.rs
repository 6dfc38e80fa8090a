//! A realistic, deliberately heavy digest for tests, previews and benches.
use chrono::{NaiveDate, TimeZone, Utc};

use super::EmailContext;
use crate::domain::{Digest, Paper, PaperId, Period, Pick};

/// A reader's full context on `base` (every link a personal digest carries: unsubscribe,
/// preferences, archive, 👍/👎, web copy, feed), for the sample digest's example and lint.
pub fn sample_context(base: &url::Url) -> EmailContext<'_> {
    EmailContext {
        newsletter_name: "paperpost",
        base_url: base,
        unsubscribe_url: "https://papers.example.org/unsubscribe/42.secret",
        preferences_url: Some("https://papers.example.org/preferences/42.secret"),
        archive_url: Some("https://papers.example.org/archive"),
        feedback_url: Some("https://papers.example.org/feedback/42.secret/"),
        why_line: "You subscribed to paperpost with ada@example.org and follow: diffusion, cs.CL.",
        full_abstract: false,
        web_copy_url: Some("https://papers.example.org/d/42.secret/2026-W48"),
        feed_url: Some("https://papers.example.org/feed/42.secret.xml"),
    }
}

/// `n` (at least 1) papers in the week of 2026-11-23, each with a ~2,000-character
/// abstract, 80 authors, every link, a thumbnail, counts, an AI summary and reasons.
pub fn sample_digest(n: usize) -> Digest {
    const TOPICS: [&str; 5] = [
        "Diffusion Models",
        "Sparse Mixture-of-Experts",
        "Retrieval-Augmented Generation",
        "Vision-Language Pretraining",
        "State-Space Sequence Models",
    ];
    let sentence = "We study how $\\mathcal{O}(n \\log n)$ attention approximations interact with \
        long-context training, and show\n   that careful data mixing closes most of the gap. ";
    let picks = (0..n.max(1))
        .map(|i| {
            let id = format!("2611.{:05}", 1000 + i);
            let topic = TOPICS[i % TOPICS.len()];
            let paper = Paper {
                id: PaperId::parse_arxiv(&id).map(|(id, _)| id),
                version: Some(1),
                title: format!("Scaling {topic} to Millions of Tokens: Paper {}", i + 1),
                abstract_text: sentence.repeat(2_000 / sentence.len() + 1),
                authors: (1..=80).map(|a| format!("Author{a} Surname{i}")).collect(),
                categories: vec!["cs.LG".into(), "cs.CL".into(), "stat.ML".into()],
                primary_category: Some("cs.LG".into()),
                hf_url: Some(format!("https://huggingface.co/papers/{id}")),
                code_url: Some(format!("https://github.com/example/paper-{i}")),
                project_url: (i % 2 == 0).then(|| format!("https://example.org/p/{i}")),
                thumbnail: Some(format!(
                    "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{id}.png"
                )),
                upvotes: Some(120u32.saturating_sub(i as u32 * 5)),
                comments: Some((i % 4) as u32),
                ai_summary: Some(format!(
                    "{topic} trained with a new data mixture match dense baselines at a third of the compute."
                )),
                ..Paper::default()
            };
            let reasons = if i % 3 == 0 {
                vec!["trending".into()]
            } else {
                vec!["diffusion model".into(), "cs.CL".into()]
            };
            Pick { paper, reasons }
        })
        .collect();
    let period = Period::week_of(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 7, 0, 0).unwrap();
    Digest::new(period, picks, false, at).expect("at least one pick")
}
