//! A minimal HTTP/1.1 client for the few REST calls the bench makes on loopback
//! (sign in, create sites and tokens, read messages back, poll `/readyz`). It keeps
//! the generator free of a TLS stack and a connection pool it does not need.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_str(&self.body).with_context(|| format!("HTTP {} body is not JSON: {}", self.status, self.body))
    }

    /// The body as JSON if the status is 2xx, else an error naming both.
    pub fn ok_json(&self) -> anyhow::Result<serde_json::Value> {
        if !(200..300).contains(&self.status) {
            bail!("HTTP {}: {}", self.status, self.body);
        }
        self.json()
    }
}

/// One request on a fresh connection (`Connection: close`).
pub async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> anyhow::Result<Response> {
    let mut stream = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    stream.write_all(req.as_bytes()).await?;
    let mut raw = Vec::with_capacity(4096);
    stream.read_to_end(&mut raw).await?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> anyhow::Result<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").context("no end of HTTP headers")?;
    let head = std::str::from_utf8(&raw[..split]).context("headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().context("empty response")?;
    let status: u16 = status_line.split_whitespace().nth(1).context("no status")?.parse()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Response { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

fn dechunk(mut data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = vec![];
    loop {
        let end = data.windows(2).position(|w| w == b"\r\n").context("bad chunk header")?;
        let size_text = std::str::from_utf8(&data[..end])?.split(';').next().unwrap_or("").trim().to_owned();
        let size = usize::from_str_radix(&size_text, 16).context("bad chunk size")?;
        data = &data[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        anyhow::ensure!(data.len() >= size + 2, "truncated chunk");
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// A signed-in workspace owner: the session cookie and its CSRF token.
pub struct Session {
    pub addr: SocketAddr,
    cookie: String,
    csrf: String,
}

impl Session {
    pub async fn login(addr: SocketAddr, email: &str, password: &str) -> anyhow::Result<Self> {
        let body = serde_json::json!({"email": email, "password": password}).to_string();
        let res = request(addr, "POST", "/api/v1/sessions", &[], Some(&body)).await?;
        let json = res.ok_json().context("signing in")?;
        let cookie = res
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| v.split(';').next().filter(|c| c.starts_with("sb_session=")))
            .context("no session cookie")?
            .to_owned();
        let csrf = json["csrf_token"].as_str().context("no csrf_token")?.to_owned();
        Ok(Self { addr, cookie, csrf })
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let headers = [("Cookie", self.cookie.as_str()), ("X-CSRF-Token", self.csrf.as_str())];
        request(self.addr, "POST", path, &headers, Some(&body.to_string())).await?.ok_json().with_context(|| format!("POST {path}"))
    }
}

/// GET with an API token.
pub async fn get_with_token(addr: SocketAddr, path: &str, token: &str) -> anyhow::Result<serde_json::Value> {
    let auth = format!("Bearer {token}");
    request(addr, "GET", path, &[("Authorization", &auth)], None).await?.ok_json().with_context(|| format!("GET {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_bodies() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "ok"));
        let r = parse(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!((r.status, r.body.as_str()), (201, "abcde"));
    }
}
