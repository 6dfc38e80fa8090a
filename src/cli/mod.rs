//! The command line: clap definitions and one function per command. Commands parse their
//! arguments into domain types, call the pipeline, and print; nothing else happens here.
mod bounces;
mod deliveries;
mod editions;
mod editorial;
mod feedback;
mod fetch;
mod init;
mod listmonk;
mod operators;
mod preview;
mod seed;
mod send;
mod serve;
mod store;
pub(crate) mod subscriber_csv;
mod subscriber_tokens;
mod subscribers;
mod subscribers_edit;
pub(crate) mod topics;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// paperpost: trending research papers in your inbox.
///
/// Fetches new papers (Hugging Face Daily Papers, arXiv feeds and queries, local files),
/// picks for each subscriber the ones matching their topics, and mails them a digest.
#[derive(Debug, Parser)]
#[command(name = "paperpost", version, propagate_version = true)]
pub struct Cli {
    /// The config file.
    #[arg(
        long,
        short,
        global = true,
        env = "PAPERPOST_CONFIG",
        default_value = "config.toml"
    )]
    pub config: PathBuf,
    /// The newsletter to work on, by its slug (`[[newsletters]]`); default the first.
    /// `send`, `run`, `serve` and `fetch` without it work on every newsletter.
    #[arg(long, global = true, value_name = "SLUG", env = "PAPERPOST_NEWSLETTER")]
    pub newsletter: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch every configured source and store the papers with their embedding vectors (a failing source does not stop the others).
    Fetch,
    /// Render the digest a reader or some topics would get now, without sending anything.
    Preview(preview::PreviewArgs),
    /// Plan this period's edition for every active subscriber and send what is due; with
    /// --to, send one test digest now and plan nothing. Exits 0 when all went out, 1 on
    /// failures, 3 when deliveries are leased to another run, 4 when the reputation guard
    /// (`[delivery.guard]`) has paused sending (`deliveries resume` lifts it).
    Send(send::SendArgs),
    /// One whole run now: fetch, then send (whatever the schedule says).
    Run(send::SendArgs),
    /// Run the web server (subscribe, confirm, preferences, unsubscribe, archive, preview) and
    /// the scheduler until SIGTERM or Ctrl-C: fetch and send on the `[schedule]` times (each
    /// reader at their own hour and zone), once per edition, catching up a missed edition
    /// after downtime. Stopping finishes the messages in flight.
    Serve(serve::ServeArgs),
    /// Next fetch and send times, the last runs (papers per source, digests sent,
    /// failures), editions and the delivery queue.
    Status(serve::StatusArgs),
    /// Add, edit, show, list, remove, import and export subscribers (CSV: paperpost's or
    /// listmonk's), seed a reader's profile from their library file, and revoke a reader's
    /// link tokens.
    #[command(subcommand)]
    Subscribers(subscribers::SubscribersCommand),
    /// Record that a reader likes a paper: their digests get a "More like what you liked"
    /// section from the papers they liked (`--undo` forgets it).
    Like(feedback::FeedbackArgs),
    /// Record that a reader dislikes a paper: it and papers very like it are demoted in
    /// their digests (`--undo` forgets it).
    Dislike(feedback::FeedbackArgs),
    /// List a reader's liked and disliked papers (tab-separated: verdict, id, title).
    Likes(feedback::LikesArgs),
    /// Delivery states per edition, bounce and complaint counts and rates, failures with
    /// their SMTP replies, and re-queueing; `deliveries resume` lifts a pause of the
    /// reputation guard.
    Deliveries(deliveries::DeliveriesArgs),
    /// The editions planned so far (counts per delivery state); `editions cancel` withdraws
    /// what one has not delivered so it can be planned again; `editions note|pin|unpin|show`
    /// set and show the editor's note and picks of an edition.
    Editions(editions::EditionsArgs),
    /// The operators who sign in to the web's status page: `operators add|passwd NAME`
    /// (the password asked without echo, or --password-env VAR, or one line on stdin),
    /// `operators list`, `operators remove NAME`.
    #[command(subcommand)]
    Operators(operators::OperatorsCommand),
    /// Bounce reports and spam complaints: `bounces ingest PATH|-`.
    #[command(subcommand)]
    Bounces(bounces::BouncesCommand),
    /// Move the store: `store copy --to postgres://…` copies this SQLite store into an empty
    /// PostgreSQL database (counts checked, safe to run again).
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Load and validate the config (and open the store) without doing anything else.
    CheckConfig(CheckConfigArgs),
    /// Write a commented config.toml to start from (the reference one, with the newsletter's
    /// name, public address and sender from the flags or asked on a terminal), and say what
    /// to do next.
    Init(init::InitArgs),
    /// Check a topic line: how each item is understood, or where the mistake is.
    #[command(subcommand)]
    Topics(topics::TopicsCommand),
}

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// Also read the relays' passwords from the environment and log in to each relay
    /// (greeting, STARTTLS, AUTH, QUIT; nothing is sent).
    #[arg(long)]
    smtp: bool,
}

