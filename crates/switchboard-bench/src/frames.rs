//! The frames the bench sends, rendered from `switchboard-proto`'s types, so a field
//! renamed in the protocol breaks the bench's build instead of its numbers. Frames
//! without a varying field are rendered once; a `send` is serialised per message
//! (as cheap as the `format!` it replaces). Reading stays with the scanner in `ws.rs`.

use std::sync::LazyLock;

use anyhow::Context;
use switchboard_proto::{AgentIn, Cursor, VisitorIn};
use uuid::Uuid;

fn render<T: serde::Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).expect("wire frames always serialise")
}

/// A new visitor's `hello`: no token, nothing to resume.
pub static VISITOR_HELLO: LazyLock<String> = LazyLock::new(|| render(&VisitorIn::Hello { token: None, resume: vec![] }));

/// An agent's `hello` without a feed cursor.
pub static AGENT_HELLO: LazyLock<String> = LazyLock::new(|| render(&AgentIn::Hello { after_feed_seq: None }));

/// An agent's watch on the whole workspace's live visitors.
pub static WATCH_VISITORS: LazyLock<String> = LazyLock::new(|| render(&AgentIn::Visitors { watch: true, site_id: None }));

/// A tracked visitor opened a page.
pub fn visitor_page(url: String, title: &str) -> String {
    render(&VisitorIn::Page { url, title: Some(title.to_owned()), referrer: None, again: false })
}

fn conversation_id(id: &str) -> anyhow::Result<Uuid> {
    id.parse().with_context(|| format!("the server's conversation id {id:?} is not a UUID"))
}

/// A returning visitor's `hello`: its token, and the conversation to resume after `after_seq`.
pub fn visitor_hello(token: &str, resume: Option<(&str, i64)>) -> anyhow::Result<String> {
    let resume = match resume {
        Some((id, after_seq)) => vec![Cursor { conversation_id: conversation_id(id)?, after_seq }],
        None => vec![],
    };
    Ok(render(&VisitorIn::Hello { token: Some(token.to_owned()), resume }))
}

/// A visitor's message; without `conversation` it starts one.
pub fn visitor_send(client_id: String, conversation: Option<&str>, body: String) -> anyhow::Result<String> {
    let conversation_id = conversation.map(conversation_id).transpose()?;
    Ok(render(&VisitorIn::Send {
        client_id,
        conversation_id,
        body,
        format: None,
        attachment_ids: vec![],
        pow: None,
        invitation_id: None,
        team_id: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_the_protocols_keys() {
        assert_eq!(serde_json::from_str::<serde_json::Value>(&VISITOR_HELLO).unwrap()["type"], "hello");
        let conv = "01920000-0000-7000-8000-000000000001";
        let send: serde_json::Value = serde_json::from_str(&visitor_send("m1.2".into(), Some(conv), "hi".into()).unwrap()).unwrap();
        assert_eq!(
            (send["type"].as_str(), send["client_id"].as_str(), send["conversation_id"].as_str()),
            (Some("send"), Some("m1.2"), Some(conv))
        );
        let hello: serde_json::Value = serde_json::from_str(&visitor_hello("tok", Some((conv, 4))).unwrap()).unwrap();
        assert_eq!(hello["resume"][0]["after_seq"], 4);
        assert!(visitor_send("x".into(), Some("not an id"), String::new()).is_err());
        let page: serde_json::Value = serde_json::from_str(&visitor_page("https://shop.example/".into(), "Home")).unwrap();
        assert_eq!((page["type"].as_str(), page["url"].as_str()), (Some("page"), Some("https://shop.example/")));
        let watch: serde_json::Value = serde_json::from_str(&WATCH_VISITORS).unwrap();
        assert_eq!((watch["type"].as_str(), watch["watch"].as_bool()), (Some("visitors"), Some(true)));
    }
}
