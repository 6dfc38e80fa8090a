//! Sends the site's mails (confirmations) in the background, so the sign-up answer never
//! waits on SMTP — and takes the same time whether or not a mail went out. Mails in flight
//! are counted; [`Mailer::idle`] waits for them (graceful shutdown, tests).
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use tokio::sync::watch;

use crate::delivery::{
    Composed, MessageSettings, Outgoing, Transport, build_message, new_message_id, send_one,
};
use crate::domain::SubscriberEmail;
use crate::render::RenderedNotice;

#[derive(Clone)]
pub struct Mailer {
    message: Arc<MessageSettings>,
    transport: Transport,
    in_flight: Arc<watch::Sender<usize>>,
}

/// Decrements the in-flight count when the send task ends, even by panic.
pub(crate) struct InFlight(Arc<watch::Sender<usize>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl Mailer {
    pub fn new(message: MessageSettings, transport: Transport) -> Mailer {
        Mailer {
            message: Arc::new(message),
            transport,
            in_flight: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Builds the message now and sends it on a task. Failures are logged with the
    /// subscriber id (never the address or the links).
    pub(crate) fn send(
        &self,
        to: &SubscriberEmail,
        notice: RenderedNotice,
        kind: &'static str,
        subscriber_id: i64,
        now: DateTime<Utc>,
    ) {
        let message_id = new_message_id(kind, &self.message.message_id_domain);
        let built = build_message(
            &self.message,
            Outgoing {
                to: Mailbox::new(None, to.address().clone()),
                subject: &notice.subject,
                text: notice.text,
                html: notice.html,
                message_id: &message_id,
                unsubscribe_url: None,
                date: now,
            },
        );
        let message = match built {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(subscriber = subscriber_id, kind, error = %e, "could not build a mail");
                return;
            }
        };
        let composed = Composed {
            from: Some(self.message.from.email.clone()),
            to: to.address().clone(),
            bytes: message.formatted(),
            name: format!("{kind}-{subscriber_id}-{}", crate::store::lease_nonce()),
        };
        let guard = self.in_flight();
        let transport = self.transport.clone();
        tokio::spawn(async move {
            let _guard = guard;
            match send_one(&transport, composed).await {
                Ok(()) => tracing::info!(subscriber = subscriber_id, kind, "mail sent"),
                Err(e) => {
                    tracing::warn!(subscriber = subscriber_id, kind, error = %e, "mail not sent")
                }
            }
        });
    }

    /// Counts as a mail in flight until dropped, so [`Mailer::idle`] also waits for work
    /// that is about to queue one (a sign-up still being stored).
    pub(crate) fn in_flight(&self) -> InFlight {
        self.in_flight.send_modify(|n| *n += 1);
        InFlight(self.in_flight.clone())
    }

    /// Waits until no mail is being sent.
    pub async fn idle(&self) {
        let mut rx = self.in_flight.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}
