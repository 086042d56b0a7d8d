//! Privacy: a site keeps conversations only as long as its retention says (a daily job
//! driven by the server's clock), a person is erased on request and nothing of them is
//! left, and everything held about a person can be exported. Owners and admins only.

use std::path::Path;
use std::sync::Arc;

use reqwest::StatusCode;
use switchboard_core::{Clock, JobOutcome, ManualClock};
use switchboard_domain::Timestamp;
use switchboard_testkit::proto::{
    AgentOut, ConversationStatus, ErrorCode, EventBody, Role, SiteRequest, StatusRequest, UpdateContact, VisitorIn, VisitorOut,
};
use switchboard_testkit::{Api, Seed, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::{PNG_3X2, api_token, assert_invalid, assert_refused, caught_up_agent, new_agent, visitor_with_conversation};

const DAY: i64 = 24 * 60 * 60 * 1000;

/// Files under the app's data directory named `name` (an attachment's id).
fn files_named(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut found = vec![];
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(name)) {
                found.push(path);
            }
        }
    }
    found
}

/// A visitor who gave their details, viewed a page, tracked an event, uploaded a file and
/// sent it, in a conversation the owner answered. Returns the socket, the conversation,
/// the contact and the attachment's id.
async fn a_person(app: &TestApp, seed: &Seed, owner: &Api) -> (VisitorSocket, Uuid, Uuid, Uuid) {
    let (mut visitor, conv) = visitor_with_conversation(app, seed, "z-1", "my passport number is ZX9988").await;
    let contact = visitor.contact_id();
    // The visitor's own request: their token, not the team's credentials.
    let file = Api::new(app.url("")).widget_upload(&seed.site.public_key, visitor.token(), "pasaport.png", PNG_3X2.to_vec()).await.unwrap();
    let send = VisitorIn::Send {
        client_id: "z-2".into(),
        conversation_id: Some(conv),
        body: "scan from Kadıköy attached".into(),
        format: None,
        attachment_ids: vec![file.id],
        pow: None,
        invitation_id: None,
        team_id: None,
    };
    visitor.send(&send).await.unwrap();
    expect_frame!(visitor, VisitorOut::Ack { .. }).unwrap();
    visitor
        .send(&VisitorIn::Page {
            url: "https://shop.example/account/zeynep".into(),
            title: Some("Zeynep".into()),
            referrer: None,
            again: false,
        })
        .await
        .unwrap();
    let data = [("plan".to_owned(), serde_json::json!("gold-tier"))].into();
    visitor.send(&VisitorIn::Track { name: "signup".into(), data }).await.unwrap();
    visitor.send(&VisitorIn::Ping).await.unwrap();
    expect_frame!(visitor, VisitorOut::Pong).unwrap();
    let details = UpdateContact {
        name: Some(Some("Zeynep Kaya".into())),
        email: Some(Some("zeynep.kaya@example.com".into())),
        phone: Some(Some("+90 555 010 2030".into())),
        ..Default::default()
    };
    owner.update_contact(contact, &details).await.unwrap();
    owner.reply(conv, &reply("Thanks, we received the document")).await.unwrap();
    (visitor, conv, contact, file.id)
}

fn reply(body: &str) -> switchboard_testkit::proto::Reply {
    switchboard_testkit::proto::Reply { body: body.into(), ..Default::default() }
}

async fn search_hits(api: &Api, q: &str) -> (usize, usize) {
    let found = api.search(q).await.unwrap();
    (found.hits.len(), found.contacts.len())
}

