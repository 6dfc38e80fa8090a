//! `GET /login`, `POST /login` and `POST /logout`.
//!
//! The sign-in form is protected before any session exists by a pre-session cookie (random,
//! `HttpOnly; SameSite=Strict`) whose HMAC under the server secret is the form's CSRF field,
//! and by the Origin check of every operator POST. Each attempt is first counted against the
//! per-IP and per-account limits (in the store, so every instance counts alike): past
//! either, 429 and a warning in the log naming the IP and the account (never the password),
//! before any password is looked at. Then exactly one Argon2 hash runs, whether or not the
//! name exists. A success opens a new session (a session the browser held is deleted: the
//! id is rotated at sign-in) and forgets the account's failures.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::password;
use super::session::{
    CSRF_FIELD, LOGIN_COOKIE, OperatorForm, SESSION_COOKIE, cookie, cookie_name, hash_id,
    is_loopback, open, peer, private_page, random_secret, set_cookie,
};
use crate::domain::{LoginVerdict, OperatorName};
use crate::security::constant_time_eq;
use crate::web::errors::WebError;
use crate::web::fields::FormData;
use crate::web::limits::{ClientIp, account_key, ip_key, login_limits};
use crate::web::{AppState, Shared, layout};

/// How long a sign-in form stays usable.
const FORM_SECONDS: i64 = 3600;

/// The socket peer (`None` for in-process callers without one).
pub(crate) struct Peer(Option<SocketAddr>);

impl FromRequestParts<Shared> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &Shared) -> Result<Self, Self::Rejection> {
        Ok(Peer(peer(parts)))
    }
}

pub(crate) async fn show(State(state): State<Shared>, headers: HeaderMap) -> Response {
    form_answer(&state, &headers, StatusCode::OK, None, "")
}

pub(crate) async fn sign_in(
    State(state): State<Shared>,
    Peer(peer): Peer,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, WebError> {
    if !super::origin::same_origin(&headers, &state.base_url, peer.is_some_and(is_loopback)) {
        tracing::warn!(ip = %shown(ip), "a sign-in came from another origin (or said none): refused");
        return Err(WebError::CrossOrigin);
    }
    let typed = form.get("name").unwrap_or_default();
    // What the log may show of a typed name: 64 characters, escaped.
    let account: String = typed.trim().chars().take(64).collect();
    let pre = cookie(&headers, &cookie_name(&state, LOGIN_COOKIE)).filter(|v| v.len() == 64);
    let presented = form.get(CSRF_FIELD).unwrap_or_default();
    // The form again, saying what went wrong (403: no session was opened).
    let again = |problem| {
        Ok(form_answer(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            Some(problem),
            &account,
        ))
    };
    if !pre.is_some_and(|pre| {
        constant_time_eq(form_field(&state, pre).as_bytes(), presented.as_bytes())
    }) {
        return again("The sign-in form had expired or was not this site's. Please sign in again.");
    }

    // Counted before the password is looked at, whether or not the name exists.
    let (ip_key, account_key) = (ip_key(&state.secret, ip), account_key(&state.secret, typed));
    let (limits, now) = (login_limits(&state.settings), state.now());
    let ak = account_key.clone();
    let verdict = state
        .db(move |s| s.record_login_attempt(&ip_key, &ak, now, &limits))
        .await?;
    let attempt = match verdict {
        LoginVerdict::Allowed(id) => id,
        refused => {
            let by = if refused == LoginVerdict::IpLimited {
                "client IP"
            } else {
                "account"
            };
            tracing::warn!(
                ip = %shown(ip),
                account = ?account,
                limit = by,
                "sign-in throttled: too many failed sign-ins"
            );
            return Err(WebError::SignInThrottled(
                state.settings.login_window_minutes,
            ));
        }
    };

    let name = OperatorName::parse(typed).ok();
    let stored = match name.clone() {
        Some(n) => state.db(move |s| s.operator_password_hash(&n)).await?,
        None => None,
    };
    let password = form.get("password").unwrap_or_default().to_string();
    let matches = password::check(stored, password).await?;
    let Some(name) = name.filter(|_| matches) else {
        tracing::info!(ip = %shown(ip), account = ?account, "sign-in failed: wrong name or password");
        return again("That name and password do not match an operator's.");
    };

    let replaces = cookie(&headers, &cookie_name(&state, SESSION_COOKIE)).map(hash_id);
    let (_, session_cookie) = open(&state, Some(name.clone()), replaces).await?;
    state
        .db(move |s| s.login_succeeded(attempt, &account_key))
        .await?;
    tracing::info!(operator = %name, ip = %shown(ip), "operator signed in");
    let mut response = Redirect::to(&state.path("status")).into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, session_cookie);
    h.append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", 0));
    Ok(private_page(response))
}

pub(crate) async fn sign_out(
    State(state): State<Shared>,
    OperatorForm(operator, _): OperatorForm,
) -> Result<Response, WebError> {
    let key = operator.id_hash().to_string();
    state.db(move |s| s.delete_operator_session(&key)).await?;
    tracing::info!(operator = operator.who(), "operator signed out");
    let mut response = Redirect::to(&state.path("login")).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(private_page(response))
}

/// The sign-in page with `status`, keeping the browser's pre-session cookie or setting a
/// new one.
fn form_answer(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    problem: Option<&str>,
    name: &str,
) -> Response {
    let kept = cookie(headers, &cookie_name(state, LOGIN_COOKIE))
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let pre = kept.map_or_else(random_secret, str::to_string);
    let page = login_page(state, &form_field(state, &pre), problem, name);
    let mut response = private_page((status, page).into_response());
    if kept.is_none() {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(state, LOGIN_COOKIE, &pre, FORM_SECONDS),
        );
    }
    response
}

/// The sign-in form's CSRF field for a pre-session cookie.
fn form_field(state: &AppState, pre: &str) -> String {
    state.secret.mac_hex(&[b"login", pre.as_bytes()])
}

fn shown(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

fn login_page(state: &AppState, csrf: &str, problem: Option<&str>, name: &str) -> Markup {
    layout::private_page(
        state,
        "Operator sign-in",
        html! {
            section.card.message {
                h1 { "Operator sign-in" }
                p.muted {
                    "For the people who run " (state.newsletter_name) ". Readers need no account: "
                    "the links in their mails are theirs."
                }
                @if let Some(problem) = problem {
                    div.alert.alert-error #login-error role="alert" { (problem) }
                }
                form #login-form method="post" action=(state.path("login")) {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    div.field {
                        label for="login-name" { "Name" }
                        input #login-name type="text" name="name" autocomplete="username"
                            required maxlength="64" value=(name);
                    }
                    div.field {
                        label for="login-password" { "Password" }
                        input #login-password type="password" name="password"
                            autocomplete="current-password" required;
                    }
                    button #login-submit .button type="submit" { "Sign in" }
                }
            }
        },
    )
}
