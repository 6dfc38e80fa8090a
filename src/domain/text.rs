//! Text clean-up shared by every source: feeds carry hard line breaks and indentation.

/// Collapses every run of whitespace (including hard line breaks) into one space and trims.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Cuts `s` to at most `max` characters at a word boundary, adding "…" when it cut.
pub fn shorten(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if s.chars().count() <= max {
        return s.into();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    // "guiding it -…" reads as broken: no dangling punctuation or dash before the ellipsis.
    let cut = cut.trim_end_matches([',', ';', ':', '.', ' ', '-', '–', '—', '(', '/']);
    format!("{cut}…").into()
}

/// "1 paper", "2 papers": `n` and the word that goes with it.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(0, "paper", "papers"), "0 papers");
        assert_eq!(count(1, "paper", "papers"), "1 paper");
        assert_eq!(count(2, "reply", "replies"), "2 replies");
    }

    #[test]
    fn collapse_joins_hard_line_breaks_and_indentation() {
        assert_eq!(
            collapse_whitespace("  Large\n  Language\tModels \r\n"),
            "Large Language Models"
        );
    }

    #[test]
    fn shorten_cuts_at_a_word_and_marks_the_cut() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 12), "one two…");
        assert_eq!(shorten("guiding it - and then more", 14), "guiding it…");
    }
}
