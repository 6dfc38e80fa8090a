//! The default model, compiled into the binary so that a fresh clone works offline with no
//! set-up step: `templates/models/potion-base-8M/` (its README names origin, licence and
//! checksums; `SHA256SUMS` there is checked against these bytes by the tests).
use std::borrow::Cow;
use std::path::PathBuf;

use super::folder::ModelFiles;
use super::model::Embedder;

/// The folder the shipped model's files come from, relative to the repository.
pub(crate) const FOLDER: &str = "templates/models/potion-base-8M";
const NAME: &str = "potion-base-8M";

const TOKENIZER: &[u8] = include_bytes!("../../templates/models/potion-base-8M/tokenizer.json");
const WEIGHTS: &[u8] = include_bytes!("../../templates/models/potion-base-8M/model.safetensors");
const CONFIG: &[u8] = include_bytes!("../../templates/models/potion-base-8M/config.json");
/// SHA-256 of `WEIGHTS`, as `SHA256SUMS` there lists it (checked by the tests, not hashed at
/// every start).
pub(crate) const WEIGHTS_SHA256: &str =
    "f65d0f325faadc1e121c319e2faa41170d3fa07d8c89abd48ca5358d9a223de2";

impl Embedder {
    /// The model in `folder`, or the shipped one when none (`[selection] model`).
    pub fn configured(folder: Option<&std::path::Path>) -> Result<Embedder, super::ModelError> {
        match folder {
            Some(folder) => Embedder::load(folder),
            None => Ok(Embedder::shipped()),
        }
    }

    /// The model paperpost ships (potion-base-8M), from the bytes compiled in.
    pub fn shipped() -> Embedder {
        Embedder::from_files(ModelFiles {
            name: NAME.into(),
            tokenizer: Cow::Borrowed(TOKENIZER),
            weights: Cow::Borrowed(WEIGHTS),
            config: Cow::Borrowed(CONFIG),
            weights_sha256: Some(WEIGHTS_SHA256.into()),
            folder: PathBuf::from(FOLDER),
        })
        .expect("the shipped model loads (checked by embed::tests)")
    }
}

#[cfg(test)]
pub(crate) fn compiled_in_weights() -> &'static [u8] {
    WEIGHTS
}
