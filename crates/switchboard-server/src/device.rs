//! A visitor's browser, OS, device class and language, read from request headers; and
//! an agent's session's browser, OS and device class, read from its stored user agent.

use axum::http::HeaderMap;
use switchboard_domain::DeviceInfo;

pub fn device_info(headers: &HeaderMap) -> DeviceInfo {
    let ua = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
    let language = headers
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|l| l.split(';').next().unwrap_or("").trim().to_owned())
        .filter(|l| !l.is_empty() && l.len() <= 35);
    DeviceInfo { language, ..from_user_agent(ua) }
}

/// The browser, OS and device class a `User-Agent` names (no language).
pub fn from_user_agent(ua: &str) -> DeviceInfo {
    let browser = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .iter()
        .find(|(needle, _)| ua.contains(needle))
        .map(|(_, name)| (*name).to_owned());
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| (*name).to_owned());
    let device = if ua.is_empty() {
        None
    } else if ua.contains("iPad") || ua.contains("Tablet") {
        Some("tablet".to_owned())
    } else if ua.contains("Mobi") {
        Some("mobile".to_owned())
    } else {
        Some("desktop".to_owned())
    };
    DeviceInfo { browser, os, device, language: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_in_persian_is_recognised() {
        let mut h = HeaderMap::new();
        h.insert("user-agent", "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36".parse().unwrap());
        h.insert("accept-language", "fa-IR,fa;q=0.9,en;q=0.8".parse().unwrap());
        let d = device_info(&h);
        assert_eq!(d.browser.as_deref(), Some("Chrome"));
        assert_eq!(d.os.as_deref(), Some("Android"));
        assert_eq!(d.device.as_deref(), Some("mobile"));
        assert_eq!(d.language.as_deref(), Some("fa-IR"));
    }
}
