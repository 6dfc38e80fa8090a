//! What a failed send means for the delivery: retry later, give up on this address, or
//! "unknown" (the body went out and the reply never came).
use std::fmt;

/// The SMTP step a failure happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Connect,
    Greeting,
    StartTls,
    Auth,
    Mail,
    Rcpt,
    Data,
    Body,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Connect => "connect",
            Step::Greeting => "greeting/EHLO",
            Step::StartTls => "STARTTLS",
            Step::Auth => "AUTH",
            Step::Mail => "MAIL FROM",
            Step::Rcpt => "RCPT TO",
            Step::Data => "DATA",
            Step::Body => "message body",
        })
    }
}

/// How a failure is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 4xx, timeouts before the body, refused or dropped connections: try again later.
    Retry,
    /// 5xx on RCPT, DATA or the body: this address will not take it; suppress it.
    Permanent,
    /// The connection died or timed out after the body went out: it may have been delivered.
    Unknown,
    /// A problem with the relay itself (5xx on AUTH, TLS, MAIL FROM): not the reader's fault;
    /// retried, and reported to the operator.
    RelayProblem,
}

#[derive(Debug, Clone)]
pub struct SendError {
    pub step: Step,
    /// The SMTP reply code, if the server answered.
    pub code: Option<u16>,
    pub message: String,
    timeout: bool,
    session_lost: bool,
}

impl SendError {
    pub fn timeout(step: Step) -> SendError {
        SendError {
            step,
            code: None,
            message: "timed out".into(),
            timeout: true,
            session_lost: true,
        }
    }

    pub fn io(step: Step, e: std::io::Error) -> SendError {
        SendError {
            step,
            code: None,
            message: e.to_string(),
            timeout: false,
            session_lost: true,
        }
    }

    pub fn from_smtp(step: Step, e: lettre::transport::smtp::Error) -> SendError {
        let code = e.status().map(u16::from);
        let timeout = e.is_timeout();
        let mut message = e.to_string();
        if code == Some(535) {
            message = format!("credentials invalid: {message}");
        }
        // A reply error at MAIL/RCPT leaves the session usable (after RSET), except 421,
        // which announces the server is closing the connection.
        let session_lost =
            !(code.is_some() && matches!(step, Step::Mail | Step::Rcpt) && code != Some(421));
        SendError {
            step,
            code,
            message,
            timeout,
            session_lost,
        }
    }

    pub fn with_session_lost(mut self) -> SendError {
        self.session_lost = true;
        self
    }

    /// Whether the session can carry the next message.
    pub fn session_usable(&self) -> bool {
        !self.session_lost
    }

    pub fn is_timeout(&self) -> bool {
        self.timeout
    }

    /// 421: the relay is shedding load; the whole relay should slow down.
    pub fn is_slow_down(&self) -> bool {
        self.code == Some(421)
    }

    pub fn verdict(&self) -> Verdict {
        match (self.code, self.step) {
            (Some(c), Step::Rcpt | Step::Data | Step::Body) if (500..600).contains(&c) => {
                Verdict::Permanent
            }
            (Some(c), _) if (500..600).contains(&c) => Verdict::RelayProblem,
            (Some(_), _) => Verdict::Retry,
            (None, Step::Body) => Verdict::Unknown,
            (None, _) => Verdict::Retry,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) if !self.message.contains(&code.to_string()) => {
                write!(f, "{} failed: {code} {}", self.step, self.message)
            }
            _ => write!(f, "{} failed: {}", self.step, self.message),
        }
    }
}

impl std::error::Error for SendError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(step: Step, code: Option<u16>) -> SendError {
        SendError {
            step,
            code,
            message: "x".into(),
            timeout: code.is_none(),
            session_lost: false,
        }
    }

    #[test]
    fn failures_are_classified_by_code_and_step() {
        assert_eq!(err(Step::Rcpt, Some(550)).verdict(), Verdict::Permanent);
        assert_eq!(err(Step::Body, Some(554)).verdict(), Verdict::Permanent);
        assert_eq!(err(Step::Rcpt, Some(451)).verdict(), Verdict::Retry);
        assert_eq!(err(Step::Connect, None).verdict(), Verdict::Retry);
        assert_eq!(err(Step::Data, None).verdict(), Verdict::Retry);
        assert_eq!(err(Step::Body, None).verdict(), Verdict::Unknown);
        assert_eq!(err(Step::Auth, Some(535)).verdict(), Verdict::RelayProblem);
        assert!(err(Step::Greeting, Some(421)).is_slow_down());
    }
}
