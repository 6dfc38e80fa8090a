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

/// Text of an HTML fragment as feeds carry it in titles and abstracts: tags dropped (a
/// block tag or `<br>` leaves a space), character references and the common named
/// entities decoded, whitespace collapsed. A `<` that starts no tag (`a < b`) is kept.
pub fn html_to_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find(['<', '&']) {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if rest.starts_with('<') {
            let starts_tag = rest[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!' || c == '?');
            match rest.find('>').filter(|_| starts_tag) {
                Some(end) => {
                    let name: String = rest[1..end]
                        .trim_start_matches('/')
                        .chars()
                        .take_while(char::is_ascii_alphanumeric)
                        .collect::<String>()
                        .to_ascii_lowercase();
                    let inline = matches!(
                        name.as_str(),
                        "i" | "em"
                            | "b"
                            | "strong"
                            | "sub"
                            | "sup"
                            | "span"
                            | "a"
                            | "u"
                            | "small"
                            | "mml"
                            | "math"
                            | "mi"
                            | "mo"
                            | "mn"
                            | "tt"
                            | "code"
                    );
                    if !inline {
                        out.push(' ');
                    }
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push('<');
                    rest = &rest[1..];
                }
            }
        } else {
            let end = rest[1..].find(';').map(|e| e + 1).filter(|&e| e <= 10);
            match end.and_then(|e| entity(&rest[1..e]).map(|c| (e, c))) {
                Some((e, c)) => {
                    out.push(c);
                    rest = &rest[e + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    collapse_whitespace(&out)
}

/// A character reference (`#233`, `#xE9`) or a named entity feeds use.
fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| !c.is_control() || c.is_whitespace());
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "times" => '×',
        "deg" => '°',
        "plusmn" => '±',
        "micro" => 'µ',
        _ => return None,
    })
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
    fn html_becomes_text() {
        assert_eq!(
            html_to_text(
                "<h2>Abstract</h2>\n<p><i>Leptospermum</i> is &amp; was&nbsp;an\n &#233;&#xE9; genus.</p><p>Two</p>"
            ),
            "Abstract Leptospermum is & was an éé genus. Two"
        );
        assert_eq!(
            html_to_text("a < b && c &unknown; d"),
            "a < b && c &unknown; d"
        );
        assert_eq!(html_to_text("H<sub>2</sub>O<br/>next"), "H2O next");
    }

    #[test]
    fn shorten_cuts_at_a_word_and_marks_the_cut() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 12), "one two…");
        assert_eq!(shorten("guiding it - and then more", 14), "guiding it…");
    }
}
