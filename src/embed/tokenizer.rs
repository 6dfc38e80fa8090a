//! The BERT WordPiece tokenizer of a `tokenizer.json`, as the Hugging Face `tokenizers` crate
//! runs it with `add_special_tokens = false`: the special tokens (`[MASK]`, …) cut out of the
//! raw text first, then the `BertNormalizer` (control characters dropped, whitespace made
//! plain, spaces around CJK ideographs, accents stripped, lower case), the
//! `BertPreTokenizer` (split at whitespace, each punctuation mark a word of its own) and the
//! greedy longest-match-first `WordPiece` model.
//!
//! Why our own and not `tokenizers`: every model we read (potion-base-2M/8M, and
//! all-MiniLM-L6-v2) uses exactly this pipeline, which is ~200 lines, while `tokenizers`
//! (through `model2vec-rs`) brings ~40 crates, a C++ build (`esaxx-rs`) and a second thread
//! pool (`rayon`). A file with any other pipeline is refused by name at load, never
//! tokenized differently. The ids are checked against `tokenizers`' own on the recorded
//! papers (`tests/fixtures/embed/reference_ids.jsonl`).
use std::collections::HashMap;

use rustc_hash::FxHashMap;

use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

/// Why a `tokenizer.json` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("is not a tokenizer.json ({0})")]
    Json(#[from] serde_json::Error),
    #[error("{0} is not supported (the loader reads BERT WordPiece tokenizers)")]
    Unsupported(String),
    #[error("its unknown-word token `{0}` is not in the vocabulary")]
    NoUnknownToken(String),
}

/// A BERT WordPiece tokenizer.
#[derive(Debug)]
pub(crate) struct WordPiece {
    /// Looked up for every piece of every word: Fx hashing, not SipHash (no untrusted keys
    /// reach it as a denial of service: the vocabulary is the model's).
    vocab: FxHashMap<String, u32>,
    /// The special tokens matched in the raw text, longest first.
    specials: Vec<(String, u32)>,
    prefix: String,
    max_word_chars: usize,
    unk: u32,
    normalizer: BertNormalizer,
    /// Median length in bytes of the vocabulary's tokens (model2vec cuts long texts by it).
    median_token_bytes: usize,
}

#[derive(Debug, Deserialize)]
struct File {
    normalizer: Option<Tagged<BertNormalizer>>,
    pre_tokenizer: Option<Tagged<serde_json::Value>>,
    model: Tagged<Model>,
    #[serde(default)]
    added_tokens: Vec<Added>,
}

/// A `{"type": …, …}` object: the type named, the rest read as `T`.
#[derive(Debug, Deserialize)]
struct Tagged<T> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    body: T,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct BertNormalizer {
    #[serde(default = "yes")]
    clean_text: bool,
    #[serde(default = "yes")]
    handle_chinese_chars: bool,
    #[serde(default)]
    strip_accents: Option<bool>,
    #[serde(default = "yes")]
    lowercase: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct Model {
    #[serde(default)]
    vocab: HashMap<String, u32>,
    #[serde(default = "default_unk")]
    unk_token: String,
    #[serde(default = "default_prefix")]
    continuing_subword_prefix: String,
    #[serde(default = "default_max_chars")]
    max_input_chars_per_word: usize,
}

fn default_unk() -> String {
    "[UNK]".into()
}
fn default_prefix() -> String {
    "##".into()
}
fn default_max_chars() -> usize {
    100
}

#[derive(Debug, Deserialize)]
struct Added {
    id: u32,
    content: String,
    #[serde(default)]
    normalized: bool,
    #[serde(default)]
    single_word: bool,
    #[serde(default)]
    lstrip: bool,
    #[serde(default)]
    rstrip: bool,
}

impl WordPiece {
    /// Reads a `tokenizer.json`, refusing any pipeline this tokenizer does not reproduce.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<WordPiece, TokenizerError> {
        let file: File = serde_json::from_slice(bytes)?;
        let unsupported =
            |what: &str, kind: &str| Err(TokenizerError::Unsupported(format!("{what} `{kind}`")));
        let normalizer = match file.normalizer {
            Some(n) if n.kind == "BertNormalizer" => n.body,
            Some(n) => return unsupported("normalizer", &n.kind),
            None => return unsupported("normalizer", "none"),
        };
        match &file.pre_tokenizer {
            Some(p) if p.kind == "BertPreTokenizer" => {}
            Some(p) => return unsupported("pre-tokenizer", &p.kind),
            None => return unsupported("pre-tokenizer", "none"),
        }
        if file.model.kind != "WordPiece" {
            return unsupported("model", &file.model.kind);
        }
        let model = file.model.body;
        let unk = *model
            .vocab
            .get(&model.unk_token)
            .ok_or_else(|| TokenizerError::NoUnknownToken(model.unk_token.clone()))?;
        let mut specials = Vec::new();
        for a in file.added_tokens {
            if a.normalized || a.single_word || a.lstrip || a.rstrip {
                return unsupported("added token", &a.content);
            }
            if !a.content.is_empty() {
                specials.push((a.content, a.id));
            }
        }
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        let mut lengths: Vec<usize> = model.vocab.keys().map(String::len).collect();
        lengths.sort_unstable();
        let median_token_bytes = lengths.get(lengths.len() / 2).copied().unwrap_or(1);
        Ok(WordPiece {
            vocab: model.vocab.into_iter().collect(),
            specials,
            prefix: model.continuing_subword_prefix,
            max_word_chars: model.max_input_chars_per_word,
            unk,
            normalizer,
            median_token_bytes,
        })
    }

