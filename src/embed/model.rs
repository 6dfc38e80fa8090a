//! A static sentence-embedding model (model2vec): one vector per vocabulary token; a text's
//! vector is the mean of its tokens' rows, scaled to length 1. Loaded once, then pure.
use std::borrow::Cow;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use super::folder::{CONFIG, ModelError, ModelFiles, TOKENIZER, WEIGHTS, sha256_hex};
use super::tokenizer::WordPiece;

/// At most this many tokens of a text count (model2vec's default; an abstract has ~300).
const MAX_TOKENS: usize = 512;

/// Which model made a vector: stored beside paper vectors so that a vector made by another
/// model (or other weights under the same name) is never compared with this model's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelIdentity {
    /// The model folder's name (`potion-base-8M`).
    pub name: String,
    /// SHA-256 of `model.safetensors`, lower-case hex.
    pub weights_sha256: String,
}

impl ModelIdentity {
    /// `potion-base-8M@f65d0f32…` (the whole checksum): what the store keeps beside the
    /// vectors this model made.
    pub fn key(&self) -> String {
        format!("{}@{}", self.name, self.weights_sha256)
    }
}

impl std::fmt::Display for ModelIdentity {
    /// `potion-base-8M (sha256 f65d0f325faa…)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = self
            .weights_sha256
            .get(..12)
            .unwrap_or(&self.weights_sha256);
        write!(f, "{} (sha256 {short}…)", self.name)
    }
}

/// A loaded static embedding model. Cheap to share by reference; `embed` takes `&self`.
pub struct Embedder {
    identity: ModelIdentity,
    tokenizer: WordPiece,
    /// Row-major, `dim` columns: the vector of each token (or of each row `mapping` names).
    table: Table,
    dim: usize,
    /// Per-token weight (quantised/vocabulary-distilled model2vec models), else 1.
    weights: Option<Vec<f32>>,
    /// Token id → table row, when the table has fewer rows than the vocabulary.
    mapping: Option<Vec<u32>>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("identity", &self.identity)
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default)]
    model_type: Option<String>,
}

impl Embedder {
    /// Loads the static model in `folder` (`tokenizer.json`, `model.safetensors`,
    /// `config.json`, and an optional `SHA256SUMS` that every listed file must match).
    pub fn load(folder: &Path) -> Result<Embedder, ModelError> {
        Embedder::from_files(ModelFiles::read(folder)?)
    }

