//! Where bounce messages come from: a Maildir (`new/` and `cur/`), an mbox file, a single
//! `.eml`, or standard input (one message, as an MTA's pipe delivers it). Memory is bounded:
//! a message larger than [`MAX_MESSAGE_BYTES`] is reported and skipped without being held.
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Bounce reports are small (a DSN carries the returned headers or the message); larger
/// messages are skipped as malformed.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Where a Maildir's messages that cannot be read are moved (a Maildir++ folder of the
/// same Maildir, which mail clients show as `paperpost-rejected`): out of `new/` and `cur/`,
/// so later runs do not read them again; kept for a person to look at.
pub const REJECTED_FOLDER: &str = ".paperpost-rejected";

/// One message as read, or why it could not be.
pub struct RawMessage {
    /// Where it came from: a file path, `mbox:N`, `stdin`.
    pub origin: String,
    pub bytes: Result<Vec<u8>, String>,
    /// The file of a Maildir message (the one kind of input whose messages are moved
    /// aside when they cannot be read; see [`Input::set_aside`]).
    pub maildir_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    Maildir(PathBuf),
    Mbox(PathBuf),
    Eml(PathBuf),
}

impl Input {
    /// `-` is standard input; a folder with `new/` or `cur/` a Maildir; a file starting with
    /// `From ` an mbox; any other file one message.
    pub fn detect(arg: &Path) -> anyhow::Result<Input> {
        if arg.as_os_str() == "-" {
            return Ok(Input::Stdin);
        }
        let meta =
            std::fs::metadata(arg).with_context(|| format!("cannot read {}", arg.display()))?;
        if meta.is_dir() {
            if arg.join("new").is_dir() || arg.join("cur").is_dir() {
                return Ok(Input::Maildir(arg.to_path_buf()));
            }
            anyhow::bail!(
                "{} is a folder but not a Maildir (it has neither new/ nor cur/)",
                arg.display()
            );
        }
        let mut head = [0u8; 5];
        let n = std::fs::File::open(arg)
            .and_then(|mut f| f.read(&mut head))
            .with_context(|| format!("cannot read {}", arg.display()))?;
        Ok(if head.get(..n) == Some(b"From ") {
            Input::Mbox(arg.to_path_buf())
        } else {
            Input::Eml(arg.to_path_buf())
        })
    }

    /// Moves a Maildir message that cannot be read into the Maildir's
    /// [`REJECTED_FOLDER`] (its `new/`, so a mail client shows it unread), where no later
    /// run reads it. Returns where it went; `None` for messages of other inputs, which are
    /// left where they are (an mbox is not rewritten, a file named on the command line
    /// not moved).
    pub fn set_aside(&self, raw: &RawMessage) -> Option<Result<PathBuf, String>> {
        let (Input::Maildir(dir), Some(file)) = (self, &raw.maildir_file) else {
            return None;
        };
        let folder = dir.join(REJECTED_FOLDER);
        let moved = (|| {
            for sub in ["tmp", "new", "cur"] {
                std::fs::create_dir_all(folder.join(sub))?;
            }
            let to = folder
                .join("new")
                .join(file.file_name().unwrap_or_default());
            // Same Maildir, same file system: a rename, atomic.
            std::fs::rename(file, &to)?;
            Ok::<_, std::io::Error>(to)
        })();
        Some(moved.map_err(|e| format!("cannot move it to {}: {e}", folder.display())))
    }

