//! One SMTP session driven by hand over lettre's `AsyncSmtpConnection`.
//!
//! Why not lettre's pooled `AsyncSmtpTransport`: it never sets TCP_NODELAY (Nagle plus
//! delayed ACK cost ~43 ms a message, ~23 messages/s per connection here), it has no
//! read/write timeout on async sends, and its `send` hides which SMTP step failed. We open
//! the `TcpStream` ourselves with `set_nodelay(true)`, put a timeout on every step, and
//! track the step, so a failure after the message body went out is told apart (`Unknown`:
//! it may have been delivered) from one before it (safe to retry).
//!
//! When the relay offers PIPELINING (RFC 2920), MAIL FROM, RCPT TO and DATA go out in one
//! write and their three replies are read in order, and the dot-stuffed body and its final
//! dot go out in one write: two round trips a message instead of four. The replies are still
//! checked one by one, so a refusal is attributed to the step that refused.
use std::sync::Arc;
use std::time::Duration;

use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::time::timeout;

use super::outcome::{SendError, Step};

/// How the connection to a relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayTls {
    /// Plain text (loopback relays, tests).
    None,
    /// Plain connect, then STARTTLS (required: refuses to go on without it). Port 587.
    Starttls,
    /// TLS from the first byte ("implicit TLS", SMTPS). Port 465.
    Tls,
}

/// A relay as the sender uses it; built from config at start-up.
#[derive(Clone)]
pub struct Relay {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: RelayTls,
    pub credentials: Option<Credentials>,
    /// Timeout of each SMTP step (connect, greeting, each command, the body).
    pub timeout: Duration,
    pub hello_name: ClientId,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials are never printed.
        f.debug_struct("Relay")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("auth", &self.credentials.is_some())
            .finish()
    }
}

/// An open, greeted (and, as configured, encrypted and authenticated) SMTP session.
pub struct Session {
    conn: AsyncSmtpConnection,
    relay: Arc<Relay>,
    /// Messages accepted on this session.
    pub sent: usize,
    /// The relay announced PIPELINING.
    pipelining: bool,
}

impl Session {
    /// Connects with TCP_NODELAY, reads the greeting, EHLO, STARTTLS and AUTH as configured.
    pub async fn connect(relay: Arc<Relay>) -> Result<Session, SendError> {
        let t = relay.timeout;
        let conn = match relay.tls {
            RelayTls::Tls => {
                // Implicit TLS: lettre opens this socket itself (no TCP_NODELAY); TLS record
                // batching makes Nagle matter much less here than on plain connections.
                let params = tls_params(&relay)?;
                timeout(
                    t,
                    AsyncSmtpConnection::connect_tokio1(
                        (relay.host.as_str(), relay.port),
                        Some(t),
                        &relay.hello_name,
                        Some(params),
                        None,
                    ),
                )
                .await
                .map_err(|_| SendError::timeout(Step::Connect))?
                .map_err(|e| SendError::from_smtp(Step::Connect, e))?
            }
            _ => {
                let stream = timeout(
                    t,
                    tokio::net::TcpStream::connect((relay.host.as_str(), relay.port)),
                )
                .await
                .map_err(|_| SendError::timeout(Step::Connect))?
                .map_err(|e| SendError::io(Step::Connect, e))?;
                stream
                    .set_nodelay(true)
                    .map_err(|e| SendError::io(Step::Connect, e))?;
                #[allow(deprecated)]
                let conn = timeout(
                    t,
                    AsyncSmtpConnection::connect_with_transport(
                        Box::new(stream),
                        &relay.hello_name,
                    ),
                )
                .await
                .map_err(|_| SendError::timeout(Step::Greeting))?
                .map_err(|e| SendError::from_smtp(Step::Greeting, e))?;
                conn
            }
        };
        let mut session = Session {
            conn,
            relay: relay.clone(),
            sent: 0,
            pipelining: false,
        };
        if relay.tls == RelayTls::Starttls {
            let params = tls_params(&relay)?;
            timeout(t, session.conn.starttls(params, &relay.hello_name))
                .await
                .map_err(|_| SendError::timeout(Step::StartTls))?
                .map_err(|e| SendError::from_smtp(Step::StartTls, e))?;
        }
        // lettre keeps only the EHLO keywords it knows, and PIPELINING is not one of them:
        // ask again (after STARTTLS, before AUTH) and read the keywords ourselves.
        let ehlo = timeout(t, session.conn.command(Ehlo::new(relay.hello_name.clone())))
            .await
            .map_err(|_| SendError::timeout(Step::Greeting))?
            .map_err(|e| SendError::from_smtp(Step::Greeting, e))?;
        session.pipelining = ehlo
            .message()
            .any(|l| l.split_whitespace().next() == Some("PIPELINING"));
        if let Some(creds) = &relay.credentials {
            timeout(t, session.conn.auth(DEFAULT_MECHANISMS, creds))
                .await
                .map_err(|_| SendError::timeout(Step::Auth))?
                .map_err(|e| SendError::from_smtp(Step::Auth, e))?;
        }
        Ok(session)
    }

    pub fn relay(&self) -> &Relay {
        &self.relay
    }