    pub(crate) fn from_files(files: ModelFiles) -> Result<Embedder, ModelError> {
        let invalid = |file: &str, message: String| ModelError::Invalid {
            path: files.path(file),
            message,
        };
        let config: Config = serde_json::from_slice(&files.config)
            .map_err(|e| invalid(CONFIG, format!("is not JSON: {e}")))?;
        if let Some(kind) = config.model_type.as_deref()
            && kind != "model2vec"
        {
            return Err(invalid(
                CONFIG,
                format!(
                    "model_type `{kind}` is not a static model2vec model (a transformer such \
                     as MiniLM cannot be run by this loader)"
                ),
            ));
        }
        let tokenizer =
            WordPiece::from_json(&files.tokenizer).map_err(|error| ModelError::Tokenizer {
                path: files.path(TOKENIZER),
                error,
            })?;
        let tensors = SafeTensors::deserialize(&files.weights)
            .map_err(|e| invalid(WEIGHTS, format!("is not a safetensors file: {e}")))?;
        let table = ["embeddings", "0", "embedding.weight"]
            .into_iter()
            .find_map(|name| tensors.tensor(name).ok())
            .ok_or_else(|| invalid(WEIGHTS, "has no `embeddings` tensor".into()))?;
        let [rows, dim] = <[usize; 2]>::try_from(table.shape())
            .ok()
            .filter(|[r, d]| *r > 0 && *d > 0)
            .ok_or_else(|| {
                invalid(
                    WEIGHTS,
                    format!("`embeddings` has shape {:?}, not rows × dim", table.shape()),
                )
            })?;
        let floats = |dtype: Dtype, what: &str| {
            Floats::of(dtype)
                .ok_or_else(|| invalid(WEIGHTS, format!("`{what}` is {dtype:?}, not F32 or F16")))
        };
        let table_floats = floats(table.dtype(), "embeddings")?;
        let table_bytes = table.data().len();
        if table_bytes != rows * dim * table_floats.width() {
            return Err(invalid(
                WEIGHTS,
                format!("`embeddings` has {table_bytes} bytes for {rows} × {dim} values"),
            ));
        }
        // Where the table starts in the file's bytes: it is read there, not copied.
        let table_at = table.data().as_ptr() as usize - files.weights.as_ptr() as usize;
        let weights = match tensors.tensor("weights") {
            Ok(t) => Some(
                floats(t.dtype(), "weights")?
                    .values(t.data())
                    .collect::<Vec<_>>(),
            ),
            Err(_) => None,
        };
        let mapping = match tensors.tensor("mapping") {
            Ok(t) => Some(decode_ids(t.dtype(), t.data()).ok_or_else(|| {
                invalid(
                    WEIGHTS,
                    format!("`mapping` is {:?}, not I32 or I64", t.dtype()),
                )
            })?),
            Err(_) => None,
        };
        let ids = tokenizer.id_bound();
        let rows_needed = match &mapping {
            Some(m) => {
                if m.len() < ids {
                    return Err(invalid(
                        WEIGHTS,
                        format!("`mapping` has {} entries for {ids} token ids", m.len()),
                    ));
                }
                m.iter().map(|&r| r as usize + 1).max().unwrap_or(0)
            }
            None => ids,
        };
        if rows < rows_needed {
            return Err(invalid(
                WEIGHTS,
                format!(
                    "`embeddings` has {rows} rows but the tokenizer needs {rows_needed} \
                     (is this the tokenizer of these weights?)"
                ),
            ));
        }
        if weights.as_ref().is_some_and(|w| w.len() < ids) {
            return Err(invalid(
                WEIGHTS,
                format!("`weights` has fewer entries than the {ids} token ids"),
            ));
        }
        let identity = ModelIdentity {
            name: files.name.clone(),
            weights_sha256: files
                .weights_sha256
                .clone()
                .unwrap_or_else(|| sha256_hex(&files.weights)),
        };
        drop(tensors);
        Ok(Embedder {
            identity,
            tokenizer,
            table: Table {
                bytes: files.weights,
                range: table_at..table_at + table_bytes,
                floats: table_floats,
            },
            dim,
            weights,
            mapping,
        })
    }

    /// The model that makes this embedder's vectors.
    pub fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    /// The length of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// One vector per text, each of length 1 (all zeros for a text with no known token).
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Vec<f32>> {
        let mut ids = Vec::new();
        texts
            .iter()
            .map(|t| self.embed_with(t.as_ref(), &mut ids))
            .collect()
    }

    /// The vector of one text.
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        self.embed_with(text, &mut Vec::new())
    }

    fn embed_with(&self, text: &str, ids: &mut Vec<u32>) -> Vec<f32> {
        // As model2vec: a long text is cut before tokenizing, by the vocabulary's median
        // token length, then at MAX_TOKENS tokens.
        let text = match text
            .char_indices()
            .nth(MAX_TOKENS * self.tokenizer.median_token_bytes())
        {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        ids.clear();
        self.tokenizer.encode_into(text, ids);
        let unk = self.tokenizer.unknown_id();
        let mut sum = vec![0f32; self.dim];
        for &id in ids.iter().take(MAX_TOKENS).filter(|&&id| id != unk) {
            let row = match &self.mapping {
                Some(m) => m[id as usize] as usize,
                None => id as usize,
            };
            let scale = self.weights.as_ref().map_or(1.0, |w| w[id as usize]);
            self.table.add_row(row, scale, &mut sum);
        }
        normalise(&mut sum);
        sum
    }

    #[cfg(test)]
    pub(crate) fn tokenizer(&self) -> &WordPiece {
        &self.tokenizer
    }

    /// Whether the table is read where the weights' bytes are, not from a copy.
    #[cfg(test)]
    pub(crate) fn table_is_borrowed(&self) -> bool {
        matches!(self.table.bytes, Cow::Borrowed(_))
    }
}

