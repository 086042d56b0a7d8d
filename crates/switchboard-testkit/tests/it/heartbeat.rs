//! Dead sockets are found by heartbeats: a peer that stops answering is closed,
//! one that answers pings stays.

use std::time::Duration;

use futures::StreamExt;
use switchboard_core::Limits;
use switchboard_server::ServerConfig;
use switchboard_testkit::proto::{VisitorIn, VisitorOut};
use switchboard_testkit::{TestApp, expect_frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn quick_heartbeats() -> ServerConfig {
    ServerConfig { heartbeat: Duration::from_millis(100), idle_timeout: Duration::from_millis(400), ..ServerConfig::default() }
}

#[tokio::test]
async fn a_visitor_that_stops_answering_pings_is_closed_as_idle() {
    let app = TestApp::spawn_with(quick_heartbeats(), Limits::default()).await;
    let seed = app.seed("hb").await;
    // A dead peer never writes again, so it never answers a ping. A WebSocket library
    // would answer for us; this client speaks the protocol by hand and stays silent.
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /ws/visitor?site={} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        seed.site.public_key, app.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    // A masked text frame with an all-zero mask: the payload goes as it is.
    let hello = serde_json::to_vec(&VisitorIn::Hello { token: None, resume: vec![] }).unwrap();
    assert!(hello.len() < 126, "fits a one-byte payload length");
    let mut frame = vec![0x81, 0x80 | hello.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(&hello);
    tcp.write_all(&frame).await.unwrap();

    let mut bytes = vec![];
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut bytes)).await.expect("the server closes the socket").unwrap();
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response") + 4;
    assert!(bytes.starts_with(b"HTTP/1.1 101"), "upgraded");
    let (mut pings, mut close_code, mut at) = (0, None, head_end);
    while at + 2 <= bytes.len() {
        let (opcode, len) = (bytes[at] & 0x0f, (bytes[at + 1] & 0x7f) as usize);
        let (len, start) = match len {
            126 => (u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize, at + 4),
            n => (n, at + 2),
        };
        match opcode {
            0x9 => pings += 1,
            0x8 => close_code = Some(u16::from_be_bytes([bytes[start], bytes[start + 1]])),
            _ => {}
        }
        at = start + len;
    }
    assert!(pings >= 1, "the server pinged before giving up");
    assert_eq!(close_code, Some(1001), "closed as idle ('going away')");
}

#[tokio::test]
async fn a_visitor_that_answers_pings_stays_connected() {
    let app = TestApp::spawn_with(quick_heartbeats(), Limits::default()).await;
    let seed = app.seed("hb2").await;
    let mut visitor = app.visitor_socket(&seed.site).await;
    // Reading through the WebSocket (which answers each ping with a pong) for many
    // idle timeouts: the socket must still work afterwards.
    let mut pings = 0;
    while pings < 10 {
        match tokio::time::timeout(Duration::from_secs(10), visitor.stream.next()).await.expect("a ping") {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(_))) | None => panic!("closed although it answered every ping"),
            _ => {}
        }
    }
    visitor.send(&VisitorIn::Ping).await.unwrap();
    expect_frame!(visitor, VisitorOut::Pong).unwrap();
}
