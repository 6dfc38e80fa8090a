//! WEB: `paperpost serve` — the sign-up form, double opt-in, preferences, one-click
//! unsubscribe (RFC 8058), the public archive with its Atom feed, each reader's web copies
//! of their digests and private Atom feed, the operators' sign-in and status page (with the
//! editor's note and picks), and previews.
//!
//! Pages are maud markup in the emails' look (`templates/site.css` plus the email CSS for
//! the paper cards) and work without JavaScript. Handlers are thin: they parse the request,
//! call the store (on the blocking pool) and render. Every response gets the security
//! headers of [`headers`]; every error becomes a friendly page ([`errors`]).
//!
//! Secrets: readers' link tokens, one per purpose (`{id}.{generation}.{128-bit MAC}`,
//! derived from the server's key, see [`reader_link`] and `security::reader_tokens`), and
//! confirmation tokens (`{id}.{128 random bits}`, only a hash stored) are compared in
//! constant time and never logged: requests are logged by route template
//! (`/confirm/{token}`), subscribers by id.
//! Operators sign in with a name and password for a session cookie ([`operator`]); no
//! operator secret is ever in a URL.
mod archive;
mod confirm;
mod connections;
mod csrf;
mod errors;
pub(crate) mod feedback;
pub(crate) mod fields;
mod fresh_link;
mod headers;
mod home;
mod layout;
mod library;
mod limits;
mod mailer;
mod operator;
mod preferences;
mod preview;
mod preview_guard;
mod reader_feed;
mod reader_link;
mod server;
mod stall;
mod status;
mod subscribe;
mod taxonomy;
mod unsubscribe;
mod web_copy;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::delivery::{MessageSettings, Transport};
use crate::store::Store;

pub use crate::security::Secret;
pub use errors::WebError;
pub use mailer::Mailer;
pub use operator::hash_password;
pub use taxonomy::{Category, canonical_category, category_groups};

/// The `[web]` section of the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// Address `serve` listens on.
    pub bind: SocketAddr,
    /// How long a confirmation link works.
    pub confirm_ttl_hours: u32,
    /// Confirmation (or "already subscribed") mails per address per 24 h, whoever asks.
    pub max_confirmations_per_address_per_day: u32,
    /// Subscribe posts per client IP (IPv6: per /64) per hour.
    pub max_subscribes_per_ip_per_hour: u32,
    /// Largest request body accepted (forms are small).
    pub max_body_bytes: usize,
    /// Largest library file upload accepted on the preferences page (the whole
    /// `multipart/form-data` body).
    pub max_upload_bytes: usize,
    /// Take the client IP from the last `X-Forwarded-For` entry (only behind a proxy that
    /// sets it; otherwise anyone can pick their IP and dodge the per-IP limit).
    pub trust_forwarded_for: bool,
    /// A connection must send a complete request head within this long of opening or of
    /// its previous response (so idle keep-alive connections close after it too).
    pub header_timeout_secs: u64,
    /// A request body may pause at most this long between two chunks, and so may a client
    /// reading a response.
    pub body_timeout_secs: u64,
    /// A request must be answered within this long of its head (408 after).
    pub request_timeout_secs: u64,
    /// Connections open at once. At the cap, a newcomer takes the place of the connection
    /// that has waited longest without a request (idle, or sending its head); when every
    /// one is busy with a request, the newcomer is closed at once.
    pub max_connections: usize,
    /// Connections open at once from one client IP (IPv6: per /64); more are closed at
    /// once. 0 = no per-IP cap (behind a reverse proxy every connection comes from it).
    pub max_connections_per_ip: usize,
    /// Connections open at once from one network (IPv4 /24, IPv6 /64); at the cap a
    /// newcomer takes the place of one of its network's as at `max_connections`. 0 = no
    /// cap; unset = twice `max_connections_per_ip` (so none when that is 0).
    pub max_connections_per_network: Option<usize>,
    /// `/preview` requests per client IP per minute (429 after); 0 = no limit.
    pub max_previews_per_ip_per_minute: u32,
    /// Let a client connecting from exactly 127.0.0.1 or ::1 use `/status` without signing
    /// in (it gets a session of its own, with its own CSRF secret). Off by default; refused
    /// with `trust_forwarded_for` (behind a proxy every peer is the proxy). Judged by the
    /// peer address alone: a plain TCP forwarder on this host (`ssh -R`, stunnel, socat)
    /// makes every client local, so keep it off wherever one may run.
    pub status_loopback: bool,
    /// An operator's session ends after this many minutes without a request…
    pub operator_idle_minutes: u32,
    /// …and this many hours after signing in, however busy.
    pub operator_session_hours: u32,
    /// Failed sign-ins from one client IP (IPv6: one /64) within `login_window_minutes`;
    /// past it the sign-in form answers 429 until the window has moved on.
    pub max_login_failures_per_ip: u32,
    /// Failed sign-ins for one account name within `login_window_minutes`, from anywhere.
    pub max_login_failures_per_account: u32,
    /// The window the failed sign-ins are counted in.
    pub login_window_minutes: u32,
    /// Removed (issue 19): the static `/status` token. Set, it fails the load saying what
    /// replaced it.
    #[serde(rename = "status_token")]
    #[doc(hidden)]
    pub removed_status_token: Option<toml::Value>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            confirm_ttl_hours: 48,
            max_confirmations_per_address_per_day: 3,
            max_subscribes_per_ip_per_hour: 20,
            max_body_bytes: 16 * 1024,
            max_upload_bytes: 4 * 1024 * 1024,
            trust_forwarded_for: false,
            header_timeout_secs: 10,
            body_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 512,
            max_connections_per_ip: 64,
            max_connections_per_network: None,
            max_previews_per_ip_per_minute: 30,
            status_loopback: false,
            operator_idle_minutes: 30,
            operator_session_hours: 12,
            max_login_failures_per_ip: 20,
            max_login_failures_per_account: 10,
            login_window_minutes: 15,
            removed_status_token: None,
        }
    }
}