/// The embedding table where the weights file has it: in the bytes compiled into the
/// binary for the shipped model (or the file read from a model folder), read row by row as
/// `embed` needs them. Decoding all of it into a `Vec<f32>` at load wrote 30 MB of fresh
/// memory at every start (the potion-base-8M table), which was 30 % of planning a
/// 5,000-reader send, page faults mostly, and 30 MB of its resident memory.
struct Table {
    bytes: Cow<'static, [u8]>,
    /// The table's bytes within `bytes` (checked at load: rows × dim values).
    range: std::ops::Range<usize>,
    floats: Floats,
}

impl Table {
    /// Adds row `row` (of `sum.len()` values) times `scale` to `sum`.
    fn add_row(&self, row: usize, scale: f32, sum: &mut [f32]) {
        let table = &self.bytes[self.range.clone()];
        let row_bytes = sum.len() * self.floats.width();
        let values = &table[row * row_bytes..(row + 1) * row_bytes];
        // Written out per kind rather than through `Floats::values`, the hot loop of
        // embedding: that iterator called from one `match` arm per kind measured 14,500
        // papers/s against 20,800-23,200 for these loops (`cargo bench --bench embed`).
        match self.floats {
            Floats::F32 => {
                for (s, b) in sum.iter_mut().zip(values.chunks_exact(4)) {
                    *s += f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * scale;
                }
            }
            Floats::F16 => {
                for (s, b) in sum.iter_mut().zip(values.chunks_exact(2)) {
                    *s += f16_to_f32(u16::from_le_bytes([b[0], b[1]])) * scale;
                }
            }
        }
    }
}

/// How a tensor's numbers are stored: F32 or F16, little-endian (safetensors).
#[derive(Debug, Clone, Copy)]
enum Floats {
    F32,
    F16,
}

impl Floats {
    /// The numbers a `dtype` holds that an embedder reads; `None` for any other.
    fn of(dtype: Dtype) -> Option<Floats> {
        match dtype {
            Dtype::F32 => Some(Floats::F32),
            Dtype::F16 => Some(Floats::F16),
            _ => None,
        }
    }

    /// Bytes per number.
    fn width(self) -> usize {
        match self {
            Floats::F32 => 4,
            Floats::F16 => 2,
        }
    }

    /// The numbers in `data`, in order.
    fn values(self, data: &[u8]) -> impl Iterator<Item = f32> + '_ {
        data.chunks_exact(self.width()).map(move |b| match self {
            Floats::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Floats::F16 => f16_to_f32(u16::from_le_bytes([b[0], b[1]])),
        })
    }
}

/// Scales `v` to length 1 (a zero vector stays zero). The mean's divisor cancels out here.
fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cosine similarity of two vectors of length 1 (their dot product).
///
/// Summed in 8 independent lanes, which the compiler turns into SIMD (one running sum cannot
/// be, floating-point addition not being associative): planning compares every distinct
/// keyword, phrase and `about:` line with every candidate, and a single sum made that 70 % of
/// its time.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f32; LANES];
    let (a8, a_rest) = a.split_at(n - n % LANES);
    let (b8, b_rest) = b.split_at(n - n % LANES);
    for (x, y) in a8.chunks_exact(LANES).zip(b8.chunks_exact(LANES)) {
        for ((l, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *l += x * y;
        }
    }
    let rest: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + rest
}

fn decode_ids(dtype: Dtype, data: &[u8]) -> Option<Vec<u32>> {
    match dtype {
        Dtype::I32 => data
            .chunks_exact(4)
            .map(|b| u32::try_from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok())
            .collect(),
        Dtype::I64 => data
            .chunks_exact(8)
            .map(|b| {
                let v = i64::from_le_bytes(b.try_into().expect("8 bytes"));
                u32::try_from(v).ok()
            })
            .collect(),
        _ => None,
    }
}

/// IEEE 754 half precision to single (exact: every half is a single).
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match (exp, frac) {
        (0, 0) => sign,
        // Subnormal: value = frac × 2^-24.
        (0, f) => return sign_of(h) * (f as f32) * 2f32.powi(-24),
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 112) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

fn sign_of(h: u16) -> f32 {
    if h >> 15 == 1 { -1.0 } else { 1.0 }
}
