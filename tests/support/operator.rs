//! An operator's browser against the in-process app (`web_app`) or a `paperpost serve`: it
//! keeps the cookies the server sets (by hand, so `Secure` and `__Host-` cookies of an https site work over the
//! test's plain HTTP), sends them back, and sends this site's `Origin` with its POSTs, as a
//! browser does for a form of the page it shows.
use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::web_app::{FORM, TestApp, form};

pub struct OperatorBrowser {
    /// The server's `http://127.0.0.1:PORT/`.
    pub base: String,
    pub http: reqwest::Client,
    /// What it sends as `Origin` (the site's own, unless a test says otherwise).
    pub origin: String,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl OperatorBrowser {
    /// A browser on 127.0.0.1 for the test app; its POSTs say `Origin: http://127.0.0.1:PORT`
    /// (see [`OperatorBrowser::with_origin`] for a site on another address).
    pub fn new(app: &TestApp) -> OperatorBrowser {
        OperatorBrowser::at(&app.base, [127, 0, 0, 1])
    }

    /// The same from another loopback address (another client IP to the server).
    pub fn from_ip(app: &TestApp, ip: [u8; 4]) -> OperatorBrowser {
        OperatorBrowser::at(&app.base, ip)
    }

    /// A browser on `ip` for the server at `base` (`http://127.0.0.1:PORT/`).
    pub fn at(base: &str, ip: [u8; 4]) -> OperatorBrowser {
        OperatorBrowser {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .local_address(std::net::IpAddr::from(ip))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            origin: base.trim_end_matches('/').to_string(),
            cookies: Mutex::default(),
        }
    }

    pub fn with_origin(mut self, origin: &str) -> Self {
        self.origin = origin.to_string();
        self
    }

    /// The cookie `name` the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_string(), value.to_string());
    }

    pub fn forget_cookies(&self) {
        self.cookies.lock().unwrap().clear();
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    fn with_cookies(&self, r: RequestBuilder) -> RequestBuilder {
        let jar = self.cookies.lock().unwrap();
        if jar.is_empty() {
            return r;
        }
        let line: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        r.header(COOKIE, line.join("; "))
    }

    /// Keeps what `Set-Cookie` says (`Max-Age=0` deletes).
    fn keep(&self, r: &Response) {
        let mut jar = self.cookies.lock().unwrap();
        for v in r.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        let r = self
            .with_cookies(self.http.get(self.url(path)))
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }

    /// A form POST with this browser's Origin.
    pub async fn post(&self, path: &str, body: impl Into<String>) -> Response {
        let origin = self.origin.clone();
        self.post_with(path, body, &[("origin", origin.as_str())])
            .await
    }

    /// A form POST with exactly `headers` besides the cookies (no Origin unless given).
    pub async fn post_with(
        &self,
        path: &str,
        body: impl Into<String>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut r = self
            .with_cookies(self.http.post(self.url(path)))
            .header(CONTENT_TYPE, FORM)
            .body(body.into());
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let r = r.send().await.unwrap();
        self.keep(&r);
        r
    }

    /// Opens the sign-in page and sends its form; the answer (303 to /status when it worked).
    pub async fn sign_in(&self, name: &str, password: &str) -> Response {
        let page = self.get("login").await.text().await.unwrap();
        let csrf = csrf_in(&page, "login-form");
        self.post(
            "login",
            form(&[("csrf", &csrf), ("name", name), ("password", password)]),
        )
        .await
    }

    /// Signs in and checks it worked.
    pub async fn signed_in(self, name: &str, password: &str) -> Self {
        let r = self.sign_in(name, password).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "signing in as {name}");
        assert_eq!(r.headers()[LOCATION], "/status");
        self
    }

    /// The status page's CSRF field (the editor's forms carry it).
    pub async fn status_csrf(&self) -> String {
        let r = self.get("status").await;
        assert_eq!(r.status(), StatusCode::OK, "the status page");
        csrf_in(&r.text().await.unwrap(), "editorial")
    }
}

/// The `csrf` field of the form (or section) with `id` on `page`.
pub fn csrf_in(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("#{id} on the page:\n{page}"));
    let rest = &page[at..];
    let start = rest.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let end = start + rest[start..].find('"').unwrap();
    rest[start..end].to_string()
}

/// The app's store with operator `name` / `password` in it, as `paperpost operators add`
/// leaves it.
pub fn add_operator(app: &TestApp, name: &str, password: &str) {
    let name = paperpost::domain::OperatorName::parse(name).unwrap();
    let password = paperpost::domain::OperatorPassword::parse(password.to_string()).unwrap();
    let hash = paperpost::web::hash_password(&password).unwrap();
    assert!(
        app.store
            .add_operator(&name, &hash, super::web_app::start_time())
            .unwrap()
    );
}

/// Whether a response sends the browser to the sign-in page.
pub fn is_sent_to_sign_in(r: &Response) -> bool {
    r.status() == StatusCode::SEE_OTHER && r.headers().get(LOCATION).is_some_and(|l| l == "/login")
}

/// `Set-Cookie` values of a response.
pub fn set_cookies(r: &Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The note stored for `edition` (what a forged post would have changed).
pub fn note_of(app: &TestApp, edition: &str) -> Option<String> {
    app.store.editorial(edition).unwrap().note
}
