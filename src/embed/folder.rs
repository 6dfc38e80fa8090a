//! A model folder on disk (model2vec's layout) read and checked: the three files present,
//! each listed in an optional `SHA256SUMS` matching it.
use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::tokenizer::TokenizerError;

/// The files a static model folder must hold.
pub(crate) const TOKENIZER: &str = "tokenizer.json";
pub(crate) const WEIGHTS: &str = "model.safetensors";
pub(crate) const CONFIG: &str = "config.json";
/// Optional: `sha256sum`'s output for the folder's files, checked at load.
pub(crate) const SUMS: &str = "SHA256SUMS";

/// Why a model cannot be loaded. Each says which file, and where a line is at fault, which.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "model folder {folder} has no {file} (a static model2vec folder holds {TOKENIZER}, {WEIGHTS} and {CONFIG})"
    )]
    Missing { folder: PathBuf, file: &'static str },
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    SumsLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path} does not match its SHA-256 in {SUMS}: expected {expected}, found {found}")]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{path}: {error}")]
    Tokenizer {
        path: PathBuf,
        error: TokenizerError,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The bytes of a model's files, read (and checked against `SHA256SUMS` when there is one).
pub(crate) struct ModelFiles {
    pub name: String,
    pub tokenizer: Cow<'static, [u8]>,
    pub weights: Cow<'static, [u8]>,
    pub config: Cow<'static, [u8]>,
    /// SHA-256 of `weights` when already known (checked against `SHA256SUMS`, or shipped).
    pub weights_sha256: Option<String>,
    /// Where each file came from, for messages.
    pub folder: PathBuf,
}

impl ModelFiles {
    pub(crate) fn read(folder: &Path) -> Result<ModelFiles, ModelError> {
        let read = |file: &'static str| {
            let path = folder.join(file);
            std::fs::read(&path).map(Cow::Owned).map_err(|error| {
                if error.kind() == std::io::ErrorKind::NotFound {
                    ModelError::Missing {
                        folder: folder.to_path_buf(),
                        file,
                    }
                } else {
                    ModelError::Read { path, error }
                }
            })
        };
        let mut files = ModelFiles {
            name: folder_name(folder),
            tokenizer: read(TOKENIZER)?,
            weights: read(WEIGHTS)?,
            config: read(CONFIG)?,
            weights_sha256: None,
            folder: folder.to_path_buf(),
        };
        let sums = folder.join(SUMS);
        match std::fs::read_to_string(&sums) {
            Ok(text) => files.check_sums(&sums, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(ModelError::Read { path: sums, error }),
        }
        Ok(files)
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.folder.join(file)
    }

    /// Every line `HEX  NAME` (as `sha256sum` writes it) names one of the folder's files,
    /// which must match; a file the loader does not read (a README) is checked too.
    fn check_sums(&mut self, sums: &Path, text: &str) -> Result<(), ModelError> {
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let bad = |message: String| ModelError::SumsLine {
                path: sums.to_path_buf(),
                line: line_no,
                message,
            };
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (hex, name) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| bad("expected `SHA256  FILE`".into()))?;
            let name = name.trim_start().trim_start_matches('*');
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!("`{hex}` is not a SHA-256 (64 hex digits)")));
            }
            if name.is_empty() || name.contains(['/', '\\']) || name == ".." {
                return Err(bad(format!("`{name}` is not a file of this folder")));
            }
            let found = match name {
                TOKENIZER => sha256_hex(&self.tokenizer),
                WEIGHTS => sha256_hex(&self.weights),
                CONFIG => sha256_hex(&self.config),
                other => {
                    let path = self.path(other);
                    let bytes = std::fs::read(&path)
                        .map_err(|e| bad(format!("cannot read `{other}` it lists: {e}")))?;
                    sha256_hex(&bytes)
                }
            };
            if !found.eq_ignore_ascii_case(hex) {
                return Err(ModelError::Checksum {
                    path: self.path(name),
                    expected: hex.to_ascii_lowercase(),
                    found,
                });
            }
            if name == WEIGHTS {
                self.weights_sha256 = Some(found);
            }
        }
        Ok(())
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The folder's own name (`potion-base-8M`), the model's name in its identity.
fn folder_name(folder: &Path) -> String {
    let canonical = folder
        .canonicalize()
        .unwrap_or_else(|_| folder.to_path_buf());
    canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into())
}
