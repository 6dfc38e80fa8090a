//! The `file` transport: each message becomes one `.eml` file in the outbox folder,
//! written to a temporary name and renamed, so a crash never leaves half a message.
use std::path::{Path, PathBuf};

/// Writes `bytes` as `{outbox}/{name}.eml` atomically and returns the path.
pub fn write_eml(outbox: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(outbox)?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = outbox.join(format!("{safe}.eml"));
    let tmp = outbox.join(format!(".{safe}.eml.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_written_whole_under_a_safe_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_eml(
            dir.path(),
            "2026-W48/ada@example.org",
            b"Subject: x\r\n\r\nbody",
        )
        .unwrap();
        assert_eq!(p.file_name().unwrap(), "2026-W48_ada@example.org.eml");
        assert_eq!(std::fs::read(&p).unwrap(), b"Subject: x\r\n\r\nbody");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