#[tokio::test]
async fn an_erased_person_leaves_nothing_but_a_tombstone_in_their_conversations() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (visitor, conv, contact, file) = a_person(&app, &seed, &owner).await;
    let token = visitor.token().to_owned();
    let mut agent = caught_up_agent(&app, &secret).await;
    // Someone else, whose words stay.
    visitor_with_conversation(&app, &seed, "o-1", "my passport expired").await;

    assert_eq!(search_hits(&owner, "passport").await, (2, 0));
    assert_eq!(search_hits(&owner, "zeynep").await.1, 1);
    assert_eq!(files_named(app.data_dir(), &file.to_string()).len(), 1, "the upload is on the disk");

    let report = owner.erase_contact(contact).await.unwrap();
    assert_eq!(
        (report.conversations, report.messages, report.attachments, report.page_views, report.contact_events),
        (1, 2, 1, 1, 1),
        "{report:?}"
    );
    let tombstone = expect_frame!(agent, AgentOut::Event { event } if matches!(event.body, EventBody::ContactErased) => event).unwrap();
    assert_eq!(tombstone.conversation_id, conv, "the team hears the tombstone live");

    // Search finds nothing of them; the API returns nothing of them.
    assert_eq!(search_hits(&owner, "passport").await, (1, 0), "only the other visitor's words");
    for q in ["ZX9988", "Kadıköy", "pasaport", "zeynep", "zeynep.kaya@example.com", "555"] {
        assert_eq!(search_hits(&owner, q).await, (0, 0), "{q}");
    }
    assert_refused(owner.contact(contact).await, StatusCode::NOT_FOUND, ErrorCode::ContactNotFound);
    assert_refused(owner.contact_pages(contact).await, StatusCode::NOT_FOUND, ErrorCode::ContactNotFound);
    assert_refused(owner.export_contact(contact).await, StatusCode::NOT_FOUND, ErrorCode::ContactNotFound);
    assert_refused(owner.erase_contact(contact).await, StatusCode::NOT_FOUND, ErrorCode::ContactNotFound);
    assert_refused(owner.attachment(file).await, StatusCode::NOT_FOUND, ErrorCode::AttachmentNotFound);
    let listed = owner.contacts("").await.unwrap();
    assert!(listed.iter().all(|c| c.id != contact), "nor listed");
    // No file is left on the disk.
    assert_eq!(files_named(app.data_dir(), &file.to_string()), Vec::<std::path::PathBuf>::new());

    // The conversation stays, with the team's words and the tombstone.
    let history = owner.history(conv, &Default::default()).await.unwrap();
    let tombstones = history.items.iter().filter(|e| matches!(e.body, EventBody::ContactErased)).count();
    assert_eq!(tombstones, 1, "{history:?}");
    let bodies: Vec<_> = history.items.iter().filter_map(|e| e.body.message()).map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["Thanks, we received the document"]);
    owner.conversation(conv).await.expect("the conversation stays");

    // Their token no longer opens a session.
    let refused = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await;
    assert!(refused.is_err(), "an erased visitor's token is refused");
}

/// A person erased while their chat is open, in two tabs: both sockets are told their
/// token no longer works and are closed at once, and the token opens no new one.
#[tokio::test]
async fn an_erased_persons_open_sockets_are_told_and_closed() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (mut tab, _conv) = visitor_with_conversation(&app, &seed, "e-1", "please delete my data").await;
    let contact = tab.contact_id();
    let token = tab.token().to_owned();
    let mut other_tab = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    let (mut someone_else, _) = visitor_with_conversation(&app, &seed, "s-1", "hello").await;

    owner.erase_contact(contact).await.unwrap();

    for socket in [&mut tab, &mut other_tab] {
        let told = expect_frame!(socket, VisitorOut::Error { code, .. } => code).expect("told before the close");
        assert_eq!(told, ErrorCode::InvalidToken);
        assert!(socket.next().await.is_err(), "the socket was closed");
    }
    match VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await {
        Err(switchboard_testkit::SocketError::Refused { code, .. }) => assert_eq!(code, ErrorCode::InvalidToken),
        other => panic!("the erased visitor's token should be refused, got {:?}", other.map(|_| ())),
    }
    // Nobody else's socket was touched.
    someone_else.send(&VisitorIn::Ping).await.unwrap();
    expect_frame!(someone_else, VisitorOut::Pong).expect("another visitor's socket stays open");
}

