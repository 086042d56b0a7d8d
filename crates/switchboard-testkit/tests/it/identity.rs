//! Identity verification: the business vouches for its logged-in user with an HMAC,
//! and that user finds the same contact and conversations on any device.

use switchboard_testkit::proto::{ErrorCode, Reply, VisitorIn, VisitorOut};
use switchboard_testkit::{TestApp, VisitorSocket, expect_frame};

#[tokio::test]
async fn an_identified_visitor_finds_their_conversations_on_another_device() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    // What the business's server computes and hands to its page.
    let user_hash = switchboard_core::auth::identity_hash(&seed.site.identity_secret, "user-42");
    let identify = VisitorIn::Identify {
        external_id: "user-42".into(),
        user_hash: Some(user_hash),
        name: Some("Ana".into()),
        email: Some("ana@shop.example".into()),
        phone: None,
    };

    let mut laptop = app.visitor_socket(&seed.site).await;
    let laptop_contact = laptop.contact_id();
    laptop.send(&identify).await.unwrap();
    let (contact_id, conversations) =
        expect_frame!(laptop, VisitorOut::Identified { contact_id, conversations, .. } => (contact_id, conversations)).unwrap();
    assert_eq!(contact_id, laptop_contact, "a first identification names the current contact");
    assert!(conversations.is_empty(), "{conversations:?}");
    let conv = laptop.say(None, "l-1", "Question from my laptop").await.unwrap().conversation_id;
    expect_frame!(laptop, VisitorOut::CaughtUp { .. }).unwrap();

    let mut phone = app.visitor_socket(&seed.site).await;
    assert_ne!(phone.contact_id(), laptop_contact);
    let VisitorIn::Identify { external_id, name, email, phone: number, .. } = identify.clone() else { unreachable!() };
    let forged_hash = switchboard_core::auth::identity_hash("not the secret", "user-42");
    phone.send(&VisitorIn::Identify { external_id, user_hash: Some(forged_hash), name, email, phone: number }).await.unwrap();
    let (code, message) = expect_frame!(phone, VisitorOut::Error { code, message, .. } => (code, message)).unwrap();
    assert_eq!(code, ErrorCode::ValidationFailed);
    assert!(message.contains("user_hash"), "{message}");

    phone.send(&identify).await.unwrap();
    let (token, contact_id, conversations) = expect_frame!(
        phone,
        VisitorOut::Identified { token, contact_id, conversations } => (token, contact_id, conversations)
    )
    .unwrap();
    assert_eq!(contact_id, laptop_contact);
    assert_eq!(conversations.iter().map(|c| c.id).collect::<Vec<_>>(), [conv]);
    let caught_up = expect_frame!(phone, VisitorOut::CaughtUp { conversation_id, seq } => (conversation_id, seq)).unwrap();
    assert_eq!(caught_up, (conv, 2));

    // Both devices follow the conversation live.
    owner.reply(conv, &Reply { body: "Hi Ana!".into(), ..Reply::default() }).await.unwrap();
    for device in [&mut phone, &mut laptop] {
        let event = expect_frame!(device, VisitorOut::Event { event } => event).unwrap();
        assert_eq!(event.body.message().map(|m| m.body.as_str()), Some("Hi Ana!"));
    }

    // The new token is Ana's from now on.
    let later = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    assert_eq!(later.contact_id(), laptop_contact);
    let contact = owner.contact(laptop_contact).await.unwrap();
    assert_eq!(
        (contact.external_id.as_deref(), contact.name.as_deref(), contact.email.as_deref()),
        (Some("user-42"), Some("Ana"), Some("ana@shop.example"))
    );
}
