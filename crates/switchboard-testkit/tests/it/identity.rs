//! Identity verification: the business vouches for its logged-in user with an HMAC,
//! and that user finds the same contact and conversations on any device.

use reqwest::Method;
use serde_json::json;
use switchboard_testkit::{TestApp, Ws};

use crate::support::expect_error;

#[tokio::test]
async fn an_identified_visitor_finds_their_conversations_on_another_device() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    // What the business's server computes and hands to its page.
    let user_hash = switchboard_core::auth::identity_hash(&seed.site.identity_secret, "user-42");
    let identify =
        json!({"type": "identify", "external_id": "user-42", "user_hash": user_hash, "name": "Ana", "email": "ana@shop.example"});

    let mut laptop = app.visitor(&seed.site).await;
    let laptop_contact = laptop.welcome["contact_id"].clone();
    laptop.send(identify.clone()).await;
    let identified = laptop.expect("identified").await;
    assert_eq!(identified["contact_id"], laptop_contact, "a first identification names the current contact");
    assert_eq!(identified["conversations"], json!([]));
    let conv = laptop.say(None, "l-1", "Question from my laptop").await["conversation_id"].as_str().unwrap().to_owned();
    laptop.expect("caught_up").await;

    let mut phone = app.visitor(&seed.site).await;
    assert_ne!(phone.welcome["contact_id"], laptop_contact);
    let mut forged = identify.clone();
    forged["user_hash"] = json!(switchboard_core::auth::identity_hash("not the secret", "user-42"));
    phone.send(forged).await;
    let refused = expect_error(&mut phone, "validation_failed").await;
    assert!(refused["message"].as_str().unwrap().contains("user_hash"), "{refused}");

    phone.send(identify).await;
    let identified = phone.expect("identified").await;
    assert_eq!(identified["contact_id"], laptop_contact);
    let ids: Vec<_> = identified["conversations"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, [json!(conv)]);
    let caught_up = phone.expect("caught_up").await;
    assert_eq!((caught_up["conversation_id"].as_str(), caught_up["seq"].as_i64()), (Some(conv.as_str()), Some(2)));

    // Both devices follow the conversation live.
    owner.ok(Method::POST, &format!("/api/v1/conversations/{conv}/messages"), Some(json!({"body": "Hi Ana!"}))).await;
    assert_eq!(phone.expect("event").await["event"]["message"]["body"], "Hi Ana!");
    assert_eq!(laptop.expect("event").await["event"]["message"]["body"], "Hi Ana!");

    // The new token is Ana's from now on.
    let token = identified["token"].as_str().unwrap();
    let later = Ws::visitor(app.addr, &seed.site.public_key, Some(token), None).await;
    assert_eq!(later.welcome["contact_id"], laptop_contact);
    let contact = owner.ok(Method::GET, &format!("/api/v1/contacts/{}", laptop_contact.as_str().unwrap()), None).await;
    assert_eq!(
        (contact["external_id"].as_str(), contact["name"].as_str(), contact["email"].as_str()),
        (Some("user-42"), Some("Ana"), Some("ana@shop.example"))
    );
}
