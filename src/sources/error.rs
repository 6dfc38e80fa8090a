//! What went wrong with one source, said with what and where.
use super::http::FetchError;

/// A document that could not be read: where in it, and what broke.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("malformed XML at line {line}, column {column}: {message}")]
    Xml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed, but not what this source expects (wrong root element, a paper without id…).
    #[error("{0}")]
    Content(String),
}

/// serde_json's recursion limit, which paperpost keeps (it never calls
/// `disable_recursion_limit`).
pub const JSON_MAX_DEPTH: usize = 128;

impl ParseError {
    /// Wraps serde_json's error, keeping its line and column apart from the message.
    pub fn json(e: &serde_json::Error) -> ParseError {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let mut message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        if message == "recursion limit exceeded" {
            // serde_json's own guard (128 levels, never disabled here) against documents
            // nested deep enough to overflow the stack.
            message = format!("nested deeper than {JSON_MAX_DEPTH} levels (the depth limit)");
        }
        ParseError::Json {
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}

/// Why a source gave nothing (or less than it should).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceErrorKind {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// `location` is the URL or the file path of the document.
    #[error("{location}: {error}")]
    Parse { location: String, error: ParseError },
    #[error("arXiv API rejected query \"{query}\": {message}")]
    ArxivRejected { query: String, message: String },
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
    #[error("{0}")]
    Other(String),
}

/// One source's failure. Display: `source "hf": GET http://…: HTTP 500 after 3 attempts`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("source \"{name}\": {kind}")]
pub struct SourceError {
    /// The configured name of the source.
    pub name: String,
    pub kind: SourceErrorKind,
}

impl SourceErrorKind {
    pub fn parse(location: impl Into<String>, error: ParseError) -> Self {
        SourceErrorKind::Parse {
            location: location.into(),
            error,
        }
    }
}
