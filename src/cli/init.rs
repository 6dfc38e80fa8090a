//! `paperpost init [DIR]`: a commented `config.toml` to start from — the shipped reference
//! config, built into the binary, with the newsletter's name, public address and sender
//! filled in — and what to do next.
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::Settings;

/// The reference `config.toml` of the repository: every key, its default and a comment.
const REFERENCE: &str = include_str!("../../config.toml");

/// The three `[newsletter]` lines of [`REFERENCE`] that `init` fills in.
const NAME_LINE: &str = "name = \"paperpost\"";
const URL_LINE: &str = "base_url = \"http://127.0.0.1:8080/\"";
const FROM_LINE: &str = "from = \"paperpost <digest@paperpost.invalid>\"";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write `config.toml` into (created if needed); default: the file named
    /// by --config (./config.toml).
    dir: Option<PathBuf>,
    /// The newsletter's name, shown in subjects and pages (asked when stdin is a terminal).
    #[arg(long)]
    name: Option<String>,
    /// The public address of the web pages (unsubscribe and preference links point there),
    /// e.g. `https://papers.example.org/` (asked when stdin is a terminal).
    #[arg(long)]
    url: Option<String>,
    /// The sender of every mail, e.g. `"Paper digest <digest@example.org>"` (asked when stdin
    /// is a terminal).
    #[arg(long)]
    from: Option<String>,
    /// Overwrite an existing config file.
    #[arg(long)]
    force: bool,
}

/// The newsletter's identity, as the operator gave it.
struct Identity {
    name: String,
    url: String,
    from: String,
}

pub(super) fn init(config_flag: &Path, args: InitArgs) -> anyhow::Result<i32> {
    let path = match &args.dir {
        Some(dir) => dir.join("config.toml"),
        None => config_flag.to_path_buf(),
    };
    if path.exists() && !args.force {
        anyhow::bail!(
            "{} already exists; nothing written (--force overwrites it)",
            path.display()
        );
    }
    let interactive = std::io::stdin().is_terminal();
    let identity = Identity {
        name: value(args.name, interactive, "Newsletter name", "paperpost")?,
        url: value(
            args.url,
            interactive,
            "Public address of the web pages",
            "http://127.0.0.1:8080/",
        )?,
        from: value(
            args.from,
            interactive,
            "Sender (Name <address>)",
            "paperpost <digest@paperpost.invalid>",
        )?,
    };
    let text = fill(&identity)?;
    // The same checks as every command's start: a bad URL or sender fails here, not later.
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Settings::parse(&text, &path, &base).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&path, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    if identity.from.contains(".invalid>") {
        println!("  (the sender is a placeholder: set [newsletter] from before a real send)");
    }
    print_next_steps(
        &path,
        args.dir.is_some() || path != Path::new("config.toml"),
    );
    Ok(0)
}

/// The flag's value; else the answer to a prompt on a terminal; else the default.
fn value(
    flag: Option<String>,
    interactive: bool,
    question: &str,
    default: &str,
) -> anyhow::Result<String> {
    if let Some(v) = flag {
        return Ok(v.trim().to_string());
    }
    if !interactive {
        return Ok(default.to_string());
    }
    // Three questions do not justify a prompt crate: one line read from stdin each.
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [{default}]: ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim();
    Ok(if line.is_empty() { default } else { line }.to_string())
}

/// [`REFERENCE`] with the identity's three lines replaced (as TOML strings, so quotes and
/// backslashes in a name cannot break the file).
fn fill(id: &Identity) -> anyhow::Result<String> {
    let quote = |v: &str| toml::Value::String(v.to_string()).to_string();
    let mut text = REFERENCE.to_string();
    for (line, key, v) in [
        (NAME_LINE, "name", &id.name),
        (URL_LINE, "base_url", &id.url),
        (FROM_LINE, "from", &id.from),
    ] {
        anyhow::ensure!(
            text.contains(line),
            "the built-in config.toml lost its `{line}` line"
        );
        text = text.replacen(line, &format!("{key} = {}", quote(v)), 1);
    }
    Ok(text)
}

fn print_next_steps(path: &Path, name_config: bool) {
    let pp = if name_config {
        format!("paperpost --config {}", path.display())
    } else {
        "paperpost".to_string()
    };
    println!(
        "\nNext:
  1. Check the file, the store and the sources:
       {pp} check-config
  2. Fetch this week's papers:
       {pp} fetch
  3. Add yourself as a reader:
       {pp} subscribers add you@example.org --topics '\"diffusion model\", cat:cs.CV'
  4. Send yourself a test digest now (plans nothing, uses nothing up):
       {pp} send --to you@example.org --as you@example.org
     Until a relay is set ([[delivery.relays]] in the file, its password in the environment
     variable named by password_env) mails are written as .eml files into the outbox.
  5. Send the real edition to every reader (once per week):
       {pp} send
  6. Run the sign-up pages and the weekly schedule:
       {pp} serve"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_config_filled_in_is_valid_and_says_what_was_asked() {
        let text = fill(&Identity {
            name: "Lab \"papers\"".into(),
            url: "https://papers.example.org/".into(),
            from: "Lab <digest@example.org>".into(),
        })
        .unwrap();
        let s = Settings::parse(&text, Path::new("config.toml"), Path::new("/srv")).unwrap();
        assert_eq!(s.newsletter.name, "Lab \"papers\"");
        assert_eq!(
            s.newsletter.base_url.as_str(),
            "https://papers.example.org/"
        );
        assert_eq!(s.newsletter.from.email.to_string(), "digest@example.org");
        assert!(
            text.starts_with("# paperpost configuration"),
            "comments kept"
        );
    }
}
