//! Contract cases for privacy: retention by age per site, erasure of one contact, and
//! the queue of blobs left to delete.

use std::sync::Arc;

use switchboard_domain::*;

use super::{Fixture, all, contact, fixture, say, site, text, view_page};
use crate::*;

const DAY: i64 = 24 * 60 * 60 * 1000;

fn at(days: i64) -> Timestamp {
    Timestamp(days * DAY)
}

/// Starts a conversation of `who` on `site` at `day` with the visitor's `first` message.
async fn start_at(store: &dyn Store, f: &Fixture, site: SiteId, who: ContactId, day: i64, first: &str) -> ConversationId {
    let conversation = Conversation::new(f.ws.id, site, who, at(day));
    let first_message = Some(text(Actor::Contact(who), first, None));
    store.commit(f.ws.id, Change::Start { conversation, first_message }).await.unwrap().conversation.id
}

async fn record(store: &dyn Store, f: &Fixture, id: ConversationId, actor: Actor, data: EventData, day: i64) {
    store.commit(f.ws.id, Change::Record { conversation_id: id, actor, data, at: at(day) }).await.unwrap();
}

async fn post(store: &dyn Store, f: &Fixture, id: ConversationId, message: NewMessage, day: i64) {
    store.commit(f.ws.id, Change::Post { conversation_id: id, message, at: at(day) }).await.unwrap();
}

fn upload(f: &Fixture, by: Actor, name: &str, day: i64) -> Attachment {
    Attachment {
        id: AttachmentId::new(),
        workspace_id: f.ws.id,
        uploader: by,
        filename: name.into(),
        content_type: "application/pdf".into(),
        size: 10,
        width: None,
        height: None,
        blob_key: format!("ws/{}", uuid::Uuid::new_v4()),
        created_at: at(day),
    }
}

async fn found(store: &dyn Store, ws: WorkspaceId, q: &str) -> Vec<String> {
    let hits = store.search_messages(ws, &search::query_terms(q), 10).await.unwrap();
    hits.into_iter().map(|h| h.message.body).collect()
}

const RESOLVED: EventData = EventData::StatusChanged { status: Status::Resolved };

