//! Models loaded once per process: a web server previews, plans and embeds with the same
//! model many times, and loading one (parsing the tokenizer, decoding the weights, checking a
//! folder's checksums) costs far more than using it. A folder is loaded again when one of its
//! files changed (size or modification time), so swapping the model under a running server is
//! seen by the next use.
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::folder::ModelError;
use super::model::Embedder;

/// What a loaded model was loaded from: the compiled-in model, or a folder as its files were.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Shipped,
    Folder(PathBuf, Vec<Option<(u64, SystemTime)>>),
}

impl Source {
    fn of(folder: Option<&Path>) -> Source {
        match folder {
            None => Source::Shipped,
            Some(f) => {
                let stamps = [
                    "tokenizer.json",
                    "model.safetensors",
                    "config.json",
                    "SHA256SUMS",
                ]
                .iter()
                .map(|name| {
                    let m = std::fs::metadata(f.join(name)).ok()?;
                    Some((m.len(), m.modified().ok()?))
                })
                .collect();
                Source::Folder(f.to_path_buf(), stamps)
            }
        }
    }
}

/// At most this many models are kept (the configured one, and one being switched to).
const KEEP: usize = 2;

static LOADED: Mutex<Vec<(Source, Arc<Embedder>)>> = Mutex::new(Vec::new());

impl Embedder {
    /// [`Embedder::configured`], loaded once per process and shared.
    pub fn shared(folder: Option<&Path>) -> Result<Arc<Embedder>, ModelError> {
        let source = Source::of(folder);
        // Loading holds the lock: two first uses at once load the model once.
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, m)) = loaded.iter().find(|(s, _)| *s == source) {
            return Ok(Arc::clone(m));
        }
        let model = Arc::new(Embedder::configured(folder)?);
        loaded.retain(|(s, _)| !matches!((s, &source), (Source::Folder(a, _), Source::Folder(b, _)) if a == b));
        if loaded.len() >= KEEP {
            loaded.remove(0);
        }
        loaded.push((source, Arc::clone(&model)));
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_is_loaded_once_and_shared() {
        let a = Embedder::shared(None).expect("shipped");
        let b = Embedder::shared(None).expect("shipped");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.identity().name, "potion-base-8M");
    }

    #[test]
    fn a_folder_is_loaded_again_when_its_files_change() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let tmp = tempfile::tempdir().unwrap();
        for name in ["tokenizer.json", "model.safetensors", "config.json"] {
            std::fs::copy(
                repo.join("templates/models/potion-base-2M").join(name),
                tmp.path().join(name),
            )
            .unwrap();
        }
        let a = Embedder::shared(Some(tmp.path())).expect("2M loads");
        let b = Embedder::shared(Some(tmp.path())).expect("2M loads");
        assert!(Arc::ptr_eq(&a, &b), "unchanged: the same model");
        // Another model's files in the same folder (the shipped 8M's).
        for name in ["tokenizer.json", "model.safetensors", "config.json"] {
            std::fs::copy(
                repo.join("templates/models/potion-base-8M").join(name),
                tmp.path().join(name),
            )
            .unwrap();
        }
        let c = Embedder::shared(Some(tmp.path())).expect("8M loads");
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.dim(), 256, "the new files are read");
    }
}
