//! A minimal XMPP-over-WebSocket client (RFC 7395): enough to log in with SASL
//! ANONYMOUS or PLAIN, bind a resource, enable stream management (XEP-0198), send chat
//! messages and read what comes back.
//!
//! RFC 7395 puts exactly one top-level element in each WebSocket text message, so every
//! frame is parsed on its own into small [`Element`] trees; nothing streams across
//! frames. Only the parts of XML that XMPP servers emit are handled (no DTDs).

use std::collections::VecDeque;

use anyhow::{Context, bail};
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use quick_xml::events::Event;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(super) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(super) const NS_FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";
pub(super) const NS_SM: &str = "urn:xmpp:sm:3";

/// An XML element: local name (prefix dropped), attributes, children and text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// A message, presence or iq: what XEP-0198 counts (`<r/>`, `<a/>` and the like
    /// carry their own namespace and are not counted).
    pub fn is_stanza(&self) -> bool {
        matches!(self.name.as_str(), "message" | "presence" | "iq") && self.attr("xmlns").is_none_or(|ns| ns == "jabber:client")
    }

    /// Stream management's `<r/>` or `<a h=…/>`.
    pub fn is_sm(&self, name: &str) -> bool {
        self.name == name && self.attr("xmlns") == Some(NS_SM)
    }
}

/// Parses the top-level elements of one frame.
pub(super) fn parse(frame: &str) -> anyhow::Result<Vec<Element>> {
    let mut reader = quick_xml::Reader::from_str(frame);
    let mut stack: Vec<Element> = Vec::new();
    let mut done = Vec::new();
    loop {
        match reader.read_event().with_context(|| format!("parsing XMPP frame {frame:?}"))? {
            Event::Start(e) => stack.push(start(&e)?),
            Event::Empty(e) => {
                let element = start(&e)?;
                close(&mut stack, &mut done, element);
            }
            Event::End(_) => {
                let element = stack.pop().context("unbalanced end tag")?;
                close(&mut stack, &mut done, element);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    match r.resolve_char_ref()? {
                        Some(c) => top.text.push(c),
                        None => top.text.push_str(
                            quick_xml::escape::resolve_predefined_entity(&r).with_context(|| format!("unknown entity &{};", &*r))?,
                        ),
                    }
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        bail!("unterminated element in XMPP frame {frame:?}");
    }
    Ok(done)
}

fn start(e: &quick_xml::events::BytesStart<'_>) -> anyhow::Result<Element> {
    let mut element = Element { name: e.local_name().as_ref().to_owned(), ..Element::default() };
    for attr in e.attributes() {
        let attr = attr?;
        let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)?;
        element.attrs.push((attr.key.as_ref().to_owned(), value.into_owned()));
    }
    Ok(element)
}

fn close(stack: &mut [Element], done: &mut Vec<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => done.push(element),
    }
}

/// Escapes text for an attribute or element body.
pub(super) fn escape(raw: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(raw)
}

/// How a client proves who it is.
pub(super) enum Auth<'a> {
    /// SASL ANONYMOUS: the server makes up a JID for this connection.
    Anonymous,
    /// SASL PLAIN with a registered account.
    Plain { user: &'a str, password: &'a str },
}

/// A logged-in session with stream management enabled.
pub(super) struct Session {
    pub ws: Ws,
    /// The full JID the server bound.
    pub jid: String,
}