pub async fn retention_removes_what_its_preview_counts_and_keeps_open_recent_and_other_sites(store: Arc<dyn Store>) {
    let f = fixture(&*store, "retention").await;
    let s = &*store;
    let (agent, visitor) = (Actor::Agent(f.agent.id), Actor::Contact(f.contact.id));
    let cutoff = at(100);

    // Resolved long ago, with an attachment: goes, with its messages and the file.
    let old = start_at(s, &f, f.site.id, f.contact.id, 10, "where is parcel amsterdam").await;
    let file = upload(&f, visitor, "invoice.pdf", 10);
    store.create_attachment(&file).await.unwrap();
    post(s, &f, old, NewMessage { attachments: vec![file.clone()], ..text(visitor, "here it is", None) }, 11).await;
    post(s, &f, old, text(agent, "found it in rotterdam", None), 12).await;
    record(s, &f, old, agent, RESOLVED, 20).await;
    // Open, however old: stays.
    let open = start_at(s, &f, f.site.id, f.contact.id, 30, "still waiting").await;
    // Snoozed: stays, it wakes up later.
    let snoozed = start_at(s, &f, f.site.id, f.contact.id, 24, "call me next month").await;
    record(s, &f, snoozed, agent, EventData::StatusChanged { status: Status::Snoozed { until: at(500) } }, 25).await;
    // Last active exactly at the cutoff: exactly N days old is kept.
    let second = contact(f.ws.id, Some(f.site.id));
    store.create_contact(&second).await.unwrap();
    let boundary = start_at(s, &f, f.site.id, second.id, 90, "boundary").await;
    record(s, &f, boundary, agent, RESOLVED, 100).await;
    // A visitor last seen long ago, whose only conversation goes: they go too, with the
    // page they viewed and the file they uploaded but never sent.
    let gone = Contact { last_seen: at(50), ..contact(f.ws.id, Some(f.site.id)) };
    store.create_contact(&gone).await.unwrap();
    let theirs = start_at(s, &f, f.site.id, gone.id, 40, "lisbon order").await;
    record(s, &f, theirs, agent, RESOLVED, 99).await;
    view_page(s, f.ws.id, f.site.id, gone.id, PageView { url: "https://shop.example/a".into(), title: None, referrer: None, at: at(45) })
        .await;
    let unsent = upload(&f, Actor::Contact(gone.id), "draft.pdf", 45);
    store.create_attachment(&unsent).await.unwrap();
    // Page views and tracked events: before the cutoff go, after it stay.
    for day in [5, 150] {
        let view = PageView { url: format!("https://shop.example/{day}"), title: None, referrer: None, at: at(day) };
        view_page(&*store, f.ws.id, f.site.id, f.contact.id, view).await;
        let event = ContactEvent {
            id: ContactEventId::new(),
            workspace_id: f.ws.id,
            contact_id: f.contact.id,
            name: format!("viewed-{day}"),
            data: Attributes::new(),
            at: at(day),
        };
        store.add_contact_event(&event).await.unwrap();
    }
    // Another site of the workspace keeps its own old conversations.
    let other = site(f.ws.id);
    store.create_site(&other).await.unwrap();
    let elsewhere = start_at(s, &f, other.id, f.contact.id, 1, "other site parcel").await;
    record(s, &f, elsewhere, agent, RESOLVED, 2).await;
    assert_eq!(found(s, f.ws.id, "parcel").await.len(), 2, "indexed before the run");

    let preview = store.retention_preview(f.ws.id, f.site.id, cutoff).await.unwrap();
    let expected = RetentionCounts {
        conversations: 2,
        messages: 4,
        attachments: 2,
        page_views: 2,
        contact_events: 1,
        contacts: 1,
        oldest_kept: Some(at(25)),
    };
    assert_eq!(preview, expected);
    assert_eq!(store.purge_site(f.ws.id, f.site.id, cutoff).await.unwrap(), expected, "the run removes what the preview said");

    for id in [old, theirs] {
        assert!(matches!(store.conversation(f.ws.id, id).await, Err(StoreError::NotFound(Entity::Conversation))));
        let events = store.conversation_events(f.ws.id, id, &all(Audience::Agents)).await;
        assert!(matches!(events, Err(StoreError::NotFound(Entity::Conversation))), "no events left: {events:?}");
    }
    for id in [open, snoozed, boundary, elsewhere] {
        store.conversation(f.ws.id, id).await.expect("kept");
    }
    assert_eq!(found(s, f.ws.id, "parcel").await, ["other site parcel"], "search forgets what was deleted");
    assert!(found(s, f.ws.id, "rotterdam").await.is_empty());
    for a in [&file, &unsent] {
        assert!(matches!(store.attachment(f.ws.id, a.id).await, Err(StoreError::NotFound(Entity::Attachment))));
    }
    let mut queued = store.queued_blob_deletions(10).await.unwrap();
    queued.sort();
    let mut keys = vec![file.blob_key.clone(), unsent.blob_key.clone()];
    keys.sort();
    assert_eq!(queued, keys, "the files are queued for deletion");
    assert!(matches!(store.contact(f.ws.id, gone.id).await, Err(StoreError::NotFound(Entity::Contact))));
    store.contact(f.ws.id, second.id).await.expect("a contact with a conversation left stays");
    let views = store.page_views(f.ws.id, f.contact.id, 10).await.unwrap();
    assert_eq!(views.iter().map(|v| v.at).collect::<Vec<_>>(), [at(150)]);
    let events = store.contact_events(f.ws.id, f.contact.id, None, 10).await.unwrap();
    assert_eq!(events.iter().map(|e| e.at).collect::<Vec<_>>(), [at(150)]);

    let again = store.retention_preview(f.ws.id, f.site.id, cutoff).await.unwrap();
    assert_eq!(again, RetentionCounts { oldest_kept: Some(at(25)), ..Default::default() }, "nothing left to remove");
    // The log goes on after a deletion: the next message is numbered, stored and found.
    say(s, &f, open, visitor, "parcel arrived after all").await;
    assert_eq!(found(s, f.ws.id, "parcel").await.len(), 2);
    // Another workspace's site is unknown.
    let stranger = fixture(&*store, "stranger").await;
    assert!(matches!(store.purge_site(stranger.ws.id, f.site.id, cutoff).await, Err(StoreError::NotFound(Entity::Site))));
    assert!(matches!(store.retention_preview(stranger.ws.id, f.site.id, cutoff).await, Err(StoreError::NotFound(Entity::Site))));
    store.conversation(f.ws.id, open).await.expect("untouched by the stranger");
}

