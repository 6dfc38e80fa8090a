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

/// The message as a receiving server would store it: a `Return-Path` header with the envelope
/// sender (SMTP MAIL FROM) first, so the `.eml` shows where bounces would go. `None` (no
/// envelope sender) writes `Return-Path: <>`.
pub fn with_return_path(envelope_from: Option<&lettre::Address>, bytes: Vec<u8>) -> Vec<u8> {
    let from = envelope_from.map(|a| a.to_string()).unwrap_or_default();
    let mut out = Vec::with_capacity(bytes.len() + from.len() + 18);
    out.extend_from_slice(b"Return-Path: <");
    out.extend_from_slice(from.as_bytes());
    out.extend_from_slice(b">\r\n");
    out.extend(bytes);
    out
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

    #[test]
    fn the_envelope_sender_goes_first_as_return_path() {
        let from: lettre::Address = "bounces+7-0123456789@example.org".parse().unwrap();
        let out = with_return_path(Some(&from), b"Subject: x\r\n\r\nbody".to_vec());
        assert_eq!(
            out,
            b"Return-Path: <bounces+7-0123456789@example.org>\r\nSubject: x\r\n\r\nbody"
        );
        assert!(with_return_path(None, vec![]).starts_with(b"Return-Path: <>\r\n"));
    }
}