    /// Calls `each` with every message, in order (Maildir: `new/` then `cur/`, by name).
    pub fn read_each(&self, mut each: impl FnMut(RawMessage)) -> anyhow::Result<()> {
        match self {
            Input::Stdin => each(RawMessage {
                origin: "stdin".into(),
                bytes: read_bounded(std::io::stdin().lock()),
                maildir_file: None,
            }),
            Input::Eml(path) => each(read_file(path)),
            Input::Maildir(dir) => {
                for sub in ["new", "cur"] {
                    let folder = dir.join(sub);
                    if !folder.is_dir() {
                        continue;
                    }
                    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
                        .with_context(|| format!("cannot list {}", folder.display()))?
                        .filter_map(|e| e.ok())
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .map(|e| e.path())
                        // Maildir writers leave dot files only while writing (tmp/ in fact).
                        .filter(|p| {
                            !p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                        })
                        .collect();
                    files.sort();
                    for f in files {
                        each(RawMessage {
                            maildir_file: Some(f.clone()),
                            ..read_file(&f)
                        });
                    }
                }
            }
            Input::Mbox(path) => {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                split_mbox(BufReader::new(file), &path.display().to_string(), each)
                    .with_context(|| format!("cannot read {}", path.display()))?;
            }
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> RawMessage {
    RawMessage {
        origin: path.display().to_string(),
        bytes: std::fs::File::open(path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(read_bounded),
        maildir_file: None,
    }
}

/// At most [`MAX_MESSAGE_BYTES`]; an error (without reading on) past that.
fn read_bounded(r: impl Read) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    r.take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read: {e}"))?;
    if buf.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "larger than {} MiB: skipped",
            MAX_MESSAGE_BYTES / 1024 / 1024
        ));
    }
    Ok(buf)
}

/// Splits an mbox (mboxrd: a `From ` line starts each message, `>From ` in a body is an
/// escaped `From `). Hand-written rather than mail-parser's `mbox::MessageIterator` because
/// that one holds a whole message however large it is, and this one keeps at most
/// [`MAX_MESSAGE_BYTES`] of one message (and of one line) in memory.
fn split_mbox(
    mut r: impl BufRead,
    name: &str,
    mut each: impl FnMut(RawMessage),
) -> std::io::Result<()> {
    let mut n = 0usize;
    let mut current: Option<Result<Vec<u8>, String>> = None;
    let mut line = Vec::new();
    let mut emit = |n: usize, m: Result<Vec<u8>, String>| {
        each(RawMessage {
            origin: format!("{name} message {n}"),
            bytes: m,
            maildir_file: None,
        })
    };
    loop {
        line.clear();
        let read = r
            .by_ref()
            .take(MAX_MESSAGE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        if line.starts_with(b"From ") {
            if let Some(m) = current.take() {
                emit(n, m);
            }
            n += 1;
            current = Some(Ok(Vec::new()));
            continue;
        }
        let Some(Ok(buf)) = current.as_mut() else {
            // Text before the first `From ` line, or a message already too big.
            if current.is_none() && !line.iter().all(u8::is_ascii_whitespace) {
                n += 1;
                current = Some(Err("text before the first `From ` line of the mbox".into()));
            }
            continue;
        };
        let unescaped = match line.strip_prefix(b">") {
            Some(rest) if rest.iter().skip_while(|b| **b == b'>').take(5).eq(b"From ") => rest,
            _ => &line[..],
        };
        if buf.len() + unescaped.len() > MAX_MESSAGE_BYTES {
            current = Some(Err(format!(
                "larger than {} MiB: skipped",
                MAX_MESSAGE_BYTES / 1024 / 1024
            )));
        } else {
            buf.extend_from_slice(unescaped);
        }
    }
    if let Some(m) = current.take() {
        emit(n, m);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mbox_splits_on_from_lines_and_unescapes_quoted_ones() {
        let mbox = b"From a@x Sat Nov 28 09:00:00 2026\nSubject: 1\n\n>From here\n\nFrom b@x Sat Nov 28 09:00:01 2026\nSubject: 2\n\nbody\n";
        let mut got = Vec::new();
        split_mbox(&mbox[..], "m", |m| got.push(m)).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].bytes.as_deref().unwrap(),
            b"Subject: 1\n\nFrom here\n\n"
        );
        assert_eq!(got[1].origin, "m message 2");
        assert_eq!(got[1].bytes.as_deref().unwrap(), b"Subject: 2\n\nbody\n");
    }
}
