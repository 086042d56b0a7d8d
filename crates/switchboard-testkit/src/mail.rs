//! Reading a mail as its recipient's program would, for the mail stories: the headers
//! (unfolded, RFC 2047 words decoded) and the text and HTML parts of a
//! `multipart/alternative` body (quoted-printable or base64 decoded). Just enough MIME
//! for what the server sends; anything else is a test failure that says what it met.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A received message.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// `(name, value)` in order, names as written.
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub html: String,
}

impl ReceivedMail {
    pub fn parse(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").expect("a blank line after the headers");
        let headers = headers(head);
        let mut mail = ReceivedMail { headers, text: String::new(), html: String::new() };
        let content_type = mail.header("Content-Type").expect("a Content-Type").to_owned();
        let boundary = param(&content_type, "boundary").expect("a multipart boundary");
        assert!(content_type.to_ascii_lowercase().starts_with("multipart/alternative"), "{content_type}");
        for part in body.split(&format!("--{boundary}")).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let part = part.trim_start_matches('\n');
            let (head, body) = part.split_once("\n\n").expect("a part's headers");
            let part_headers = headers_of(head);
            let kind = part_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
                .map(|(_, v)| v.to_ascii_lowercase())
                .unwrap_or_default();
            let encoding = part_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("Content-Transfer-Encoding"))
                .map(|(_, v)| v.to_ascii_lowercase())
                .unwrap_or_else(|| "7bit".into());
            let decoded = decode_body(body.trim_end_matches('\n'), &encoding);
            if kind.starts_with("text/plain") {
                mail.text = decoded;
            } else if kind.starts_with("text/html") {
                mail.html = decoded;
            }
        }
        mail
    }

    /// The first header of this name, decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn headers_of(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![];
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

fn headers(head: &str) -> Vec<(String, String)> {
    headers_of(head).into_iter().map(|(n, v)| (n, decode_words(&v))).collect()
}

fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').map(str::trim).find_map(|p| p.strip_prefix(&format!("{name}="))).map(|v| v.trim_matches('"').to_owned())
}

fn decode_body(body: &str, encoding: &str) -> String {
    match encoding {
        "base64" => String::from_utf8(STANDARD.decode(body.split_whitespace().collect::<String>()).expect("base64")).expect("UTF-8"),
        "quoted-printable" => quoted_printable(body, false),
        "7bit" | "8bit" => body.to_owned(),
        other => panic!("unexpected Content-Transfer-Encoding {other}"),
    }
}

fn quoted_printable(s: &str, underscores: bool) -> String {
    let mut bytes = vec![];
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'=' if b.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("ascii");
                bytes.push(u8::from_str_radix(hex, 16).expect("a =XX escape"));
                i += 3;
            }
            b'_' if underscores => {
                bytes.push(b' ');
                i += 1;
            }
            c => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).expect("UTF-8")
}

/// `=?utf-8?b?…?=` and `=?utf-8?q?…?=` words, with the space between two words dropped.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let word = &rest[start + 2..];
        let mut parts = word.splitn(3, '?');
        let (Some(_charset), Some(enc), Some(tail)) = (parts.next(), parts.next(), parts.next()) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let Some(end) = tail.find("?=") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &tail[..end];
        out.push_str(&match enc.to_ascii_lowercase().as_str() {
            "b" => String::from_utf8(STANDARD.decode(text).expect("base64 word")).expect("UTF-8"),
            _ => quoted_printable(text, true),
        });
        rest = &tail[end + 2..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_headers_and_parts_are_read_back() {
        let raw = "Subject: =?utf-8?b?2K/YudmI2Ko=?= =?utf-8?q?_ok?=\r\nTo: a@b.example\r\nContent-Type: multipart/alternative;\r\n boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhttp://x/app/invite/abc=\r\ndef =3D ok\r\n--XX\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+\r\n--XX--\r\n";
        let mail = ReceivedMail::parse(raw);
        assert_eq!(mail.header("subject"), Some("دعوت ok"));
        assert_eq!(mail.text, "http://x/app/invite/abcdef = ok");
        assert_eq!(mail.html, "<b>hi</b>");
    }
}