/// What [`erased_person`] wrote about the person, as it was stored: after the erasure no
/// row of any table may contain any of these (each backend's own test looks at every
/// table).
pub const ERASED_PERSON_TRACES: &[&str] = &[
    "Zeynep Kaya",
    "zeynep.kaya@example.com",
    "+90 555 010 2030",
    "crm-77812",
    "gold-tier",
    "ZX9988",
    "passport number",
    "Kadıköy",
    "pasaport",
];

/// Seeds a contact with every kind of personal data, a second contact, and an agent's
/// reply; erases the first (tombstones first, as core does) and checks through the
/// store that nothing of them is left. Returns the fixture and the erased contact.
pub async fn erased_person(store: &dyn Store) -> (Fixture, Contact) {
    let f = fixture(store, "erasure").await;
    let mut person = f.contact.clone();
    person.name = Some("Zeynep Kaya".into());
    person.email = Some(Email::parse("zeynep.kaya@example.com").unwrap());
    person.phone = Some("+90 555 010 2030".into());
    person.external_id = Some("crm-77812".into());
    person.attributes.insert("plan".into(), AttributeValue::Text("gold-tier".into()));
    person.device = DeviceInfo { browser: Some("Firefox".into()), os: Some("Linux".into()), device: None, language: Some("tr".into()) };
    store.update_contact(&person).await.unwrap();
    let (me, agent) = (Actor::Contact(person.id), Actor::Agent(f.agent.id));

    let conv = start_at(store, &f, f.site.id, person.id, 1, "my passport number is ZX9988").await;
    let file = upload(&f, me, "pasaport.pdf", 1);
    store.create_attachment(&file).await.unwrap();
    post(store, &f, conv, NewMessage { attachments: vec![file.clone()], ..text(me, "scan attached", None) }, 1).await;
    post(store, &f, conv, text(agent, "Thanks, we received the document", None), 2).await;
    post(store, &f, conv, NewMessage { kind: MessageKind::Note, ..text(agent, "checked the document", None) }, 2).await;
    record(store, &f, conv, agent, RESOLVED, 3).await;
    record(store, &f, conv, me, EventData::Rated { score: 4, comment: Some("fast, thanks from Kadıköy".into()) }, 3).await;
    let later = start_at(store, &f, f.site.id, person.id, 4, "one more question about the passport").await;
    let unsent = upload(&f, me, "draft.pdf", 4);
    store.create_attachment(&unsent).await.unwrap();
    let view = PageView { url: "https://shop.example/account/zeynep".into(), title: Some("Zeynep Kaya".into()), referrer: None, at: at(4) };
    view_page(store, f.ws.id, f.site.id, person.id, view).await;
    let mut data = Attributes::new();
    data.insert("email".into(), AttributeValue::Text("zeynep.kaya@example.com".into()));
    let tracked =
        ContactEvent { id: ContactEventId::new(), workspace_id: f.ws.id, contact_id: person.id, name: "signup".into(), data, at: at(4) };
    store.add_contact_event(&tracked).await.unwrap();
    let request = TranscriptRequest {
        id: TranscriptRequestId::new(),
        workspace_id: f.ws.id,
        conversation_id: conv,
        email: Email::parse("zeynep.kaya@example.com").unwrap(),
        requested_at: at(4),
        sent_at: None,
    };
    store.request_transcript(&request).await.unwrap();
    // Someone else, whose words stay.
    let other = contact(f.ws.id, Some(f.site.id));
    store.create_contact(&other).await.unwrap();
    start_at(store, &f, f.site.id, other.id, 5, "my passport expired").await;
    assert_eq!(found(store, f.ws.id, "passport").await.len(), 3, "indexed before the erasure");

    for id in [conv, later] {
        record(store, &f, id, agent, EventData::ContactErased, 6).await;
    }
    let erased = store.erase_contact(f.ws.id, person.id, at(6)).await.unwrap();
    assert_eq!(erased, Erasure { messages: 3, attachments: 2, page_views: 1, contact_events: 1 });

    assert!(matches!(store.contact(f.ws.id, person.id).await, Err(StoreError::NotFound(Entity::Contact))));
    assert_eq!(store.contact_by_external_id(f.ws.id, "crm-77812").await.unwrap(), None);
    assert!(store.search_contacts(f.ws.id, &search::query_terms("zeynep"), 10).await.unwrap().is_empty());
    assert!(store.search_contacts(f.ws.id, &[], 10).await.unwrap().iter().all(|c| c.id != person.id), "nor listed");
    assert_eq!(found(store, f.ws.id, "passport").await, ["my passport expired"], "only the other visitor's words");
    assert!(found(store, f.ws.id, "ZX9988").await.is_empty());
    assert!(found(store, f.ws.id, "pasaport").await.is_empty(), "nor their attachment's name");
    assert!(store.page_views(f.ws.id, person.id, 10).await.unwrap().is_empty());
    assert!(store.contact_events(f.ws.id, person.id, None, 10).await.unwrap().is_empty());
    assert!(store.transcript_requests(f.ws.id, conv).await.unwrap().is_empty());
    for a in [&file, &unsent] {
        assert!(matches!(store.attachment(f.ws.id, a.id).await, Err(StoreError::NotFound(Entity::Attachment))));
    }
    let mut queued = store.queued_blob_deletions(10).await.unwrap();
    queued.sort();
    let mut keys = vec![file.blob_key.clone(), unsent.blob_key.clone()];
    keys.sort();
    assert_eq!(queued, keys);

    // The conversation stays as the business's record, with the tombstone.
    let events = store.conversation_events(f.ws.id, conv, &all(Audience::Agents)).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.data.kind()).collect();
    assert_eq!(kinds, ["conversation_started", "message", "note", "status_changed", "conversation_rated", "contact_erased"]);
    let bodies: Vec<_> = events.iter().filter_map(|e| e.data.message()).map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["Thanks, we received the document", "checked the document"], "the agents' words stay");
    assert!(events.iter().all(|e| !matches!(&e.data, EventData::Rated { comment: Some(_), .. })), "the rating's words go");
    let kept = store.conversation(f.ws.id, conv).await.unwrap();
    assert_eq!(kept.rating.map(|r| (r.score, r.comment)), Some((4, None)), "the score stays");
    assert_eq!(kept.contact_id, person.id, "the conversation keeps its (empty) contact");

    // Nothing can be added to an erased contact, and it cannot be erased twice.
    let again = PageView { url: "https://shop.example/".into(), title: None, referrer: None, at: at(7) };
    view_page(store, f.ws.id, f.site.id, person.id, again).await;
    assert!(store.page_views(f.ws.id, person.id, 10).await.unwrap().is_empty(), "a page view of theirs is not written");
    assert!(matches!(store.update_contact(&person).await, Err(StoreError::NotFound(Entity::Contact))));
    assert!(matches!(store.erase_contact(f.ws.id, person.id, at(8)).await, Err(StoreError::NotFound(Entity::Contact))));

    // A node that missed the news finds who is gone among its open sockets' contacts.
    let (stranger, unknown) = (fixture(store, "gone").await, ContactId::new());
    let mut gone = store.gone_contacts(f.ws.id, &[person.id, other.id, stranger.contact.id, unknown]).await.unwrap();
    gone.sort();
    let mut want = vec![person.id, stranger.contact.id, unknown];
    want.sort();
    assert_eq!(gone, want, "the erased, another workspace's and an unknown one; not the other visitor");
    assert!(store.gone_contacts(f.ws.id, &[]).await.unwrap().is_empty());
    (f, person)
}