    /// Sends one message to one recipient. On a reply error at MAIL or RCPT the session is
    /// reset and stays usable; after any other error the session must be dropped
    /// ([`SendError::session_usable`]).
    pub async fn send(
        &mut self,
        from: Option<&Address>,
        to: &Address,
        body: &[u8],
    ) -> Result<(), SendError> {
        let t = self.relay.timeout;
        let mut params = Vec::new();
        if !body.is_ascii()
            && self
                .conn
                .server_info()
                .supports_feature(Extension::EightBitMime)
        {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail = Mail::new(from.cloned(), params);
        let rcpt = Rcpt::new(to.clone(), vec![]);
        if self.pipelining {
            self.pipelined_envelope(t, mail, rcpt).await?;
        } else {
            self.step(Step::Mail, t, mail).await?;
            self.step(Step::Rcpt, t, rcpt).await?;
            self.step(Step::Data, t, Data).await?;
        }
        // From here on the body is on its way: a lost connection or a missing reply means
        // the relay may have accepted it.
        let reply = match std::str::from_utf8(body) {
            // One write: the dot-stuffed body and the final dot (what lettre's `message`
            // sends in two writes, stuffing byte by byte).
            Ok(text) => timeout(t, self.conn.command(dot_stuffed(text))).await,
            Err(_) => timeout(t, self.conn.message(body)).await,
        };
        match reply {
            Err(_) => Err(SendError::timeout(Step::Body)),
            Ok(Err(e)) => Err(SendError::from_smtp(Step::Body, e)),
            Ok(Ok(_)) => {
                self.sent += 1;
                Ok(())
            }
        }
    }

    async fn step<C: std::fmt::Display>(
        &mut self,
        step: Step,
        t: Duration,
        cmd: C,
    ) -> Result<(), SendError> {
        match timeout(t, self.conn.command(cmd)).await {
            Err(_) => Err(SendError::timeout(step)),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                let err = SendError::from_smtp(step, e);
                if err.session_usable() {
                    // A refused sender or recipient: reset the transaction and go on.
                    if !matches!(timeout(t, self.conn.command(Rset)).await, Ok(Ok(_))) {
                        return Err(err.with_session_lost());
                    }
                }
                Err(err)
            }
        }
    }

    /// MAIL FROM, RCPT TO and DATA in one write; the three replies read in order. The
    /// first refusal is the one reported (the later replies are read and dropped: a server
    /// answers a DATA after a refused RCPT with 503/554), and the transaction is reset as in
    /// the unpipelined case.
    async fn pipelined_envelope(
        &mut self,
        t: Duration,
        mail: Mail,
        rcpt: Rcpt,
    ) -> Result<(), SendError> {
        let batch = format!("{mail}{rcpt}{Data}");
        let mail_reply = timeout(t, self.conn.command(batch))
            .await
            .map_err(|_| SendError::timeout(Step::Mail))?;
        let rcpt_reply = timeout(t, self.conn.read_response())
            .await
            .map_err(|_| SendError::timeout(Step::Rcpt))?;
        let data_reply = timeout(t, self.conn.read_response())
            .await
            .map_err(|_| SendError::timeout(Step::Data))?;
        let first_error = match (mail_reply, rcpt_reply) {
            (Err(e), _) => Some(SendError::from_smtp(Step::Mail, e)),
            (Ok(_), Err(e)) => Some(SendError::from_smtp(Step::Rcpt, e)),
            (Ok(_), Ok(_)) => None,
        };
        match (first_error, data_reply) {
            (None, Ok(_)) => Ok(()),
            (None, Err(e)) => Err(SendError::from_smtp(Step::Data, e)),
            // A server that said 354 after refusing the envelope waits for a body: drop it.
            (Some(err), Ok(_)) => Err(err.with_session_lost()),
            (Some(err), Err(_)) => {
                if err.session_usable()
                    && !matches!(timeout(t, self.conn.command(Rset)).await, Ok(Ok(_)))
                {
                    return Err(err.with_session_lost());
                }
                Err(err)
            }
        }
    }

    /// Says QUIT (bounded by the step timeout) and closes.
    pub async fn quit(mut self) {
        let t = self.relay.timeout;
        let _ = timeout(t, self.conn.quit()).await;
    }
}

/// The body as the DATA phase carries it: a dot doubled at the start of every line
/// (RFC 5321 4.5.2), then `CRLF . CRLF` — byte for byte what lettre's `message` sends.
fn dot_stuffed(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 64);
    if body.starts_with('.') {
        out.push('.');
    }
    let mut from = 0;
    for at in memchr::memmem::find_iter(body.as_bytes(), b"\r\n.") {
        out.push_str(&body[from..at + 2]);
        out.push('.');
        from = at + 2;
    }
    out.push_str(&body[from..]);
    out.push_str("\r\n.\r\n");
    out
}

fn tls_params(relay: &Relay) -> Result<TlsParameters, SendError> {
    TlsParameters::new(relay.host.clone()).map_err(|e| SendError::from_smtp(Step::Connect, e))
}

#[cfg(test)]
mod tests {
    use super::dot_stuffed;

    #[test]
    fn dot_stuffing_doubles_leading_dots_only_after_crlf() {
        assert_eq!(dot_stuffed("a\r\n.b\r\n..c"), "a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(dot_stuffed(".x"), "..x\r\n.\r\n");
        assert_eq!(dot_stuffed("a\n.b"), "a\n.b\r\n.\r\n");
        assert_eq!(dot_stuffed(""), "\r\n.\r\n");
    }
}
