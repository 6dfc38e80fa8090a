//! Operators: the people who sign in to the web pages an operator uses (`/status` and what
//! grows on it). An account is a name and a password (only a memory-hard hash of it is
//! stored); a signed-in browser holds a session; failed sign-ins are counted per client IP
//! and per account name to throttle guessing.
use chrono::{DateTime, Duration, Utc};

/// Longest operator name (characters).
pub const OPERATOR_NAME_MAX: usize = 64;
/// Shortest password (characters): long enough that the throttled guessing of the sign-in
/// form and an offline attack on a stolen hash both stay hopeless.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Longest password (bytes): far beyond any passphrase, small enough to bound the work.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// An operator's name: 1–64 of `a-z 0-9 . _ - @`, stored and compared in lower case (so
/// `Ada` and `ada` are one account).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperatorName(String);

impl OperatorName {
    pub fn parse(raw: &str) -> Result<OperatorName, String> {
        let name = raw.trim().to_lowercase();
        if name.is_empty() {
            return Err("an operator name must not be empty".into());
        }
        if name.chars().count() > OPERATOR_NAME_MAX {
            return Err(format!(
                "an operator name is at most {OPERATOR_NAME_MAX} characters"
            ));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
        {
            return Err(format!(
                "an operator name is letters a-z, digits and . _ - @ only (found {c:?})"
            ));
        }
        Ok(OperatorName(name))
    }
}

impl AsRef<str> for OperatorName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OperatorName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password as typed: at least 12 characters, at most 1024 bytes, no control
/// characters (a stray newline or escape from a script is a mistake, not a password).
/// Never printed: its `Debug` hides it.
#[derive(Clone)]
pub struct OperatorPassword(String);

impl OperatorPassword {
    pub fn parse(raw: String) -> Result<OperatorPassword, String> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(format!(
                "the password is {chars} characters long; it must have at least {PASSWORD_MIN_CHARS}"
            ));
        }
        if raw.len() > PASSWORD_MAX_BYTES {
            return Err(format!(
                "the password is {} bytes long; at most {PASSWORD_MAX_BYTES} are accepted",
                raw.len()
            ));
        }
        if let Some(at) = raw.chars().position(char::is_control) {
            return Err(format!(
                "the password must not contain control characters (character {} is one)",
                at + 1
            ));
        }
        Ok(OperatorPassword(raw))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OperatorPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorPassword(…)")
    }
}

/// An operator account as `operators list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// When the password was last set (`add` or `passwd`).
    pub password_set_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Sessions not yet expired (idle or absolute).
    pub open_sessions: i64,
}

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A name and password on the sign-in form.
    Password,
    /// Made for a client on 127.0.0.1 or ::1 under `[web] status_loopback`; honoured only
    /// for such a client.
    Loopback,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Password => "password",
            SessionKind::Loopback => "loopback",
        }
    }

    pub fn parse(s: &str) -> Option<SessionKind> {
        match s {
            "password" => Some(SessionKind::Password),
            "loopback" => Some(SessionKind::Loopback),
            _ => None,
        }
    }
}

/// A session to open: the store keeps only `id_hash` (SHA-256 of the cookie's id).
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    /// The account (`None` for a loopback session).
    pub operator: Option<&'a OperatorName>,
    pub kind: SessionKind,
    /// The per-session CSRF secret every operator form carries.
    pub csrf: &'a str,
    pub now: DateTime<Utc>,
    /// The absolute end of the session.
    pub expires_at: DateTime<Utc>,
    /// The session the browser held before (rotated out: deleted in the same transaction).
    pub replaces: Option<&'a str>,
}

/// A live session, as a request finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    /// The operator's name (`None` for a loopback session).
    pub operator: Option<String>,
    pub kind: SessionKind,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// How many failed sign-ins are allowed within `window`, per client IP and per account name.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_ip: u32,
    pub per_account: u32,
    pub window: Duration,
}

/// The verdict on a sign-in attempt, taken before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginVerdict {
    /// Counted as a failure until [`crate::store::Store::login_succeeded`] says otherwise
    /// (so attempts racing each other all count): the attempt's row id.
    Allowed(i64),
    /// Too many failures from this client IP in the window: not counted.
    IpLimited,
    /// Too many failures for this account name in the window: not counted.
    AccountLimited,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_and_plain() {
        assert_eq!(OperatorName::parse(" Ada.L ").unwrap().as_ref(), "ada.l");
        assert_eq!(
            OperatorName::parse("ops@example.org").unwrap().as_ref(),
            "ops@example.org"
        );
        for (raw, why) in [
            ("", "empty"),
            ("a b", "a space"),
            ("ada\nx", "a control character"),
            ("ädä", "non-ASCII"),
            ("a;drop", "punctuation"),
        ] {
            assert!(OperatorName::parse(raw).is_err(), "{why}: {raw:?}");
        }
        assert!(OperatorName::parse(&"a".repeat(64)).is_ok());
        assert!(OperatorName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn passwords_are_long_enough_and_free_of_control_characters() {
        let ok = |s: &str| OperatorPassword::parse(s.to_string());
        assert!(ok("correct horse battery").is_ok());
        assert!(ok("ünïcødé-pässwörd").is_ok(), "counted in characters");
        for (raw, says) in [
            ("short", "at least 12"),
            ("eleven char", "at least 12"),
            ("twelve chars\n", "control characters"),
            ("tab\tinside the password", "control characters"),
            ("escape \u{1b}[31m red", "control characters"),
        ] {
            let err = ok(raw).unwrap_err();
            assert!(err.contains(says), "{raw:?}: {err}");
        }
        assert!(ok(&"x".repeat(1025)).unwrap_err().contains("1024"));
        assert_eq!(
            format!("{:?}", ok("correct horse battery").unwrap()),
            "OperatorPassword(…)"
        );
    }
}
