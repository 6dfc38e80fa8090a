//! A depth check run on every JSON document before serde_json reads it.
//!
//! Why: serde_json refuses values nested deeper than 128 levels when it builds them, but it
//! skips a field paperpost does not read without any limit (iteratively, so it cannot
//! overflow), and a 60,000-deep document in such a field would then pass as a page. One
//! scan over the bytes gives every source the same rule and the same clear error, whatever
//! the schema: a document nested deeper than [`JSON_MAX_DEPTH`] is refused where it goes too
//! deep. Hand-written because it is a dozen lines and no crate offers just this.
use super::error::{JSON_MAX_DEPTH, ParseError};
use super::xml::line_column;

/// Refuses `doc` when its arrays and objects nest deeper than [`JSON_MAX_DEPTH`].
pub fn check_depth(doc: &str) -> Result<(), ParseError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in doc.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > JSON_MAX_DEPTH {
                    let (line, column) = line_column(doc, i);
                    return Err(ParseError::Json {
                        line,
                        column,
                        message: format!(
                            "nested deeper than {JSON_MAX_DEPTH} levels (the depth limit)"
                        ),
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        let at_limit = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(check_depth(&at_limit).is_ok());
        let strings = format!("[\"{}\", \"\\\"[[\"]", "[".repeat(1000));
        assert!(check_depth(&strings).is_ok());
        let deep = format!("{{\"a\": \n{}", "[".repeat(60_000));
        let e = check_depth(&deep).unwrap_err();
        assert_eq!(
            e,
            ParseError::Json {
                line: 2,
                column: 128,
                message: "nested deeper than 128 levels (the depth limit)".into()
            }
        );
    }
}