/// Connects to `url`, opens a stream to `domain` and logs in: SASL, resource binding,
/// then `<enable resume='true'/>` as stream-management clients do.
pub(super) async fn login(url: &str, domain: &str, auth: Auth<'_>, resource: &str) -> anyhow::Result<Session> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", "xmpp".parse()?);
    let (ws, response) = tokio_tungstenite::connect_async(request).await.with_context(|| format!("connecting to {url}"))?;
    if response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()) != Some("xmpp") {
        bail!("{url} did not accept the `xmpp` WebSocket subprotocol");
    }
    let mut conn = Handshake { ws, pending: VecDeque::new() };
    let open = format!("<open xmlns='{NS_FRAMING}' to='{}' version='1.0'/>", escape(domain));

    conn.send(&open).await?;
    let features = conn.expect("stream features", |e| e.name == "features").await?;
    let (mechanism, initial) = match auth {
        Auth::Anonymous => ("ANONYMOUS", "=".to_owned()),
        Auth::Plain { user, password } => {
            ("PLAIN", base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}").as_bytes()))
        }
    };
    let offered = features.child("mechanisms").is_some_and(|m| m.children.iter().any(|c| c.text == mechanism));
    if !offered {
        bail!("{domain} does not offer SASL {mechanism}: {features:?}");
    }
    conn.send(&format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mechanism}'>{initial}</auth>")).await?;
    conn.expect("SASL success", |e| e.name == "success").await?;

    conn.send(&open).await?;
    let features = conn.expect("stream features after SASL", |e| e.name == "features").await?;
    if features.child("sm").is_none() {
        bail!("{domain} does not offer stream management (mod_smacks): {features:?}");
    }
    let bind = format!(
        "<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <resource>{}</resource></bind></iq>",
        escape(resource)
    );
    conn.send(&bind).await?;
    let bound = conn.expect("resource binding", |e| e.name == "iq" && e.attr("id") == Some("bind")).await?;
    let jid =
        bound.child("bind").and_then(|b| b.child("jid")).map(|j| j.text.clone()).with_context(|| format!("bind failed: {bound:?}"))?;

    conn.send(&format!("<enable xmlns='{NS_SM}' resume='true'/>")).await?;
    conn.expect("stream management enabled", |e| e.name == "enabled").await?;
    if let Some(extra) = conn.pending.front() {
        bail!("unexpected element right after login: {extra:?}");
    }
    Ok(Session { ws: conn.ws, jid })
}

/// The login exchange, before anything runs concurrently on the socket.
struct Handshake {
    ws: Ws,
    pending: VecDeque<Element>,
}

impl Handshake {
    async fn send(&mut self, xml: &str) -> anyhow::Result<()> {
        self.ws.send(Message::text(xml)).await?;
        Ok(())
    }

    /// Reads until an element matches `wanted`, skipping the server's `<open/>`; fails
    /// on stream errors, SASL failures and stream-management refusals.
    async fn expect(&mut self, what: &str, wanted: impl Fn(&Element) -> bool) -> anyhow::Result<Element> {
        loop {
            while let Some(e) = self.pending.pop_front() {
                if wanted(&e) {
                    return Ok(e);
                }
                match e.name.as_str() {
                    "open" => {}
                    "error" | "failure" | "failed" | "close" => bail!("waiting for {what}, the server said {e:?}"),
                    _ if e.attr("type") == Some("error") => bail!("waiting for {what}, the server said {e:?}"),
                    _ => {}
                }
            }
            let frame = self.ws.next().await.with_context(|| format!("connection closed waiting for {what}"))??;
            match frame {
                Message::Text(text) => self.pending.extend(parse(&text)?),
                Message::Close(reason) => bail!("connection closed waiting for {what}: {reason:?}"),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_attributes_and_escaped_text() -> anyhow::Result<()> {
        let got = parse(
            "<message xmlns='jabber:client' from='a@b/c' type='chat' id='x&amp;y'>\
             <body>1 &lt; 2 &#x26; &#51;</body><delay xmlns='urn:xmpp:delay'/></message>",
        )?;
        assert_eq!(got.len(), 1);
        let message = &got[0];
        assert_eq!(message.name, "message");
        assert_eq!(message.attr("id"), Some("x&y"));
        assert!(message.is_stanza());
        assert_eq!(message.child("body").map(|b| b.text.as_str()), Some("1 < 2 & 3"));
        assert!(message.child("delay").is_some());
        Ok(())
    }

    #[test]
    fn drops_prefixes_and_tells_nonzas_from_stanzas() -> anyhow::Result<()> {
        let got = parse(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><sm xmlns='urn:xmpp:sm:3'/></stream:features>\
             <a xmlns='urn:xmpp:sm:3' h='7'/>",
        )?;
        assert_eq!(got[0].name, "features");
        assert!(got[0].child("sm").is_some());
        assert!(got[1].is_sm("a") && !got[1].is_stanza());
        assert_eq!(got[1].attr("h"), Some("7"));
        assert!(parse("<message><body>").is_err());
        Ok(())
    }
}
