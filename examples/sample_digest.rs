//! Prints the sample digest as the email HTML (or `--text`), to look at the design:
//! `cargo run --example sample_digest > /tmp/digest.html`
use paperpost::render::{render_digest, sample_context, sample_digest};

fn main() {
    let n = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(6);
    let base = url::Url::parse("https://papers.example.org/").expect("valid URL");
    let ctx = sample_context(&base);
    let r = render_digest(&sample_digest(n), &ctx);
    if std::env::args().any(|a| a == "--text") {
        print!("{}", r.text);
    } else {
        print!("{}", r.html);
    }
}