impl WebSettings {
    /// Range checks of the keys above: `Err((key, message))`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let secs = [
            ("header_timeout_secs", self.header_timeout_secs),
            ("body_timeout_secs", self.body_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
        ];
        for (key, value) in secs {
            if !(1..=3600).contains(&value) {
                return Err((
                    key,
                    format!("must be between 1 and 3600 seconds (it is {value})"),
                ));
            }
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            return Err((
                "max_connections",
                format!(
                    "must be between 1 and 1000000 (it is {})",
                    self.max_connections
                ),
            ));
        }
        self.validate_operators()?;
        if self.max_connections_per_ip > self.max_connections {
            return Err((
                "max_connections_per_ip",
                format!(
                    "must be at most max_connections ({}); 0 turns the per-IP cap off",
                    self.max_connections
                ),
            ));
        }
        if let Some(n) = self.max_connections_per_network
            && n > 0
            && (n > self.max_connections || n < self.max_connections_per_ip)
        {
            return Err((
                "max_connections_per_network",
                format!(
                    "must be between max_connections_per_ip ({}) and max_connections ({}) \
                     (it is {n}); 0 turns the per-network cap off",
                    self.max_connections_per_ip, self.max_connections
                ),
            ));
        }
        Ok(())
    }

    /// `max_connections_per_network` in force (0: none).
    pub fn per_network_cap(&self) -> usize {
        self.max_connections_per_network
            .unwrap_or(self.max_connections_per_ip.saturating_mul(2))
    }
}