#[tokio::test]
async fn an_export_holds_everything_about_the_person_with_download_links() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_visitor, conv, contact, file) = a_person(&app, &seed, &owner).await;

    let export = owner.export_contact(contact).await.unwrap();
    assert_eq!(export.contact.id, contact);
    assert_eq!(export.contact.name.as_deref(), Some("Zeynep Kaya"));
    assert_eq!(export.contact.email.as_deref(), Some("zeynep.kaya@example.com"));
    assert_eq!(export.conversations.len(), 1);
    assert_eq!(export.conversations[0].conversation.id, conv);
    let bodies: Vec<_> = export.conversations[0].events.iter().filter_map(|e| e.body.message()).map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["my passport number is ZX9988", "scan from Kadıköy attached", "Thanks, we received the document"]);
    assert_eq!(export.page_views.iter().map(|p| p.url.as_str()).collect::<Vec<_>>(), ["https://shop.example/account/zeynep"]);
    assert_eq!(export.events.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["signup"]);
    assert_eq!(export.attachments.len(), 1);
    assert_eq!(export.attachments[0].id, file);
    assert_eq!(export.attachments[0].url, format!("/api/v1/attachments/{file}"));
    let bytes = owner.attachment(file).await.unwrap();
    assert_eq!(bytes, PNG_3X2, "the link downloads the file");
}