    pub(crate) fn unknown_id(&self) -> u32 {
        self.unk
    }

    /// The largest id the tokenizer can produce, plus one.
    pub(crate) fn id_bound(&self) -> usize {
        let specials = self.specials.iter().map(|(_, id)| id);
        self.vocab
            .values()
            .chain(specials)
            .max()
            .map_or(0, |m| *m as usize + 1)
    }

    pub(crate) fn median_token_bytes(&self) -> usize {
        self.median_token_bytes
    }

    /// The token ids of `text`, without `[CLS]`/`[SEP]`, appended to `ids`.
    pub(crate) fn encode_into(&self, text: &str, ids: &mut Vec<u32>) {
        let mut rest = text;
        while !rest.is_empty() {
            match self.next_special(rest) {
                Some((at, len, id)) => {
                    self.encode_plain(&rest[..at], ids);
                    ids.push(id);
                    rest = &rest[at + len..];
                }
                None => {
                    self.encode_plain(rest, ids);
                    break;
                }
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        self.encode_into(text, &mut ids);
        ids
    }

    /// The leftmost special token in `text` (the longest one at that place).
    fn next_special(&self, text: &str) -> Option<(usize, usize, u32)> {
        if self.specials.is_empty() {
            return None;
        }
        self.specials
            .iter()
            .filter_map(|(s, id)| text.find(s.as_str()).map(|at| (at, s.len(), *id)))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
    }

    fn encode_plain(&self, text: &str, ids: &mut Vec<u32>) {
        let normal = self.normalizer.normalize(text);
        let mut word = String::new();
        for c in normal.chars() {
            if c.is_whitespace() {
                self.word_pieces(&word, ids);
                word.clear();
            } else if is_punctuation(c) {
                self.word_pieces(&word, ids);
                word.clear();
                word.push(c);
                self.word_pieces(&word, ids);
                word.clear();
            } else {
                word.push(c);
            }
        }
        self.word_pieces(&word, ids);
    }

    /// Greedy longest-match-first pieces of one word; a word with a part no piece covers
    /// (or longer than the limit) is one unknown token.
    fn word_pieces(&self, word: &str, ids: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        if word.chars().count() > self.max_word_chars {
            ids.push(self.unk);
            return;
        }
        let before = ids.len();
        let mut piece = String::new();
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                piece.clear();
                if start > 0 {
                    piece.push_str(&self.prefix);
                }
                piece.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(&piece) {
                    found = Some(id);
                    break;
                }
                end -= word[start..end].chars().last().map_or(1, char::len_utf8);
            }
            let Some(id) = found else {
                ids.truncate(before);
                ids.push(self.unk);
                return;
            };
            ids.push(id);
            start = end;
        }
    }
}

impl BertNormalizer {
    /// ASCII, most of any abstract, takes a fast path; each run of other characters takes
    /// the full one. Equal to normalising the whole text at once: an ASCII character is its
    /// own decomposition and a starter, so no canonical reordering crosses it.
    fn normalize(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut run_start = None;
        for (i, c) in text.char_indices() {
            if !c.is_ascii() {
                run_start.get_or_insert(i);
                continue;
            }
            if let Some(start) = run_start.take() {
                self.normalize_run(&text[start..i], &mut out);
            }
            match c {
                '\t' | '\n' | '\r' | ' ' if self.clean_text => out.push(' '),
                '\0'..='\x1f' | '\x7f' if self.clean_text => {}
                c if self.lowercase => out.push(c.to_ascii_lowercase()),
                c => out.push(c),
            }
        }
        if let Some(start) = run_start {
            self.normalize_run(&text[start..], &mut out);
        }
        out
    }

    /// The `BertNormalizer` steps in order, on a run of characters.
    fn normalize_run(&self, run: &str, out: &mut String) {
        let categories = CodePointMapData::<GeneralCategory>::new();
        let mut clean = String::with_capacity(run.len());
        for c in run.chars() {
            if self.clean_text {
                if c == '\0' || c == '\u{fffd}' || is_control(c, categories.get(c)) {
                    continue;
                }
                if is_whitespace(c) {
                    clean.push(' ');
                    continue;
                }
            }
            if self.handle_chinese_chars && is_chinese(c) {
                clean.push(' ');
                clean.push(c);
                clean.push(' ');
            } else {
                clean.push(c);
            }
        }
        let mut push = |c: char| {
            if self.lowercase {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        };
        if self.strip_accents.unwrap_or(self.lowercase) {
            for c in clean.nfd() {
                if categories.get(c) != GeneralCategory::NonspacingMark {
                    push(c);
                }
            }
        } else {
            clean.chars().for_each(push);
        }
    }
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Control, format and private-use characters (tab and line ends are whitespace instead).
fn is_control(c: char, category: GeneralCategory) -> bool {
    !matches!(c, '\t' | '\n' | '\r')
        && matches!(
            category,
            GeneralCategory::Control | GeneralCategory::Format | GeneralCategory::PrivateUse
        )
}

fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::ConnectorPunctuation
            | GeneralCategory::DashPunctuation
            | GeneralCategory::ClosePunctuation
            | GeneralCategory::FinalPunctuation
            | GeneralCategory::InitialPunctuation
            | GeneralCategory::OtherPunctuation
            | GeneralCategory::OpenPunctuation
    )
}

/// The CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana, which space words).
fn is_chinese(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}
