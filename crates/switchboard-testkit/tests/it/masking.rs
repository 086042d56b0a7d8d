//! Stories about masking at the point of entry: card numbers are always masked, and a
//! site that asks also masks e-mails and phones, on every path that writes — a visitor's
//! message, an agent's reply and note over REST and the socket, an integration's reply,
//! the pre-chat form and contact attributes, the contact edited by an agent — so the
//! store (log, contact, search index) never holds the original.

use switchboard_domain::{ContactId, ConversationId};
use switchboard_store::{Audience, EventQuery};
use switchboard_testkit::proto::{Masking, Reply, Role, SiteRequest, UpdateContact, VisitorIn, VisitorOut};
use switchboard_testkit::{Api, Seed, TestApp};
use uuid::Uuid;

use crate::support::*;

const CARD: &str = "4111 1111 1111 1111";
const CARD_MASKED: &str = "•••• •••• •••• ••••";

/// Every message body the store holds for the conversation, agents' view.
async fn stored_bodies(app: &TestApp, seed: &Seed, conversation: Uuid) -> Vec<String> {
    let query = EventQuery::replay(0, 1000, Audience::Agents);
    let events = app.core.store.conversation_events(seed.workspace.id, ConversationId(conversation), &query).await.unwrap();
    events.iter().filter_map(|e| e.data.message()).map(|m| m.body.clone()).collect()
}

async fn masking_site(app: &TestApp, seed: &Seed, owner: &Api) {
    let change = SiteRequest { masking: Some(Masking { emails: true, phones: true }), ..SiteRequest::default() };
    let site = owner.update_site(seed.site.id.0, &change).await.unwrap();
    assert!(site.masking.emails && site.masking.phones);
    let _ = app;
}

#[tokio::test]
async fn a_card_number_is_masked_on_every_message_path_and_never_reaches_the_store_or_the_index() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let (mut visitor, conversation) = visitor_with_conversation(&app, &seed, "v-1", &format!("my card is {CARD}")).await;
    let ack = visitor.say(Some(conversation), "v-2", "and ٤١١١-١١١١-١١١١-١١١١ too").await.unwrap();
    assert_eq!(ack.message.body, "and ••••-••••-••••-•••• too", "the visitor sees what was stored");

    owner
        .reply(conversation, &Reply { client_id: Some("r-1".into()), body: format!("you wrote {CARD}?"), ..Reply::default() })
        .await
        .unwrap();
    owner.note(conversation, &Reply { client_id: Some("n-1".into()), body: format!("note: {CARD}"), ..Reply::default() }).await.unwrap();
    let secret = api_token(&owner, Role::Admin).await;
    let integration = Api::with_token(app.url(""), &secret);
    integration
        .reply(conversation, &Reply { client_id: Some("i-1".into()), body: format!("bot saw {CARD}"), ..Reply::default() })
        .await
        .unwrap();
    let mut socket = caught_up_agent(&app, &secret).await;
    socket.say(conversation, "s-1", &format!("socket {CARD}"), false).await.unwrap();
    socket.say(conversation, "s-2", &format!("socket note {CARD}"), true).await.unwrap();

    let bodies = stored_bodies(&app, &seed, conversation).await;
    assert_eq!(
        bodies,
        [
            format!("my card is {CARD_MASKED}"),
            "and ••••-••••-••••-•••• too".into(),
            format!("you wrote {CARD_MASKED}?"),
            format!("note: {CARD_MASKED}"),
            format!("bot saw {CARD_MASKED}"),
            format!("socket {CARD_MASKED}"),
            format!("socket note {CARD_MASKED}"),
        ]
    );
    assert!(owner.search("4111").await.unwrap().messages.is_empty(), "the search index never saw the digits");
    assert_eq!(owner.search("bot").await.unwrap().messages.len(), 1, "while the rest of the message is indexed");
}

#[tokio::test]
async fn emails_and_phones_are_masked_only_on_sites_that_ask() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let text = "mail ana@example.com or call +1 555 010 4477";
    let (_, plain) = visitor_with_conversation(&app, &seed, "v-1", text).await;
    assert_eq!(stored_bodies(&app, &seed, plain).await, [text], "cards only by default");

    masking_site(&app, &seed, &owner).await;
    let (_, masked) = visitor_with_conversation(&app, &seed, "v-2", text).await;
    owner
        .reply(masked, &Reply { client_id: Some("r-1".into()), body: "we'll write to ana@example.com".into(), ..Reply::default() })
        .await
        .unwrap();
    assert_eq!(stored_bodies(&app, &seed, masked).await, ["mail •••@••• or call +• ••• ••• ••••", "we'll write to •••@•••"]);
}

#[tokio::test]
async fn the_prechat_form_attributes_and_an_agents_edit_of_a_contact_are_masked_before_they_are_stored() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    masking_site(&app, &seed, &owner).await;
    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = match &visitor.welcome {
        Some(VisitorOut::Welcome { contact_id, .. }) => ContactId(*contact_id),
        other => panic!("{other:?}"),
    };
    let attributes = [("order_note".to_owned(), serde_json::json!(format!("pay with {CARD}")))].into_iter().collect();
    let profile = VisitorIn::Profile {
        name: Some("Ana".into()),
        email: Some("ana@example.com".into()),
        phone: Some("+90 532 123 45 67".into()),
        attributes,
    };
    visitor.send(&profile).await.unwrap();
    assert_usable(&mut visitor).await;
    let stored = app.core.store.contact(seed.workspace.id, contact).await.unwrap();
    assert_eq!(stored.email, None, "a masked e-mail is no address: it is not kept");
    assert_eq!(stored.phone.as_deref(), Some("+•• ••• ••• •• ••"));
    let note = format!("{:?}", stored.attributes.get("order_note"));
    assert!(note.contains(CARD_MASKED) && !note.contains("4111"), "{note}");
    assert!(owner.contacts("5321234567").await.unwrap().is_empty(), "nor is the phone searchable");

    let edit =
        UpdateContact { name: Some(Some(format!("Ana {CARD}"))), phone: Some(Some("0532 123 45 67".into())), ..UpdateContact::default() };
    let edited = owner.update_contact(contact.0, &edit).await.unwrap();
    assert_eq!((edited.name.as_deref(), edited.phone.as_deref()), (Some(format!("Ana {CARD_MASKED}").as_str()), Some("•••• ••• •• ••")));
    let stored = app.core.store.contact(seed.workspace.id, contact).await.unwrap();
    assert_eq!(stored.name.as_deref(), Some(format!("Ana {CARD_MASKED}").as_str()));
}
