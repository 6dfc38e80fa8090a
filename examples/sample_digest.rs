//! Prints the sample digest as the email HTML (or `--text`), to look at the design:
//! `cargo run --example sample_digest > /tmp/digest.html`
use paperpost::render::{EmailContext, render_digest, sample_digest};

fn main() {
    let n = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(6);
    let base = url::Url::parse("https://papers.example.org/").expect("valid URL");
    let ctx = EmailContext {
        newsletter_name: "paperpost",
        base_url: &base,
        unsubscribe_url: "https://papers.example.org/unsubscribe/42.secret",
        preferences_url: Some("https://papers.example.org/preferences/42.secret"),
        archive_url: Some("https://papers.example.org/archive"),
        feedback_url: Some("https://papers.example.org/feedback/42.secret/"),
        why_line: "You subscribed to paperpost with ada@example.org and follow: diffusion, cs.CL.",
        full_abstract: false,
        web_copy_url: Some("https://papers.example.org/d/42.secret/2026-W48"),
        feed_url: Some("https://papers.example.org/feed/42.secret.xml"),
    };
    let r = render_digest(&sample_digest(n), &ctx);
    if std::env::args().any(|a| a == "--text") {
        print!("{}", r.text);
    } else {
        print!("{}", r.html);
    }
}