impl WebSettings {
    /// The sign-in keys (issue 19): ranges, and the keys that no longer exist.
    fn validate_operators(&self) -> Result<(), (&'static str, String)> {
        if self.removed_status_token.is_some() {
            return Err(("status_token", STATUS_TOKEN_REPLACED.to_string()));
        }
        if self.status_loopback && self.trust_forwarded_for {
            return Err((
                "status_loopback",
                "cannot be true with trust_forwarded_for = true: behind a proxy every \
                 request comes from the proxy's address, so loopback access would open \
                 /status to everyone; operators sign in instead (`paperpost operators add \
                 NAME`)"
                    .into(),
            ));
        }
        let ranges = [
            (
                "operator_idle_minutes",
                self.operator_idle_minutes,
                1,
                24 * 60,
            ),
            (
                "operator_session_hours",
                self.operator_session_hours,
                1,
                24 * 30,
            ),
            (
                "max_login_failures_per_ip",
                self.max_login_failures_per_ip,
                1,
                10_000,
            ),
            (
                "max_login_failures_per_account",
                self.max_login_failures_per_account,
                1,
                10_000,
            ),
            (
                "login_window_minutes",
                self.login_window_minutes,
                1,
                24 * 60,
            ),
        ];
        for (key, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return Err((
                    key,
                    format!("must be between {lo} and {hi} (it is {value})"),
                ));
            }
        }
        if self.operator_idle_minutes > self.operator_session_hours * 60 {
            return Err((
                "operator_idle_minutes",
                format!(
                    "must be at most operator_session_hours × 60 ({}); a session ends at its \
                     absolute limit whatever its idle time",
                    self.operator_session_hours * 60
                ),
            ));
        }
        Ok(())
    }
}

/// What replaced `$PAPERPOST_STATUS_TOKEN` and `[web] status_token`.
const STATUS_TOKEN_REPLACED: &str = "is no longer read: /status needs an operator's sign-in \
     now (`paperpost operators add NAME`, then sign in at /login); no secret goes in a URL \
     any more. Remove it";

/// A warning for a process that still has `$PAPERPOST_STATUS_TOKEN` set (`serve` logs it,
/// `check-config` prints it), or `None`.
pub fn status_token_warning() -> Option<String> {
    std::env::var_os("PAPERPOST_STATUS_TOKEN")
        .map(|_| format!("$PAPERPOST_STATUS_TOKEN {STATUS_TOKEN_REPLACED}"))
}

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Everything a handler needs; shared behind an `Arc`.
pub struct AppState {
    pub store: Store,
    /// Public address of the site, ending in `/` (links in mails are absolute from it).
    pub base_url: url::Url,
    pub newsletter_name: String,
    pub mailer: Mailer,
    pub settings: WebSettings,
    /// Keys CSRF fields, the rate-limit hashes and readers' link tokens.
    pub secret: Secret,
    pub clock: Clock,
    /// How `/preview` plans its digest, as planning does (`[selection]`, the newsletter's
    /// sources and default topics).
    pub plan: crate::pipeline::PlanSettings,
    /// Every newsletter of the instance (this one too), for the preferences page's list of
    /// a reader's subscriptions and the links to sign up to the others; empty: just this one.
    pub newsletters: Arc<Vec<NewsletterLink>>,
    /// The newsletter's time zone (which week or day a preview belongs to).
    pub timezone: chrono_tz::Tz,
    /// Renders the operator's status page at a given time (`None`: no `/status` route).
    /// Given by whoever runs the scheduler, so the web layer needs no schedule knowledge.
    pub status: Option<StatusPage>,
    /// `[render] abstract = "full"`: readers' web copies render as their mails did.
    pub full_abstract: bool,
    /// `[render] accent`: the newsletter's colour for its name and links on its pages.
    pub accent: Option<crate::render::Accent>,
    /// `/preview`'s rate limit, page cache and scan cap.
    pub(crate) preview_guard: preview_guard::PreviewGuard,
}

/// Another newsletter of the instance as pages link to it.
#[derive(Debug, Clone)]
pub struct NewsletterLink {
    pub slug: String,
    pub name: String,
    /// Its public address (its sign-up page), ending in `/`.
    pub base_url: url::Url,
}

pub type StatusPage = Arc<dyn Fn(DateTime<Utc>) -> anyhow::Result<maud::Markup> + Send + Sync>;

