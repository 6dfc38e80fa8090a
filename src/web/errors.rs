//! One error type for every handler, and the middleware that turns any error response into
//! a friendly page: 4xx say what the caller can do; 500 says sorry and logs the cause, never
//! showing it.
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::{Shared, layout};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("no such page")]
    NotFound,
    /// A token in the URL that matches nothing.
    #[error("invalid link")]
    InvalidLink,
    /// A confirmation link past its expiry.
    #[error("expired link")]
    Expired,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    BadRequest(String),
    /// The request was read but its content is wrong (422); the message says what.
    #[error("{0}")]
    Invalid(String),
    #[error("CSRF check failed")]
    Csrf,
    /// An operator's POST without a live session.
    #[error("not signed in")]
    SignInFirst,
    /// An operator's POST whose Origin (or Referer) is not this site.
    #[error("cross-origin post")]
    CrossOrigin,
    /// Too many failed sign-ins from the client or for the account, within the window of
    /// this many minutes.
    #[error("too many failed sign-ins")]
    SignInThrottled(u32),
    /// The request does not fit the subscriber's state ("confirm first").
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    TooLarge,
    #[error("unsupported content type")]
    UnsupportedMediaType,
    #[error("service unavailable")]
    Unavailable,
    /// Over a per-client rate limit (previews).
    #[error("too many requests")]
    TooManyRequests,
    /// A store operation failed: a database busy past its timeout is a moment's overload,
    /// not a bug, so 503 (retry); anything else 500.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What the error page says; attached to the response for [`error_pages`] to render.
#[derive(Debug, Clone)]
pub(crate) struct ErrorPage {
    pub title: String,
    pub message: String,
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound | WebError::InvalidLink => StatusCode::NOT_FOUND,
            WebError::Expired => StatusCode::GONE,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Csrf | WebError::SignInFirst | WebError::CrossOrigin => StatusCode::FORBIDDEN,
            WebError::SignInThrottled(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::Store(e) if e.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Store(_) | WebError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> ErrorPage {
        let (title, message) = match self {
            WebError::InvalidLink => (
                "This link does not work",
                "The link may be incomplete (mail programs sometimes cut long links) or no \
                 longer valid: unsubscribing retires the links of earlier mails, and a newer \
                 mail's link replaces an older one. Copy the whole link from the latest mail, \
                 or subscribe again."
                    .to_string(),
            ),
            WebError::Expired => (
                "This confirmation link has expired",
                "Confirmation links work for a limited time. Subscribe again and we'll send \
                 you a fresh one."
                    .to_string(),
            ),
            WebError::BadRequest(m) => ("That request could not be read", m.clone()),
            WebError::Invalid(m) => ("Please check your input", m.clone()),
            WebError::Csrf => (
                "This form is out of date",
                "The form was not sent from this site, or it belongs to another link. Open \
                 the page again from the link in your mail and resend the form."
                    .to_string(),
            ),
            WebError::Conflict(m) => ("That can't be done right now", m.clone()),
            WebError::SignInFirst => (
                "Sign in first",
                "This is for the newsletter's operators: sign in (the address is /login) and \
                 send the form again."
                    .to_string(),
            ),
            WebError::CrossOrigin => (
                "This form was not sent from this site",
                "Open the page on this site and send the form from there.".to_string(),
            ),
            WebError::SignInThrottled(minutes) => (
                "Too many failed sign-ins",
                format!(
                    "Sign-ins from here, or for this name, failed too often. Wait {minutes} \
                     minutes and try again."
                ),
            ),
            other => return generic(other.status()),
        };
        ErrorPage {
            title: title.into(),
            message,
        }
    }
}

/// The page of a status when nothing more specific is known.
fn generic(status: StatusCode) -> ErrorPage {
    let (title, message) = match status {
        StatusCode::NOT_FOUND => (
            "Page not found",
            "There is nothing at this address. The archive and the sign-up form are linked above.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "That does not work here",
            "This address does not accept that kind of request. Go back and use the form or link on the page.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "That was too much text",
            "The form sent more than this site accepts. Shorten your topics and try again.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "That form could not be read",
            "Send the form from this site's page, as an ordinary web form.",
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "Too many requests",
            "This address asked for more pages than the site serves in a minute. Please wait a minute and try again.",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "That took too long",
            "The request did not arrive in time. Please send it again.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "Temporarily unavailable",
            "The site cannot reach its database right now. Please try again in a minute.",
        ),
        s if s.is_server_error() => (
            "Something went wrong on our side",
            "Sorry: the request failed and nothing was changed. Please try again in a minute.",
        ),
        _ => (
            "That request could not be read",
            "Please go back, check what you entered and send it again.",
        ),
    };
    ErrorPage {
        title: title.into(),
        message: message.into(),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            WebError::Unexpected(e) => tracing::error!(error = %format!("{e:#}"), "request failed"),
            WebError::Store(e) if e.is_transient() => tracing::warn!("{e}"),
            WebError::Store(e) => tracing::error!(error = %e, "request failed"),
            _ => {}
        }
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self.page());
        response
    }
}

/// Renders error pages: a [`WebError`]'s own, and a generic one for any other error
/// response that is not already HTML (axum's rejections, 405s, 413s).
pub(crate) async fn error_pages(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let page = match response.extensions().get::<ErrorPage>() {
        Some(page) => page.clone(),
        None if status.is_client_error() || status.is_server_error() => {
            let is_html = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            if is_html {
                return response;
            }
            generic(status)
        }
        None => return response,
    };
    let (mut parts, _) = response.into_parts();
    let body = layout::page(
        &state,
        &page.title,
        html! {
            section.card.message {
                h1 { (page.title) }
                p { (page.message) }
                p.actions {
                    a.button href=(state.path("")) { "Go to the home page" }
                }
            }
        },
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, axum::body::Body::from(body.into_string()))
}
