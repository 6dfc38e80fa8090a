use super::tex_to_unicode;

/// Input → what the reader sees. Most rows are lifted from real arXiv abstracts and author
/// lists (the recorded fixtures and listings), a few are the edge cases they imply.
#[test]
fn tex_from_real_abstracts_becomes_unicode_text() {
    let table: &[(&str, &str)] = &[
        // tests/fixtures/arxiv_rss_cs.AI_handmade.xml
        (
            "report $O(n \\log n)$ attention.",
            "report O(n log n) attention.",
        ),
        // tests/fixtures/arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml (2508.13434)
        (
            "10.7% higher accuracy and $1.13\\times$ faster training",
            "10.7% higher accuracy and 1.13× faster training",
        ),
        // tests/fixtures/arxiv_api_legacy2016_au_del_maestro.xml
        (
            "the Lieb-Liniger model of\n$\\delta$-function interacting bosons",
            "the Lieb-Liniger model of\nδ-function interacting bosons",
        ),
        // HF summary of 2410.18194 (ZIP-FIT)
        (
            "loss up to 85.1\\% faster than baselines",
            "loss up to 85.1% faster than baselines",
        ),
        // author names from arXiv feeds
        (
            "Paulo Andr\\'e Lima de Castro",
            "Paulo André Lima de Castro",
        ),
        ("R\\'{e}nyi divergence", "Rényi divergence"),
        ("J{\\\"u}rgen Schmidhuber", "Jürgen Schmidhuber"),
        ("Bernhard Sch\\\"olkopf", "Bernhard Schölkopf"),
        ("{\\'E}douard Grave", "Édouard Grave"),
        ("Fran\\c{c}ois Chollet", "François Chollet"),
        ("Anton\\'{\\i}n Dvo\\v{r}\\'ak", "Antonín Dvořák"),
        ("Bj\\o rn Ommer", "Bjørn Ommer"),
        ("\\L ukasz Kaiser", "Łukasz Kaiser"),
        ("Pawe\\l{} Wawrzy\\'nski", "Paweł Wawrzyński"),
        // math as arXiv abstracts write it
        (
            "a KL term $\\mathcal{L}_{\\text{KL}}$ on latents",
            "a KL term ℒ_KL on latents",
        ),
        ("for $x \\in \\mathbb{R}^d$ and", "for x ∈ ℝᵈ and"),
        ("$\\mathbf{x}_t$", "𝐱ₜ"),
        (
            "with $\\alpha=0.5$ and $\\beta_2 = 0.999$",
            "with α=0.5 and β₂ = 0.999",
        ),
        ("learning rate $10^{-3}$", "learning rate 10⁻³"),
        ("$x_i^2$", "xᵢ²"),
        ("$\\frac{1}{2}$-approximation", "1/2-approximation"),
        ("$\\frac{a+b}{c}$", "(a+b)/c"),
        ("error $\\mathcal{O}(1/\\sqrt{n})$", "error 𝒪(1/√n)"),
        ("$\\sqrt{n+1}$", "√(n+1)"),
        ("$\\epsilon$-greedy", "ϵ-greedy"),
        ("$\\sim$100 languages", "∼100 languages"),
        ("$>$90% of cases", ">90% of cases"),
        ("\\(\\gamma\\) and \\[\\Omega\\]", "γ and Ω"),
        ("$$E = mc^2$$", "E = mc²"),
        ("$W^\\top x$", "Wᵀ x"),
        ("$\\lambda \\to 0$", "λ → 0"),
        ("$k \\leq n \\ll m$", "k ≤ n ≪ m"),
        ("$\\hat{y}$", "ŷ"),
        ("$\\text{softmax}(QK^T/\\sqrt{d})$", "softmax(QKᵀ/√d)"),
        ("$\\mathrm{SO}(3)$-equivariant", "SO(3)-equivariant"),
        ("$\\ell_1$ and $\\ell_\\infty$ norms", "ℓ₁ and ℓ_∞ norms"),
        // prices stay prices
        ("costs $5 and $10 per hour", "costs $5 and $10 per hour"),
        ("between $5-$10 each", "between $5-$10 each"),
        ("under \\$1 per run", "under $1 per run"),
        ("a $ sign", "a $ sign"),
        // what has no faithful Unicode form is shown as its source, never half-converted
        (
            "solves $\\begin{cases} x \\\\ y \\end{cases}$ fast",
            "solves $\\begin{cases} x \\\\ y \\end{cases}$ fast",
        ),
        ("$\\alpha \\overset{a}{=} b$", "$\\alpha \\overset{a}{=} b$"),
        ("$\\sqrt[5]{x}$", "$\\sqrt[5]{x}$"),
        // unknown text commands and unbalanced input stay as they are
        ("see \\cite{x} here", "see \\cite{x} here"),
        ("broken $\\frac{1}{$ end", "broken $\\frac{1}{$ end"),
        ("trailing backslash \\", "trailing backslash \\"),
    ];
    for (input, want) in table {
        assert_eq!(tex_to_unicode(input), *want, "input: {input}");
    }
}

#[test]
fn text_without_tex_is_returned_unchanged_and_borrowed() {
    let s = "Large Language Models (LLMs) suffer from hallucinations.";
    assert!(matches!(tex_to_unicode(s), std::borrow::Cow::Borrowed(_)));
}

mod properties {
    use super::tex_to_unicode;
    use proptest::prelude::*;

    /// Prose as abstracts have it: no TeX specials.
    fn prose() -> impl Strategy<Value = String> {
        "[A-Za-z0-9 ,.;:()%!?'é-]{0,60}"
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]
        #[test]
        fn conversion_never_panics(s in "\\PC{0,80}") {
            let _ = tex_to_unicode(&s);
        }

        #[test]
        fn conversion_never_panics_on_tex_like_input(s in "[$\\\\{}^_a-z0-9 '\"()\\[\\]]{0,60}") {
            let _ = tex_to_unicode(&s);
        }

        #[test]
        fn prose_without_tex_is_kept_exactly(s in prose()) {
            prop_assert_eq!(tex_to_unicode(&s), s.as_str());
        }

        #[test]
        fn prose_around_math_is_never_lost(
            before in prose(),
            math in "[$\\\\{}^_a-zA-Z0-9 +=]{0,30}",
            after in prose(),
        ) {
            let s = format!("{before} ${math}$ {after}");
            let out = tex_to_unicode(&s);
            prop_assert!(out.starts_with(before.as_str()), "{s:?} -> {out:?}");
            prop_assert!(out.ends_with(after.as_str()), "{s:?} -> {out:?}");
        }
    }
}
