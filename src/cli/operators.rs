//! `paperpost operators add|passwd|list|remove`: the accounts that sign in to the web's
//! operator pages (`/status`). A password is read from the terminal without echo (typed
//! twice), from the environment variable `--password-env` names, or from standard input
//! when it is not a terminal (one line), and is stored only as an Argon2id hash.
use std::io::{IsTerminal, Read};

use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand};

use crate::config::Settings;
use crate::domain::{OperatorName, OperatorPassword, PASSWORD_MIN_CHARS};
use crate::store::Store;
use crate::web::hash_password;

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Add an operator who can sign in at /login to the status page and its forms. The
    /// password (at least 12 characters, no control characters) is asked on the terminal,
    /// or read from --password-env VAR, or from standard input (one line).
    Add(PasswordArgs),
    /// Set an operator's password anew; every session they have ends (signed out everywhere).
    Passwd(PasswordArgs),
    /// The operators: when added, when their password was set, their last sign-in and how
    /// many sessions they have open.
    List,
    /// Remove an operator; their sessions end at once.
    Remove {
        /// The operator's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The operator's name: letters a-z, digits and . _ - @ (stored in lower case).
    name: String,
    /// Read the password from this environment variable (for scripts) instead of asking.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
}

pub(super) fn run(
    settings: &Settings,
    store: &Store,
    cmd: OperatorsCommand,
) -> anyhow::Result<i32> {
    match cmd {
        OperatorsCommand::Add(args) => set(store, args, true),
        OperatorsCommand::Passwd(args) => set(store, args, false),
        OperatorsCommand::List => list(settings, store),
        OperatorsCommand::Remove { name } => remove(store, &name),
    }
}

fn set(store: &Store, args: PasswordArgs, add: bool) -> anyhow::Result<i32> {
    let name = match OperatorName::parse(&args.name) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    let known = store.operator_password_hash(&name)?.is_some();
    if add && known {
        eprintln!(
            "there is already an operator {name}; `paperpost operators passwd {name}` sets a new password"
        );
        return Ok(1);
    }
    if !add && !known {
        eprintln!("there is no operator {name}; `paperpost operators list` lists them");
        return Ok(1);
    }
    let password = match read_password(args.password_env.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    let hash = hash_password(&password)?;
    let now = Utc::now();
    if add {
        if !store.add_operator(&name, &hash, now)? {
            eprintln!("there is already an operator {name}");
            return Ok(1);
        }
        println!("added operator {name}: sign in at /login");
    } else {
        if !store.set_operator_password(&name, &hash, now)? {
            eprintln!("there is no operator {name}");
            return Ok(1);
        }
        println!("new password set for {name}; their sessions have ended");
    }
    Ok(0)
}

/// The new password, from where the flags and the terminal say; checked.
fn read_password(env: Option<&str>) -> Result<OperatorPassword, String> {
    if let Some(var) = env {
        let value = std::env::var(var).map_err(|_| {
            format!(
                "--password-env {var}: the environment variable {var} is not set (or not UTF-8)"
            )
        })?;
        return OperatorPassword::parse(value).map_err(|e| format!("${var}: {e}"));
    }
    if std::io::stdin().is_terminal() {
        let prompt = format!("New password (at least {PASSWORD_MIN_CHARS} characters): ");
        let first = rpassword::prompt_password(prompt).map_err(|e| e.to_string())?;
        let password = OperatorPassword::parse(first)?;
        let again = rpassword::prompt_password("The same again: ").map_err(|e| e.to_string())?;
        if again != password.expose() {
            return Err("the two passwords differ; nothing was changed".into());
        }
        return Ok(password);
    }
    // A script: one line on standard input (its line ending is not part of it).
    let mut input = String::new();
    std::io::stdin()
        .take(16 * 1024)
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let line = input
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&input);
    if line.is_empty() {
        return Err(
            "no password: type it on a terminal, pass --password-env VAR, or give it as one line on standard input"
                .into(),
        );
    }
    OperatorPassword::parse(line.to_string()).map_err(|e| format!("standard input: {e}"))
}

fn list(settings: &Settings, store: &Store) -> anyhow::Result<i32> {
    let idle = Duration::minutes(settings.web.operator_idle_minutes.into());
    let operators = store.operators(Utc::now(), idle)?;
    if operators.is_empty() {
        println!("no operators yet; `paperpost operators add NAME` adds one");
        return Ok(0);
    }
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    println!(
        "{:<24} {:<17} {:<17} {:<17} sessions",
        "name", "added (UTC)", "password set", "last sign-in"
    );
    for o in operators {
        println!(
            "{:<24} {:<17} {:<17} {:<17} {}",
            o.name,
            day(o.created_at),
            day(o.password_set_at),
            o.last_sign_in_at.map_or_else(|| "never".into(), day),
            o.open_sessions
        );
    }
    Ok(0)
}

fn remove(store: &Store, name: &str) -> anyhow::Result<i32> {
    let Ok(name) = OperatorName::parse(name) else {
        eprintln!("there is no operator {name:?}");
        return Ok(1);
    };
    if store.remove_operator(&name)? {
        println!("removed operator {name}; their sessions have ended");
        Ok(0)
    } else {
        eprintln!("there is no operator {name}; `paperpost operators list` lists them");
        Ok(1)
    }
}
