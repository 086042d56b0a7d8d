//! The generator's WebSocket client, kept lean: 4 KiB buffers, `TCP_NODELAY`, an
//! explicit source address (loopback has 28k ephemeral ports per source address, and
//! several 127.x addresses lift that), and frame fields read by scanning the text
//! instead of building a JSON tree for every frame.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = WebSocketStream<TcpStream>;

/// How long the bench waits for any single expected frame before calling it a failure.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(30);

pub fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(4096).max_write_buffer_size(1 << 20)
}

/// `count` source addresses 127.0.0.`first`…, wrapping into 127.0.1.x and beyond.
pub fn source_ips(first: u32, count: u32) -> Vec<IpAddr> {
    (0..count)
        .map(|i| {
            let n = first + i;
            IpAddr::V4(Ipv4Addr::new(127, 0, (n / 250) as u8, (n % 250 + 2) as u8))
        })
        .collect()
}

/// A TCP connection from `src` (any port) to `addr`.
pub async fn tcp(addr: SocketAddr, src: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = src {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens a WebSocket on `path` (with its query) of the server at `addr`.
pub async fn connect(addr: SocketAddr, src: Option<IpAddr>, path: &str) -> anyhow::Result<Ws> {
    let stream = tcp(addr, src).await.with_context(|| format!("connecting to {addr} from {src:?}"))?;
    let url = format!("ws://{addr}{path}");
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config())).await.context("WebSocket handshake")?;
    Ok(ws)
}

pub async fn send_text(ws: &mut Ws, text: String) -> anyhow::Result<()> {
    ws.send(Message::text(text)).await.context("sending a frame")
}

/// The next text frame; pings are answered by tungstenite while reading. `None` when
/// the socket closed.
pub async fn next_text(ws: &mut Ws) -> anyhow::Result<Option<String>> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(Some(t.as_str().to_owned())),
            Some(Ok(Message::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e).context("reading a frame"),
        }
    }
}

/// Reads until a frame of type `kind`, within [`FRAME_TIMEOUT`]; an `error` frame fails.
pub async fn expect(ws: &mut Ws, kind: &str) -> anyhow::Result<String> {
    let wait = async {
        loop {
            let Some(text) = next_text(ws).await? else { bail!("socket closed while waiting for `{kind}`") };
            match frame_type(&text) {
                t if t == kind => return Ok(text),
                "error" => bail!("error frame while waiting for `{kind}`: {text}"),
                _ => continue,
            }
        }
    };
    tokio::time::timeout(FRAME_TIMEOUT, wait).await.with_context(|| format!("no `{kind}` within {FRAME_TIMEOUT:?}"))?
}

/// A visitor socket on the site `site_key` whose first message started a conversation,
/// once the socket has caught up with that conversation: the socket and the
/// conversation's id.
pub async fn visitor_in_conversation(addr: SocketAddr, site_key: &str, client_id: &str, body: &str) -> anyhow::Result<(Ws, String)> {
    visitor_in_conversation_from(addr, None, site_key, client_id, body).await
}

/// [`visitor_in_conversation`] from the source address `src`.
pub async fn visitor_in_conversation_from(
    addr: SocketAddr,
    src: Option<IpAddr>,
    site_key: &str,
    client_id: &str,
    body: &str,
) -> anyhow::Result<(Ws, String)> {
    let mut socket = connect(addr, src, &format!("/ws/visitor?site={site_key}")).await?;
    send_text(&mut socket, crate::frames::VISITOR_HELLO.clone()).await?;
    expect(&mut socket, "welcome").await?;
    send_text(&mut socket, crate::frames::visitor_send(client_id.to_owned(), None, body.to_owned())?).await?;
    let ack = expect(&mut socket, "ack").await?;
    let conversation = str_field(&ack, "conversation_id").context("ack without conversation_id")?.to_owned();
    expect(&mut socket, "caught_up").await?;
    Ok((socket, conversation))
}

/// The `type` of a server frame. Switchboard's frames are internally tagged, so the
/// tag is always the first field.
pub fn frame_type(text: &str) -> &str {
    text.strip_prefix("{\"type\":\"").and_then(|r| r.split('"').next()).unwrap_or("")
}

/// The first string field `key` anywhere in `text` (values without escapes only: the
/// bench's own ids and bodies never need them).
pub fn str_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let start = text.find(&pat)? + pat.len();
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

/// The first integer field `key` anywhere in `text`.
pub fn int_field(text: &str, key: &str) -> Option<i64> {
    let pat = format!("\"{key}\":");
    let start = text.find(&pat)? + pat.len();
    let digits: String = text[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_by_scanning() {
        let ack = r#"{"type":"ack","client_id":"m3.17","conversation_id":"0193","seq":4,"message":{"seq":4}}"#;
        assert_eq!(frame_type(ack), "ack");
        assert_eq!(str_field(ack, "client_id"), Some("m3.17"));
        assert_eq!(int_field(ack, "seq"), Some(4));
        assert_eq!(frame_type("[]"), "");
    }

    #[test]
    fn source_addresses_stay_in_loopback() {
        let ips = source_ips(0, 300);
        assert_eq!(ips[0], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(ips[250], IpAddr::V4(Ipv4Addr::new(127, 0, 1, 2)));
    }
}