/// Runs one command; the exit code on success.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    if let Command::Init(args) = cli.command {
        return init::init(&cli.config, args);
    }
    if let Command::Topics(cmd) = cli.command {
        return topics::run(cmd);
    }
    let all = Settings::load(&cli.config)?;
    if let Command::CheckConfig(args) = cli.command {
        return check_config(&all, args).await;
    }
    // Settings and store as the chosen newsletter sees them (the first by default).
    let chosen = cli.newsletter.as_deref();
    let settings = match chosen {
        Some(slug) => all.view(slug)?,
        None => all.clone(),
    };
    let root = settings.store.open()?;
    let store = root.for_newsletter(&settings.newsletter.slug);
    let every = chosen.is_none() && all.has_several_newsletters();
    let is_run = matches!(cli.command, Command::Run(_));
    if matches!(cli.command, Command::Send(_) | Command::Run(_))
        && let Some(warning) = orphaned_newsletters(&all, &root)
    {
        eprintln!("warning: {warning}");
    }
    match cli.command {
        Command::Fetch if every => fetch::fetch(&all.with_all_sources(), &store).await,
        Command::Fetch => fetch::fetch(&settings, &store).await,
        Command::Preview(args) => preview::preview(&settings, &store, args),
        Command::Send(args) | Command::Run(args) if every && args.to.is_none() => {
            send::send_each(&all, &root, args, is_run).await
        }
        Command::Send(args) => send::send(&settings, &store, args, false).await,
        Command::Run(args) => send::send(&settings, &store, args, true).await,
        Command::Serve(args) if every => serve::serve_each(&all, root, args).await,
        Command::Serve(args) => serve::serve(&settings, store, args).await,
        Command::Status(args) if every => {
            for (view, store) in each_newsletter(&all, &root) {
                let n = &view.newsletter;
                println!("== newsletter {} ({}) ==", n.slug, n.name);
                serve::status(&view, &store, args.clone())?;
                println!();
            }
            Ok(0)
        }
        Command::Status(args) => serve::status(&settings, &store, args),
        Command::Subscribers(cmd) => subscribers::run(&settings, &store, cmd),
        Command::Deliveries(args) => deliveries::run(&store, args),
        Command::Like(args) => feedback::run(&store, crate::domain::Feedback::Like, args),
        Command::Dislike(args) => feedback::run(&store, crate::domain::Feedback::Dislike, args),
        Command::Likes(args) => feedback::list(&store, args),
        Command::Editions(args) => editions::run(&settings, &store, args),
        Command::Bounces(cmd) => bounces::run(&settings, &store, cmd),
        Command::Operators(cmd) => operators::run(&settings, &store, cmd),
        Command::Store(cmd) => store::run(&all, &store, cmd),
        Command::CheckConfig(_) | Command::Init(_) | Command::Topics(_) => {
            unreachable!("handled above")
        }
    }
}

