//! The protocol is public: third-party widgets and integrations read these exact keys.
//! These cases pin the raw JSON of a few frames the client sends and receives, so a
//! renamed field or tag fails here even though every typed user still compiles.

use serde_json::json;
use switchboard_client::proto::*;
use uuid::Uuid;

const CONVERSATION: Uuid = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
const MESSAGE: Uuid = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002);

#[test]
fn a_visitor_send_is_sent_with_the_documented_keys() {
    let frame = VisitorIn::Send {
        client_id: "c-1".into(),
        conversation_id: Some(CONVERSATION),
        body: "hi".into(),
        format: Some(MessageFormat::Markdown),
        attachment_ids: vec![],
        pow: None,
        invitation_id: None,
        team_id: None,
    };
    assert_eq!(
        serde_json::to_value(&frame).unwrap(),
        json!({"type": "send", "client_id": "c-1", "conversation_id": CONVERSATION, "body": "hi", "format": "markdown", "attachment_ids": []})
    );
    assert_eq!(serde_json::to_value(AgentIn::Hello { after_feed_seq: Some(7) }).unwrap(), json!({"type": "hello", "after_feed_seq": 7}));
    assert_eq!(
        serde_json::to_value(VisitorIn::Receipt { conversation_id: CONVERSATION, kind: ReceiptKind::Read, up_to_seq: 3 }).unwrap(),
        json!({"type": "receipt", "conversation_id": CONVERSATION, "kind": "read", "up_to_seq": 3})
    );
}

#[test]
fn an_event_frame_as_the_server_writes_it_decodes_to_typed_fields() {
    let raw = json!({
        "type": "event",
        "event": {
            "conversation_id": CONVERSATION, "seq": 2, "feed_seq": 9, "at": 1_700_000_000_000_i64,
            "actor": {"kind": "contact", "id": null},
            "kind": "message",
            "message": {
                "id": MESSAGE, "conversation_id": CONVERSATION, "seq": 2, "client_id": "c-1",
                "author": {"kind": "contact", "id": null}, "kind": "text", "body": "hello",
                "format": "text", "attachments": [], "created_at": 1_700_000_000_000_i64
            }
        }
    });
    let frame: AgentOut = serde_json::from_value(raw.clone()).unwrap();
    let AgentOut::Event { event } = &frame else { panic!("not an event: {frame:?}") };
    assert_eq!((event.seq, event.feed_seq), (2, Some(9)));
    assert_eq!(event.body.message().map(|m| m.body.as_str()), Some("hello"));
    // And back to the same keys: nothing is renamed on the way out.
    assert_eq!(serde_json::to_value(&frame).unwrap(), raw);
}

#[test]
fn an_error_frame_keeps_its_ref_key_and_a_snake_case_code() {
    let frame = VisitorOut::Error {
        code: ErrorCode::HelloRequired,
        message: "say hello first".into(),
        reference: Some("c-9".into()),
        retry_after_ms: None,
        pow: None,
    };
    assert_eq!(
        serde_json::to_value(&frame).unwrap(),
        json!({"type": "error", "code": "hello_required", "message": "say hello first", "ref": "c-9"})
    );
    let without_ref =
        VisitorOut::Error { code: ErrorCode::InvalidFrame, message: "m".into(), reference: None, retry_after_ms: None, pow: None };
    assert_eq!(serde_json::to_value(&without_ref).unwrap(), json!({"type": "error", "code": "invalid_frame", "message": "m"}));
}

#[test]
fn a_change_leaves_out_what_it_does_not_change() {
    // `null` clears these fields on the server, so a field left alone must not be sent at all.
    let rename = UpdateContact { name: Some(Some("Ana".into())), ..UpdateContact::default() };
    assert_eq!(serde_json::to_value(&rename).unwrap(), json!({"name": "Ana", "attributes": {}}));
    let clear = UpdateAgent { avatar_url: Some(None), ..UpdateAgent::default() };
    let sent = serde_json::to_value(&clear).unwrap();
    assert_eq!(sent["avatar_url"], serde_json::Value::Null);
    assert!(sent.as_object().unwrap().contains_key("avatar_url"), "an explicit null is sent: {sent}");
    let promote = serde_json::to_value(UpdateAgent { role: Some(Role::Admin), ..UpdateAgent::default() }).unwrap();
    assert!(!promote.as_object().unwrap().contains_key("avatar_url"), "the avatar is left alone: {promote}");
}

/// The widget's frames of issue 12, as the widget written against docs/protocol.md sends
/// and reads them.
#[test]
fn the_widgets_frames_keep_their_documented_keys() {
    let sent = [
        (
            VisitorIn::Rate { conversation_id: CONVERSATION, score: 4, comment: Some("thanks".into()) },
            json!({"type": "rate", "conversation_id": CONVERSATION, "score": 4, "comment": "thanks"}),
        ),
        (
            VisitorIn::Transcript { conversation_id: CONVERSATION, email: "a@b.example".into() },
            json!({"type": "transcript", "conversation_id": CONVERSATION, "email": "a@b.example"}),
        ),
        (
            VisitorIn::Track { name: "signed_up".into(), data: [("plan".to_owned(), json!("pro"))].into() },
            json!({"type": "track", "name": "signed_up", "data": {"plan": "pro"}}),
        ),
    ];
    for (frame, wire) in sent {
        assert_eq!(serde_json::to_value(&frame).unwrap(), wire);
    }
    // `user_hash` and `phone` may be left out.
    let identify: VisitorIn = serde_json::from_value(json!({"type": "identify", "external_id": "u-1", "name": "Ana"})).unwrap();
    assert!(matches!(identify, VisitorIn::Identify { user_hash: None, phone: None, .. }), "{identify:?}");

    let received = [
        (
            json!({"type": "read_mark", "conversation_id": CONVERSATION, "up_to_seq": 5, "unread": 0}),
            VisitorOut::ReadMark { conversation_id: CONVERSATION, up_to_seq: 5, unread: 0 },
        ),
        (
            json!({"type": "transcript_requested", "conversation_id": CONVERSATION}),
            VisitorOut::TranscriptRequested { conversation_id: CONVERSATION },
        ),
    ];
    for (wire, frame) in received {
        assert_eq!(serde_json::to_value(&frame).unwrap(), wire);
    }
    let rated = json!({"conversation_id": CONVERSATION, "seq": 7, "at": 1, "actor": {"kind": "contact", "id": null},
                       "kind": "conversation_rated", "score": 5, "comment": null});
    let event: Event = serde_json::from_value(rated).unwrap();
    assert!(matches!(event.body, EventBody::ConversationRated { score: 5, comment: None }), "{event:?}");
}
