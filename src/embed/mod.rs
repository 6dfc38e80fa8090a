//! EMBED: meaning as vectors — a pretrained static sentence-embedding model (model2vec's
//! format: `tokenizer.json`, `model.safetensors`, `config.json`) run in-process, pure Rust,
//! no network. Pure except for loading the model's files.
//!
//! - [`Embedder`]: a model loaded from a folder ([`Embedder::load`]) or the one compiled in
//!   ([`Embedder::shipped`]); [`Embedder::embed`] turns texts into vectors of length 1, so
//!   [`cosine`] is their dot product. [`ModelIdentity`] (name + SHA-256 of the weights) is
//!   kept with stored vectors so that they are recomputed when the model changes.
//! - [`paper_text`]: which text of a paper is embedded.
mod folder;
mod model;
mod shared;
mod shipped;
#[cfg(test)]
pub(crate) mod tests;
mod text;
mod tokenizer;

pub use folder::ModelError;
pub use model::{Embedder, ModelIdentity, cosine};
pub use text::paper_text;
#[cfg(any(test, feature = "test-support"))]
pub use text::paper_text_variant;
pub use tokenizer::TokenizerError;
