//! Contract cases for what the visitor widget needs beside messages: ratings on the
//! conversation, transcript requests, tracked contact events, the visitor's unread
//! count, and agents' last activity.

use std::sync::Arc;

use switchboard_domain::*;

use super::{contact, fixture, say, start};
use crate::*;

fn record(conversation_id: ConversationId, actor: Actor, data: EventData, at: i64) -> Change {
    Change::Record { conversation_id, actor, data, at: Timestamp(at) }
}

pub async fn a_rating_is_kept_on_the_conversation_and_replaced_by_the_next(store: Arc<dyn Store>) {
    let f = fixture(&*store, "rating").await;
    let conv = start(&*store, &f, Some("hi")).await.conversation.id;
    let visitor = Actor::Contact(f.contact.id);
    let rate = |score, comment: Option<&str>| EventData::Rated { score, comment: comment.map(Into::into) };

    let early = store.commit(f.ws.id, record(conv, visitor, rate(5, None), 10)).await;
    assert!(matches!(early, Err(StoreError::Invalid(_))), "an open conversation cannot be rated: {early:?}");
    store.commit(f.ws.id, record(conv, Actor::Agent(f.agent.id), EventData::StatusChanged { status: Status::Resolved }, 11)).await.unwrap();

    let first = store.commit(f.ws.id, record(conv, visitor, rate(2, Some("ممنون، ولی کند بود")), 12)).await.unwrap();
    assert_eq!(first.events[0].data.kind(), "conversation_rated");
    let stored = store.conversation(f.ws.id, conv).await.unwrap();
    assert_eq!(stored.rating, Some(Rating { score: 2, comment: Some("ممنون، ولی کند بود".into()), rated_at: Timestamp(12) }));

    store.commit(f.ws.id, record(conv, visitor, rate(5, None), 13)).await.unwrap();
    let stored = store.conversation(f.ws.id, conv).await.unwrap();
    assert_eq!(stored.rating, Some(Rating { score: 5, comment: None, rated_at: Timestamp(13) }), "rating again replaces");
    let events = store.conversation_events(f.ws.id, conv, &EventQuery::replay(0, 100, Audience::Contact)).await.unwrap();
    let ratings: Vec<_> = events.iter().filter(|e| e.data.kind() == "conversation_rated").map(|e| e.data.clone()).collect();
    assert_eq!(ratings, [rate(2, Some("ممنون، ولی کند بود")), rate(5, None)], "each rating stays in the log, seen by the visitor");

    let listed = store.conversations(f.ws.id, &ConversationFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(listed[0].rating, stored.rating, "lists read the rating too");
}

pub async fn transcript_requests_are_stored_unsent_for_the_workspaces_conversation(store: Arc<dyn Store>) {
    let f = fixture(&*store, "transcript").await;
    let other = fixture(&*store, "elsewhere").await;
    let conv = start(&*store, &f, Some("hi")).await.conversation.id;
    let request = |ws, at| TranscriptRequest {
        id: TranscriptRequestId::new(),
        workspace_id: ws,
        conversation_id: conv,
        email: Email::parse("leyla@example.com").unwrap(),
        requested_at: Timestamp(at),
        sent_at: None,
    };
    let first = request(f.ws.id, 5);
    let second = request(f.ws.id, 6);
    store.request_transcript(&second).await.unwrap();
    store.request_transcript(&first).await.unwrap();
    assert_eq!(store.transcript_requests(f.ws.id, conv).await.unwrap(), vec![first, second], "oldest first");

    let foreign = store.request_transcript(&request(other.ws.id, 7)).await;
    assert!(matches!(foreign, Err(StoreError::NotFound(Entity::Conversation))), "{foreign:?}");
    assert!(store.transcript_requests(other.ws.id, conv).await.unwrap().is_empty());
}

pub async fn contact_events_page_newest_first_within_their_workspace(store: Arc<dyn Store>) {
    let f = fixture(&*store, "track").await;
    let other = fixture(&*store, "elsewhere").await;
    let event = |name: &str, at| {
        let mut data = Attributes::new();
        data.insert("plan".into(), AttributeValue::Text("pro".into()));
        data.insert("seats".into(), AttributeValue::Number(3.0));
        data.insert("trial".into(), AttributeValue::Bool(true));
        ContactEvent {
            id: ContactEventId::new(),
            workspace_id: f.ws.id,
            contact_id: f.contact.id,
            name: name.into(),
            data,
            at: Timestamp(at),
        }
    };
    // Two at the same millisecond: the id breaks the tie, so paging neither skips nor repeats.
    let (a, b, c) = (event("signed_up", 1), event("upgraded", 2), event("invited", 2));
    for e in [&a, &b, &c] {
        store.add_contact_event(e).await.unwrap();
    }
    let all = store.contact_events(f.ws.id, f.contact.id, None, 10).await.unwrap();
    let mut tied = [b.clone(), c.clone()];
    tied.sort_by_key(|e| std::cmp::Reverse(e.id));
    assert_eq!(all, [tied[0].clone(), tied[1].clone(), a.clone()]);

    let first = store.contact_events(f.ws.id, f.contact.id, None, 1).await.unwrap();
    let cursor = |e: &ContactEvent| Some(ContactEventCursor { at: e.at, id: e.id });
    let second = store.contact_events(f.ws.id, f.contact.id, cursor(&first[0]), 1).await.unwrap();
    let third = store.contact_events(f.ws.id, f.contact.id, cursor(&second[0]), 1).await.unwrap();
    assert_eq!([first, second, third].concat(), all, "pages of one");
    assert!(store.contact_events(f.ws.id, f.contact.id, cursor(&all[2]), 10).await.unwrap().is_empty());

    let stranger = contact(other.ws.id, Some(other.site.id));
    let foreign = store.add_contact_event(&ContactEvent { contact_id: stranger.id, ..event("x", 3) }).await;
    assert!(matches!(foreign, Err(StoreError::NotFound(Entity::Contact))), "{foreign:?}");
    assert!(store.contact_events(other.ws.id, f.contact.id, None, 10).await.unwrap().is_empty());
}

pub async fn unread_counts_team_messages_after_the_visitors_read_mark(store: Arc<dyn Store>) {
    let f = fixture(&*store, "unread").await;
    let conv = start(&*store, &f, Some("hi")).await.conversation.id;
    let (visitor, agent) = (Actor::Contact(f.contact.id), Actor::Agent(f.agent.id));
    assert!(store.visitor_unread(f.ws.id, f.contact.id).await.unwrap().is_empty(), "only the visitor wrote");

    say(&*store, &f, conv, agent, "hello").await;
    let mut note = super::text(agent, "internal", None);
    note.kind = MessageKind::Note;
    store.commit(f.ws.id, record(conv, agent, EventData::Message(note), 3)).await.unwrap();
    let second = say(&*store, &f, conv, agent, "are you there?").await;
    say(&*store, &f, conv, visitor, "yes").await;
    assert_eq!(store.visitor_unread(f.ws.id, f.contact.id).await.unwrap(), [(conv, 2)], "notes and the visitor's own don't count");

    let read = EventData::Receipt { side: Side::Visitor, kind: ReceiptKind::Read, up_to_seq: second.events[0].seq };
    store.commit(f.ws.id, record(conv, visitor, read, 4)).await.unwrap();
    assert!(store.visitor_unread(f.ws.id, f.contact.id).await.unwrap().is_empty());
    let other = fixture(&*store, "elsewhere").await;
    assert!(store.visitor_unread(other.ws.id, f.contact.id).await.unwrap().is_empty());
}

pub async fn agents_activity_only_moves_forward(store: Arc<dyn Store>) {
    let f = fixture(&*store, "activity").await;
    let other = fixture(&*store, "elsewhere").await;
    let second = super::agent(f.ws.id, "bo@activity.example");
    store.create_agent(&second, "hash").await.unwrap();
    assert!(store.agent_activity(f.ws.id).await.unwrap().is_empty(), "nobody was active yet");

    store.record_agent_activity(f.ws.id, f.agent.id, Timestamp(10)).await.unwrap();
    store.record_agent_activity(f.ws.id, second.id, Timestamp(20)).await.unwrap();
    store.record_agent_activity(f.ws.id, second.id, Timestamp(15)).await.unwrap();
    assert_eq!(store.agent_activity(f.ws.id).await.unwrap(), [(second.id, Timestamp(20)), (f.agent.id, Timestamp(10))]);

    let foreign = store.record_agent_activity(other.ws.id, f.agent.id, Timestamp(30)).await;
    assert!(matches!(foreign, Err(StoreError::NotFound(Entity::Agent))), "{foreign:?}");
    assert!(store.agent_activity(other.ws.id).await.unwrap().is_empty());
}