impl AppState {
    /// State with the system clock, the server's key from `PAPERPOST_SECRET` or the store,
    /// and default preview settings (7 days, 20 papers, UTC); set the public fields to
    /// change them.
    pub fn new(
        store: Store,
        base_url: url::Url,
        newsletter_name: impl Into<String>,
        message: MessageSettings,
        transport: Transport,
        settings: WebSettings,
    ) -> anyhow::Result<AppState> {
        let secret = Secret::load(&store)?;
        let mut base_url = base_url;
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        Ok(AppState {
            preview_guard: preview_guard::PreviewGuard::new(
                settings.max_previews_per_ip_per_minute,
            ),
            store,
            base_url,
            newsletter_name: newsletter_name.into(),
            mailer: Mailer::new(message, transport),
            settings,
            secret,
            clock: Arc::new(Utc::now),
            plan: crate::pipeline::PlanSettings::for_selection(Default::default()),
            newsletters: Arc::new(Vec::new()),
            timezone: chrono_tz::UTC,
            status: None,
            full_abstract: false,
            accent: None,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Absolute URL of a site path (`confirm/1.abc`), for mails and feeds.
    pub fn url(&self, path: &str) -> String {
        self.base_url
            .join(path.trim_start_matches('/'))
            .map(String::from)
            .unwrap_or_else(|_| format!("{}{}", self.base_url, path.trim_start_matches('/')))
    }

    /// Root-relative path of a site path (`/archive`), for links and form actions in pages:
    /// same origin whatever host name the browser used.
    pub fn path(&self, path: &str) -> String {
        format!("{}{}", self.base_url.path(), path.trim_start_matches('/'))
    }

    /// How readers' digests are rendered (their web copies), as the mails are.
    pub(crate) fn renderer(&self) -> crate::pipeline::DigestRenderer {
        crate::pipeline::DigestRenderer {
            accent: self.accent.clone(),
            base_url: self.base_url.clone(),
            name: self.newsletter_name.clone(),
            full_abstract: self.full_abstract,
            key: self.secret.clone(),
        }
    }

    /// How a digest is framed on a public page (no unsubscribe footer): `archive` is the
    /// archive's URL and `why` the line that says where the digest comes from.
    pub(crate) fn page_context<'a>(
        &'a self,
        archive: &'a str,
        why: &'a str,
    ) -> crate::render::EmailContext<'a> {
        crate::render::EmailContext {
            newsletter_name: &self.newsletter_name,
            base_url: &self.base_url,
            unsubscribe_url: "",
            preferences_url: None,
            archive_url: Some(archive),
            feedback_url: None,
            why_line: why,
            full_abstract: false,
            web_copy_url: None,
            feed_url: None,
        }
    }

    /// Runs a store call on the blocking pool (SQLite calls block).
    pub(crate) async fn db<T, E, F>(&self, f: F) -> Result<T, WebError>
    where
        F: FnOnce(&Store) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<WebError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| WebError::Unexpected(e.into()))?
            .map_err(Into::into)
    }
}

pub(crate) type Shared = Arc<AppState>;

/// Every route, with the body limit and timeouts, the error pages and the security headers.
pub fn router(state: AppState) -> Router {
    router_for(vec![state])
}

/// The routes of several newsletters: the first's at `/` (with the operators' pages and
/// `/healthz`), and with more than one, each newsletter's reader pages (sign-up, archive,
/// feeds, preferences, links from its mails) under `/n/{slug}/`, over its own state.
pub fn router_for(states: Vec<AppState>) -> Router {
    let several = states.len() > 1;
    let mut states = states.into_iter().map(Arc::new);
    let state: Shared = states.next().expect("a newsletter to serve");
    let settings = &state.settings;
    let request_timeout = tower_http::timeout::TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(settings.request_timeout_secs),
    );
    let body_timeout = tower_http::timeout::RequestBodyTimeoutLayer::new(Duration::from_secs(
        settings.body_timeout_secs,
    ));
    let mut app = reader_routes("", settings)
        .merge(operator_routes(""))
        .route("/healthz", get(healthz))
        .with_state(state.clone());
    if several {
        let first = state.clone();
        for s in std::iter::once(first).chain(states) {
            let at = format!("/n/{}", s.store.newsletter());
            let routes = reader_routes(&at, &s.settings).merge(operator_routes(&at));
            app = app.merge(routes.with_state(s));
        }
    }
    app.fallback(|| async { WebError::NotFound })
        .method_not_allowed_fallback(|| async { WebError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(body_timeout)
        .layer(request_timeout)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            errors::error_pages,
        ))
        .layer(axum::middleware::from_fn(headers::security_headers))
}