#[tokio::test]
async fn only_owners_and_admins_export_or_erase_and_strangers_ids_are_unknown() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_visitor, _conv, contact, _) = a_person(&app, &seed, &owner).await;
    let (_, agent) = new_agent(&app, &owner, "agent@acme.example", Role::Agent).await;
    let (_, admin) = new_agent(&app, &owner, "admin@acme.example", Role::Admin).await;

    assert_refused(agent.export_contact(contact).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(agent.erase_contact(contact).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(agent.retention_preview(seed.site.id.0, None).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    owner.contact(contact).await.expect("an agent's refusal changed nothing");

    let other = app.seed("globex").await;
    let stranger = app.owner(&other).await;
    for id in [contact, Uuid::now_v7()] {
        assert_refused(stranger.export_contact(id).await, StatusCode::NOT_FOUND, ErrorCode::ContactNotFound);
        assert_refused(stranger.erase_contact(id).await, StatusCode::NOT_FOUND, ErrorCode::ContactNotFound);
    }
    for id in [seed.site.id.0, Uuid::now_v7()] {
        assert_refused(stranger.retention_preview(id, None).await, StatusCode::NOT_FOUND, ErrorCode::SiteNotFound);
    }
    owner.contact(contact).await.expect("a stranger's attempt changed nothing");

    admin.export_contact(contact).await.expect("admins export");
    admin.erase_contact(contact).await.expect("admins erase");
}

#[tokio::test]
async fn retention_is_one_day_to_ten_years_or_forever() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    for bad in [0, -1, 3651] {
        let change = SiteRequest { retention_days: Some(Some(bad)), ..Default::default() };
        assert_invalid(owner.update_site(seed.site.id.0, &change).await, "retention_days");
        assert_invalid(owner.retention_preview(seed.site.id.0, Some(bad)).await, "retention_days");
    }
    let site = owner.update_site(seed.site.id.0, &SiteRequest { retention_days: Some(Some(3650)), ..Default::default() }).await.unwrap();
    assert_eq!(site.retention_days, Some(3650));
    let site = owner.update_site(seed.site.id.0, &SiteRequest { name: Some("Renamed".into()), ..Default::default() }).await.unwrap();
    assert_eq!(site.retention_days, Some(3650), "absent leaves it");
    let site = owner.update_site(seed.site.id.0, &SiteRequest { retention_days: Some(None), ..Default::default() }).await.unwrap();
    assert_eq!(site.retention_days, None, "null keeps everything");
    let preview = owner.retention_preview(seed.site.id.0, None).await.unwrap();
    assert_eq!((preview.retention_days, preview.cutoff, preview.conversations), (None, None, 0));
}

async fn resolve(owner: &Api, conv: Uuid) {
    owner.set_status(conv, &StatusRequest { status: ConversationStatus::Resolved, snoozed_until: None }).await.unwrap();
}

#[tokio::test]
async fn retention_runs_daily_on_the_servers_clock_and_removes_what_its_preview_said() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let t0 = clock.now();
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    // A token, since a session would expire while the clock moves a month.
    let owner = Api::with_token(app.url(""), &api_token(&app.owner(&seed).await, Role::Owner).await);
    let secret = api_token(&owner, Role::Agent).await;
    let site = owner.update_site(seed.site.id.0, &SiteRequest { retention_days: Some(Some(30)), ..Default::default() }).await.unwrap();
    assert_eq!(site.retention_days, Some(30));

    // Resolved at t0, with a file: goes once it is more than 30 days old.
    let (mut old_visitor, old, _, file) = a_person(&app, &seed, &owner).await;
    let old_token = old_visitor.token().to_owned();
    resolve(&owner, old).await;
    // The same visitor asks something else, still open: they stay, with their token.
    old_visitor.say(None, "z-3", "another question").await.unwrap();
    // Open since t0: stays, however old.
    let (_, open) = visitor_with_conversation(&app, &seed, "b-1", "still waiting for an answer").await;
    clock.advance(DAY);
    // Resolved a day later: exactly 30 days old when the other goes, so it stays.
    let (_, boundary) = visitor_with_conversation(&app, &seed, "c-1", "boundary question").await;
    resolve(&owner, boundary).await;
    let mut agent = caught_up_agent(&app, &secret).await;

    // The first run, a day after the setting was saved, finds nothing old enough.
    let ran = app.run_pending_jobs().await;
    assert_eq!(ran.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>(), [JobOutcome::Done]);
    owner.conversation(old).await.expect("not yet");

    clock.advance(30 * DAY);
    let preview = owner.retention_preview(seed.site.id.0, None).await.unwrap();
    assert_eq!(preview.retention_days, Some(30));
    assert_eq!(preview.cutoff, Some(clock.now().0 - 30 * DAY));
    assert_eq!(
        (preview.conversations, preview.messages, preview.attachments, preview.page_views, preview.contact_events, preview.contacts),
        (1, 3, 1, 1, 1, 0),
        "{preview:?}"
    );
    assert_eq!(preview.oldest_kept_at, Some(t0.0), "the open conversation, kept since t0");
    let longer = owner.retention_preview(seed.site.id.0, Some(365)).await.unwrap();
    assert_eq!((longer.retention_days, longer.conversations), (Some(365), 0), "an unsaved setting previews too");

    let ran = app.run_pending_jobs().await;
    assert_eq!(ran.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>(), [JobOutcome::Done]);
    assert_refused(owner.conversation(old).await, StatusCode::NOT_FOUND, ErrorCode::ConversationNotFound);
    owner.conversation(open).await.expect("open conversations stay");
    owner.conversation(boundary).await.expect("exactly 30 days old stays");
    assert_eq!(search_hits(&owner, "ZX9988").await, (0, 0), "its words left the search index");
    assert_eq!(files_named(app.data_dir(), &file.to_string()), Vec::<std::path::PathBuf>::new(), "and its file the disk");
    let after = owner.retention_preview(seed.site.id.0, None).await.unwrap();
    assert_eq!(
        (after.conversations, after.messages, after.attachments, after.page_views),
        (0, 0, 0, 0),
        "the run did what the preview said"
    );

    // Cursors stay valid: the agent's feed goes on, and the visitor resuming the deleted
    // conversation is told it is gone.
    owner.reply(open, &reply("Sorry for the wait")).await.unwrap();
    let next = expect_frame!(agent, AgentOut::Event { event } if event.conversation_id == open => event).unwrap();
    assert!(matches!(next.body, EventBody::Message { .. }));
    let cursor = switchboard_testkit::proto::Cursor { conversation_id: old, after_seq: 0 };
    let mut back = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&old_token), vec![cursor]).await.unwrap();
    let gone = expect_frame!(back, VisitorOut::Error { code, reference, .. } => (code, reference)).unwrap();
    assert_eq!(gone, (ErrorCode::ConversationNotFound, Some(old.to_string())));

    // It comes back daily; without retention it stops.
    assert!(app.run_pending_jobs().await.is_empty(), "not due again until tomorrow");
    owner.update_site(seed.site.id.0, &SiteRequest { retention_days: Some(None), ..Default::default() }).await.unwrap();
    clock.advance(DAY);
    assert_eq!(app.run_pending_jobs().await.len(), 1, "the last run finds no retention");
    clock.advance(DAY);
    assert!(app.run_pending_jobs().await.is_empty(), "and schedules none");
}