pub async fn erasing_a_contact_removes_their_words_files_and_traces_and_keeps_a_tombstone(store: Arc<dyn Store>) {
    let (f, _) = erased_person(&*store).await;
    // Another workspace cannot erase this one's contacts.
    let stranger = fixture(&*store, "stranger").await;
    assert!(matches!(store.erase_contact(stranger.ws.id, f.contact.id, at(9)).await, Err(StoreError::NotFound(Entity::Contact))));
    assert!(matches!(store.erase_contact(f.ws.id, stranger.contact.id, at(9)).await, Err(StoreError::NotFound(Entity::Contact))));
    store.contact(stranger.ws.id, stranger.contact.id).await.expect("untouched");
}

pub async fn blob_deletions_stay_queued_until_done(store: Arc<dyn Store>) {
    let (_, _) = erased_person(&*store).await;
    let queued = store.queued_blob_deletions(1).await.unwrap();
    assert_eq!(queued.len(), 1, "at most the limit");
    store.blobs_deleted(&queued).await.unwrap();
    let rest = store.queued_blob_deletions(10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_ne!(rest, queued);
    store.blobs_deleted(&rest).await.unwrap();
    store.blobs_deleted(&rest).await.expect("forgetting twice is harmless");
    assert!(store.queued_blob_deletions(10).await.unwrap().is_empty());
}