/// The operators' pages of one newsletter: sign-in (the session is the instance's: one
/// sign-in opens every newsletter's status page) and its status page with its editor's
/// forms and its guard's resume button.
fn operator_routes(prefix: &str) -> Router<Shared> {
    let at = |path: &str| format!("{prefix}{path}");
    Router::new()
        .route(&at("/login"), get(operator::show).post(operator::sign_in))
        .route(&at("/logout"), post(operator::sign_out))
        .route(&at("/status"), get(status::page))
        .route(&at("/status/editorial"), post(status::editorial))
        .route(&at("/status/resume"), post(status::resume))
}

/// The pages of one newsletter's readers.
fn reader_routes(prefix: &str, settings: &WebSettings) -> Router<Shared> {
    let at = |path: &str| format!("{prefix}{path}");
    let mut routes = Router::new().route(&at("/"), get(home::home));
    if !prefix.is_empty() {
        routes = routes.route(prefix, get(home::home));
    }
    routes
        .route(&at("/subscribe"), post(subscribe::subscribe))
        .route(
            &at("/confirm/{token}"),
            get(confirm::show).post(confirm::confirm),
        )
        .route(
            &at("/preferences/{token}"),
            get(preferences::show).post(preferences::update),
        )
        .route(&at("/preferences/{token}/preview"), get(preview::reader))
        .route(
            &at("/preferences/{token}/library"),
            post(library::upload).layer(DefaultBodyLimit::max(settings.max_upload_bytes)),
        )
        .route(
            &at("/unsubscribe/{token}"),
            get(unsubscribe::show).post(unsubscribe::one_click),
        )
        .route(
            &at("/feedback/{token}/{paper}"),
            get(feedback::show).post(feedback::record),
        )
        .route(&at("/d/{token}/{edition}"), get(web_copy::show))
        .route(&at("/feed/{file}"), get(reader_feed::feed))
        .route(&at("/archive"), get(archive::list))
        .route(&at("/archive.xml"), get(archive::feed))
        .route(&at("/archive/{edition}"), get(archive::edition))
        .route(&at("/preview"), get(preview::preview))
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<Shared>,
) -> Result<&'static str, WebError> {
    state
        .db(|s| s.schema_version())
        .await
        .map_err(|_| WebError::Unavailable)?;
    Ok("ok\n")
}

/// Serves until `shutdown` completes, then lets requests in progress (10 s at most) and
/// mails still in flight (30 s at most) finish.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_all(listener, vec![state], shutdown).await
}

/// [`run`] for several newsletters ([`router_for`]).
pub async fn run_all(
    listener: tokio::net::TcpListener,
    states: Vec<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = states.first().expect("a newsletter to serve");
    let mailers: Vec<Mailer> = states.iter().map(|s| s.mailer.clone()).collect();
    let settings = state.settings.clone();
    let addr = listener.local_addr()?;
    tracing::info!(%addr, base_url = %state.base_url, "serving the web pages");
    // Previews read by meaning: the model is loaded now, in the background, once for the
    // process, so the first preview does not pay for it.
    let selection = state.plan.selection.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = selection.embedder() {
            tracing::error!(error = %e, "the embedding model did not load; previews will fail");
        }
    });
    server::serve(
        listener,
        router_for(states),
        &settings,
        shutdown,
        Duration::from_secs(10),
    )
    .await;
    let idle = async {
        for m in &mailers {
            m.idle().await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), idle)
        .await
        .is_err()
    {
        tracing::warn!("stopped with confirmation mails still being sent");
    }
    tracing::info!("web server stopped");
    Ok(())
}

#[cfg(test)]
mod store_failure_tests {
    use super::*;
    use crate::store::StoreError;

    #[test]
    fn a_busy_store_answers_503_and_other_store_failures_500() {
        let busy = StoreError::Busy {
            op: "add_subscriber",
            cause: "database is locked".into(),
        };
        let full = StoreError::Full {
            op: "add_subscriber",
            cause: "database or disk is full".into(),
        };
        use axum::response::IntoResponse;
        let busy = WebError::from(busy).into_response();
        assert_eq!(busy.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        let full = WebError::from(full).into_response();
        assert_eq!(full.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    }
}