async fn check_config(settings: &Settings, args: CheckConfigArgs) -> anyhow::Result<i32> {
    let store = settings.store.open()?;
    println!("config OK");
    if settings.newsletter.base_url.scheme() != "https" {
        // RFC 8058 one-click unsubscribe, and Gmail's and Yahoo's bulk-sender rules, need an
        // https List-Unsubscribe URL; mail with an http one is treated as bulk without it.
        eprintln!(
            "warning: `newsletter.base_url` ({}) is not https: List-Unsubscribe links will not \
             qualify for one-click unsubscribe (RFC 8058) and large mailbox providers may \
             reject or bulk the mail; put a TLS proxy in front and use its https address",
            settings.newsletter.base_url
        );
    }
    if let Some(warning) = crate::web::status_token_warning() {
        eprintln!("warning: {warning}");
    }
    if settings.store.url_has_password() {
        eprintln!(
            "warning: `store.url` holds the PostgreSQL password, so the config file is a \
             secret now: set `store.password_env` to an environment variable holding it and \
             drop it from the URL"
        );
    }
    if settings.has_several_newsletters() {
        for n in &settings.newsletters {
            let sources = n
                .sources
                .as_ref()
                .map_or("every source".into(), |s| s.join(", "));
            println!(
                "  newsletter {}: {} <{}> from {}; sources: {sources}",
                n.slug, n.name, n.base_url, n.from
            );
        }
    } else {
        println!(
            "  newsletter: {} <{}>",
            settings.newsletter.name, settings.newsletter.base_url
        );
    }
    let schema = store.schema_info()?;
    println!(
        "  store:      {}, schema version {} ({}) at {}",
        schema.backend,
        schema.version,
        schema.state(),
        store.location(),
    );
    if let Some(warning) = orphaned_newsletters(settings, &store) {
        println!("warning: {warning}");
    }
    println!(
        "  sources:    {}",
        settings
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let sch = &settings.schedule;
    println!(
        "  schedule:   fetch `{}`, weekly `{}`, daily `{}` in {}",
        sch.fetch,
        sch.send,
        sch.daily_send,
        sch.timezone.unwrap_or(settings.newsletter.timezone).name()
    );
    let d = &settings.delivery;
    let smtp = match d.transport {
        crate::config::TransportKind::Auto => !d.relays.is_empty(),
        crate::config::TransportKind::File => false,
        crate::config::TransportKind::Smtp => true,
    };
    if !smtp {
        println!("  delivery:   .eml files in {}", d.outbox.display());
    } else {
        let names: Vec<_> = d
            .relays
            .iter()
            .map(|r| {
                let auth = r
                    .password_env
                    .as_ref()
                    .map_or(String::new(), |v| format!(", password in ${v}"));
                format!("{} ({:?}{auth})", r.host, r.tls)
            })
            .collect();
        println!("  delivery:   SMTP via {}", names.join(", "));
    }
    match &settings.delivery.bounce_address {
        Some(b) => println!(
            "  bounces:    envelope sender {}+TOKEN@{} (VERP); feed them to `paperpost bounces ingest`",
            b.user(),
            b.domain()
        ),
        None => println!(
            "  bounces:    envelope sender = From (hint: set [delivery] bounce_address so each bounce names its delivery and `paperpost bounces ingest` can act on it)"
        ),
    }
    if settings.bounces.trust_unverified {
        println!(
            "  bounces:    WARNING [bounces] trust_unverified = true: reports that prove nothing act on the address they name, and anyone can mail the bounce address"
        );
    }
    if !args.smtp {
        return Ok(0);
    }
    let crate::delivery::Transport::Smtp(relays) = settings.transport()? else {
        println!("  smtp:       no relay configured; nothing to check");
        return Ok(0);
    };
    let mut code = 0;
    for relay in relays {
        match crate::delivery::Session::connect(relay.clone()).await {
            Ok(session) => {
                session.quit().await;
                println!("  smtp:       {} OK", relay.name);
            }
            Err(e) => {
                println!("  smtp:       {} FAILED: {e}", relay.name);
                code = 1;
            }
        }
    }
    Ok(code)
}

/// A spinner/bar on stderr when it is a terminal; hidden otherwise (logs and CI).
/// Every newsletter's settings with the store as it sees them, in the config's order.
pub(crate) fn each_newsletter(
    all: &Settings,
    root: &crate::store::Store,
) -> Vec<(Settings, crate::store::Store)> {
    all.views()
        .into_iter()
        .map(|view| {
            let store = root.for_newsletter(&view.newsletter.slug);
            (view, store)
        })
        .collect()
}

/// A warning when the store holds readers of a newsletter the config no longer has (its
/// slug changed, or a lone `[newsletter]` became `[[newsletters]]` without `slug = "main"`):
/// nothing is sent to them until `store rename-newsletter` moves them.
pub(crate) fn orphaned_newsletters(
    settings: &Settings,
    store: &crate::store::Store,
) -> Option<String> {
    let known = settings.slugs();
    let lost: Vec<String> = store
        .newsletters_in_store()
        .ok()?
        .into_iter()
        .filter(|n| n.subscribers > 0 && !known.contains(&n.slug.as_str()))
        .map(|n| format!("`{}` ({} subscribers)", n.slug, n.subscribers))
        .collect();
    (!lost.is_empty()).then(|| {
        format!(
            "the store has readers of newsletters the config does not name: {}; nothing is \
             sent to them. If a slug changed, `paperpost store rename-newsletter OLD NEW` \
             moves its rows (the config's slugs: {})",
            lost.join(", "),
            known.join(", ")
        )
    })
}

pub(crate) fn progress_bar(len: Option<u64>, what: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    let pb = match len {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        ),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template")),
    };
    pb.set_message(what.to_string());
    // In the process's set of bars, so log lines are written around it, not through it.
    crate::telemetry::bars().add(pb)
}
