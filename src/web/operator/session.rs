//! Operator sessions: the cookie, and the extractors every operator route takes.
//!
//! A session id is 256 random bits in a cookie (`HttpOnly; SameSite=Strict; Path=/;
//! Max-Age`, plus `Secure` and the `__Host-` prefix when `base_url` is https); the store
//! keeps only its SHA-256, with the session's own CSRF secret and its idle and absolute
//! ends. [`Operator`] finds the session of a GET (no session: 303 to `/login`);
//! [`OperatorForm`] does the same for a POST (403 without one) and then checks the Origin
//! and the form's CSRF field, so no operator POST can skip either check.
//!
//! `[web] status_loopback` is honoured here, by the peer address alone: a client on
//! exactly 127.0.0.1 or ::1, with no proxy configured and no proxy header in its request
//! (headers can only take loopback access away, never grant it), gets a session of its own
//! on its first GET, with a random CSRF secret like any other, and the POSTs of that page
//! need that session's cookie and field.
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use maud::{Markup, html};
use sha2::{Digest as _, Sha256};

use super::origin::same_origin;
use crate::domain::{NewSession, OperatorName, OperatorSession, SessionKind};
use crate::security::constant_time_eq;
use crate::web::errors::WebError;
use crate::web::fields::FormData;
use crate::web::{AppState, Shared};

/// Cookie names (with `__Host-` in front on an https site).
pub(super) const SESSION_COOKIE: &str = "paperpost_session";
pub(super) const LOGIN_COOKIE: &str = "paperpost_login";

/// The hidden field of every operator form.
pub(crate) const CSRF_FIELD: &str = "csrf";

/// Headers a proxy adds. A request carrying any of them came through one, so it never gets
/// loopback access, whatever its peer address.
const PROXY_HEADERS: [&str; 11] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "via",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
];

/// A signed-in operator (or a loopback client under `status_loopback`).
pub(crate) struct Operator {
    pub(crate) session: OperatorSession,
    id_hash: String,
    /// The cookie of a session this request opened, to be sent with the answer.
    set_cookie: Option<HeaderValue>,
}

impl Operator {
    /// The operator's name, or what a loopback session is.
    pub(crate) fn who(&self) -> &str {
        self.session
            .operator
            .as_deref()
            .unwrap_or("loopback access")
    }

    /// The hidden CSRF field of this session's forms.
    pub(crate) fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name=(CSRF_FIELD) value=(self.session.csrf); }
    }

    pub(super) fn id_hash(&self) -> &str {
        &self.id_hash
    }

    /// An operator page: the answer with the session cookie when this request opened one,
    /// and the headers of private pages.
    pub(crate) fn respond(self, answer: impl IntoResponse) -> Response {
        let mut response = private_page(answer.into_response());
        if let Some(cookie) = self.set_cookie {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }
}

/// Headers of a page only operators see: not indexed, and a referrer policy under which the
/// browser sends this site's origin with the page's own forms (see `origin.rs`).
pub(crate) fn private_page(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

impl FromRequestParts<Shared> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        let loopback = loopback_allowed(state, peer(parts), &parts.headers);
        if let Some(found) = current(state, &parts.headers, loopback)
            .await
            .map_err(IntoResponse::into_response)?
        {
            return Ok(found);
        }
        if loopback {
            let (operator, _) = open(state, None, None)
                .await
                .map_err(IntoResponse::into_response)?;
            tracing::info!("opened a loopback session (status_loopback)");
            return Ok(operator);
        }
        Err(Redirect::to(&state.path("login")).into_response())
    }
}

/// An operator's POST: a live session, a same-origin request and the session's CSRF field,
/// then the form.
pub(crate) struct OperatorForm(pub Operator, pub FormData);

impl FromRequest<Shared> for OperatorForm {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &Shared) -> Result<Self, WebError> {
        let (parts, body) = request.into_parts();
        let peer = peer(&parts);
        let loopback = loopback_allowed(state, peer, &parts.headers);
        let Some(operator) = current(state, &parts.headers, loopback).await? else {
            return Err(WebError::SignInFirst);
        };
        if !same_origin(
            &parts.headers,
            &state.base_url,
            peer.is_some_and(is_loopback),
        ) {
            tracing::warn!(
                operator = operator.who(),
                "an operator form came from another origin (or said none): refused"
            );
            return Err(WebError::CrossOrigin);
        }
        let form = FormData::from_request(Request::from_parts(parts, body), state).await?;
        let presented = form.get(CSRF_FIELD).unwrap_or_default();
        if !constant_time_eq(presented.as_bytes(), operator.session.csrf.as_bytes()) {
            return Err(WebError::Csrf);
        }
        Ok(OperatorForm(operator, form))
    }
}

