//! Outgoing mail over SMTP: core's [`Mailer`] port implemented with `lettre`'s tokio
//! transport (rustls with the system's root certificates; STARTTLS, TLS from the first
//! byte, or plain for a relay on the same host), and the settings it is built from
//! (`[mail]` in the configuration, checked at start so a bad one stops the node).
//!
//! Invariant: knows nothing of invitations or any use case; it sends what core hands it
//! and says whether a failure is worth retrying (a 4xx answer, a refused or dropped
//! connection, a timeout) or not (a 5xx answer). Neither the password nor an address
//! reaches a log or an error from here.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use switchboard_core::{MailError, Mailer, OutgoingMail};

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain first, then `STARTTLS`, required (port 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465 by default).
    Tls,
    /// No encryption at all (port 25 by default): only for a relay on the same host
    /// or a private network.
    None,
}

/// Where and as whom to send. `Debug` never shows the password.
#[derive(Clone, Default)]
pub struct SmtpSettings {
    pub host: String,
    /// `None`: the mode's usual port.
    pub port: Option<u16>,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `"Acme Support <support@acme.example>"` or a bare address.
    pub from: String,
    /// How long one SMTP exchange may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A setting that cannot work; names the key (`mail.from`, …).
#[derive(Debug, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct MailConfigError {
    pub key: &'static str,
    pub reason: String,
}

fn bad(key: &'static str, reason: impl Into<String>) -> MailConfigError {
    MailConfigError { key, reason: reason.into() }
}

/// Sends through one SMTP server, a connection per message (lettre's pool would need a
/// runtime already at start, and invitations are few).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Checks every setting and builds the transport; connects to nothing yet.
    pub fn new(settings: &SmtpSettings) -> Result<Self, MailConfigError> {
        let host = settings.host.trim();
        if host.is_empty() || host.contains(['/', ' ', '@', ':']) {
            return Err(bad("mail.smtp_host", "must be a host name or address such as \"smtp.example.com\""));
        }
        if settings.port == Some(0) {
            return Err(bad("mail.smtp_port", "must be between 1 and 65535"));
        }
        let from: Mailbox = settings.from.parse().map_err(|e| {
            bad("mail.from", format!("must be an address, optionally with a name (\"Acme Support <support@acme.example>\"): {e}"))
        })?;
        if settings.username.is_some() != settings.password.is_some() {
            return Err(bad("mail.username", "mail.username and mail.password go together (or set neither)"));
        }
        let tls = || TlsParameters::new(host.to_owned()).map_err(|e| bad("mail.tls", format!("cannot set up TLS for {host}: {e}")));
        let (tls, port) = match settings.tls {
            TlsMode::Starttls => (Tls::Required(tls()?), 587),
            TlsMode::Tls => (Tls::Wrapper(tls()?), 465),
            TlsMode::None => (Tls::None, 25),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port.unwrap_or(port))
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self { transport: builder.build(), from })
    }

    fn message(&self, mail: &OutgoingMail) -> Result<Message, MailError> {
        let to = Mailbox::new(
            mail.to_name.clone(),
            mail.to.as_str().parse().map_err(|_| MailError::Permanent("the recipient is not an address".into()))?,
        );
        let language = HeaderValue::new(HeaderName::new_from_ascii_str("Content-Language"), mail.locale.as_str().to_owned());
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(
                MultiPart::alternative().singlepart(SinglePart::plain(mail.text.clone())).singlepart(SinglePart::html(mail.html.clone())),
            )
            .map_err(|e| MailError::Permanent(format!("the message cannot be built: {e}")))?;
        message.headers_mut().insert_raw(language);
        Ok(message)
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = self.message(mail)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // 5xx: the server will not take it, however often it is asked.
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            // 4xx, refused or dropped connections, timeouts, TLS trouble: later.
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SmtpSettings {
        SmtpSettings {
            host: "smtp.example.com".into(),
            from: "Acme Support <support@acme.example>".into(),
            timeout: Duration::from_secs(10),
            ..Default::default()
        }
    }

    #[test]
    fn good_settings_build_a_mailer() {
        SmtpMailer::new(&settings()).unwrap();
        SmtpMailer::new(&SmtpSettings { from: "support@acme.example".into(), tls: TlsMode::None, port: Some(2525), ..settings() }).unwrap();
    }

    #[test]
    fn bad_settings_name_their_key() {
        let err = SmtpMailer::new(&SmtpSettings { from: "Acme Support".into(), ..settings() }).unwrap_err();
        assert_eq!(err.key, "mail.from", "{err}");
        let err = SmtpMailer::new(&SmtpSettings { host: "smtp://x".into(), ..settings() }).unwrap_err();
        assert_eq!(err.key, "mail.smtp_host", "{err}");
        let err = SmtpMailer::new(&SmtpSettings { username: Some("u".into()), ..settings() }).unwrap_err();
        assert_eq!(err.key, "mail.username", "{err}");
        let err = SmtpMailer::new(&SmtpSettings { port: Some(0), ..settings() }).unwrap_err();
        assert_eq!(err.key, "mail.smtp_port", "{err}");
    }

    #[test]
    fn the_password_never_reaches_a_debug_print() {
        let s = SmtpSettings { username: Some("u".into()), password: Some("hunter2".into()), ..settings() };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