pub(super) fn peer(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Exactly 127.0.0.1 or ::1 (an IPv4-mapped ::ffff:127.0.0.1 too); not the rest of
/// 127.0.0.0/8.
pub(super) fn is_loopback(peer: SocketAddr) -> bool {
    let ip = peer.ip().to_canonical();
    ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from(Ipv6Addr::LOCALHOST)
}

/// Whether this request gets loopback access: `status_loopback` on, no proxy configured, a
/// loopback peer, no proxy header.
fn loopback_allowed(state: &AppState, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let s = &state.settings;
    s.status_loopback
        && !s.trust_forwarded_for
        && peer.is_some_and(is_loopback)
        && !PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
}

/// The request's live session: a password session, or a loopback one when `loopback`.
pub(super) async fn current(
    state: &Shared,
    headers: &HeaderMap,
    loopback: bool,
) -> Result<Option<Operator>, WebError> {
    let name = cookie_name(state, SESSION_COOKIE);
    let Some(id) = cookie(headers, &name).filter(|id| id.len() <= 128) else {
        return Ok(None);
    };
    let id_hash = hash_id(id);
    let (now, idle) = (state.now(), idle_limit(state));
    let key = id_hash.clone();
    let found = state
        .db(move |s| s.operator_session(&key, now, idle))
        .await?;
    Ok(found
        .filter(|s| s.kind == SessionKind::Password || loopback)
        .map(|session| Operator {
            session,
            id_hash,
            set_cookie: None,
        }))
}

/// Opens a session for `operator` (`None`: a loopback session), deleting the one whose id
/// hashes to `replaces`; the operator and the session cookie to send.
pub(super) async fn open(
    state: &Shared,
    operator: Option<OperatorName>,
    replaces: Option<String>,
) -> Result<(Operator, HeaderValue), WebError> {
    let (id, csrf) = (random_secret(), random_secret());
    let id_hash = hash_id(&id);
    let now = state.now();
    let lifetime = Duration::hours(state.settings.operator_session_hours.into());
    let idle = idle_limit(state);
    let kind = match operator {
        Some(_) => SessionKind::Password,
        None => SessionKind::Loopback,
    };
    let session = OperatorSession {
        operator: operator.as_ref().map(|n| n.to_string()),
        kind,
        csrf: csrf.clone(),
        created_at: now,
        expires_at: now + lifetime,
    };
    let key = id_hash.clone();
    state
        .db(move |s| {
            s.create_operator_session(
                &NewSession {
                    id_hash: &key,
                    operator: operator.as_ref(),
                    kind,
                    csrf: &csrf,
                    now,
                    expires_at: now + lifetime,
                    replaces: replaces.as_deref(),
                },
                idle,
            )
        })
        .await?;
    let cookie = set_cookie(state, SESSION_COOKIE, &id, lifetime.num_seconds());
    Ok((
        Operator {
            session,
            id_hash,
            set_cookie: Some(cookie.clone()),
        },
        cookie,
    ))
}

fn idle_limit(state: &AppState) -> Duration {
    Duration::minutes(state.settings.operator_idle_minutes.into())
}

/// The hash the store keeps of a session id.
pub(super) fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// 256 random bits as 64 hex characters.
pub(super) fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn https(state: &AppState) -> bool {
    state.base_url.scheme() == "https"
}

/// `base` with the `__Host-` prefix on an https site: the browser then keeps the cookie only
/// if it is `Secure`, for this host alone (no `Domain`) and `Path=/`.
pub(super) fn cookie_name(state: &AppState, base: &str) -> String {
    if https(state) {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// `Set-Cookie` for `base` (a name above) with `value` (hex) for `max_age` seconds; 0
/// deletes it.
pub(super) fn set_cookie(state: &AppState, base: &str, value: &str, max_age: i64) -> HeaderValue {
    let mut c = format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict",
        cookie_name(state, base)
    );
    if https(state) {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie names and hex values are header-safe")
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(super) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name_from_every_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; paperpost_session=abc".parse().unwrap(),
        );
        h.append(
            header::COOKIE,
            "__Host-paperpost_session=def".parse().unwrap(),
        );
        assert_eq!(cookie(&h, "paperpost_session"), Some("abc"));
        assert_eq!(cookie(&h, "__Host-paperpost_session"), Some("def"));
        assert_eq!(cookie(&h, "paperpost_sess"), None);
        assert_eq!(cookie(&HeaderMap::new(), "a"), None);
    }

    #[test]
    fn only_exactly_127_0_0_1_and_ipv6_loopback_are_loopback() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(is_loopback(at("127.0.0.1:1")));
        assert!(is_loopback(at("[::1]:1")));
        assert!(is_loopback(at("[::ffff:127.0.0.1]:1")));
        assert!(!is_loopback(at("127.0.0.2:1")));
        assert!(!is_loopback(at("10.0.0.1:1")));
    }

    #[test]
    fn session_secrets_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash_id(&a).len(), 64);
        assert_ne!(hash_id(&a), a);
    }
}
