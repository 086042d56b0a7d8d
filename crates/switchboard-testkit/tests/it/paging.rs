//! Walking long lists page by page: a conversation's history backwards (scrolling up)
//! and forwards (catching up), and the inbox when the server caps the page size.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_testkit::TestApp;

use crate::support::{ids, sorted, visitor_with_conversation};

fn seqs(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_conversations_history_pages_backwards_and_forwards() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "one").await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    for i in 0..5 {
        owner.ok(Method::POST, &path, Some(json!({"body": format!("reply {i}")}))).await;
    }
    let get = |query: String| {
        let owner = owner.clone();
        let path = format!("{path}?{query}");
        async move { owner.ok(Method::GET, &path, None).await }
    };

    // Scrolling back from the newest: each page oldest first, the cursor is its oldest seq.
    let newest = get("limit=3".into()).await;
    assert_eq!((seqs(&newest), newest["next_cursor"].clone()), (vec![5, 6, 7], json!("5")));
    let older = get("limit=3&before_seq=5".into()).await;
    assert_eq!((seqs(&older), older["next_cursor"].clone()), (vec![2, 3, 4], json!("2")));
    let oldest = get("limit=3&before_seq=2".into()).await;
    assert_eq!((seqs(&oldest), oldest["next_cursor"].clone()), (vec![1], Value::Null));

    // Catching up from a seq: oldest first, the cursor is the last seq.
    let first = get("after_seq=0&limit=3".into()).await;
    assert_eq!((seqs(&first), first["next_cursor"].clone()), (vec![1, 2, 3], json!("3")));
    let second = get("after_seq=3&limit=3".into()).await;
    assert_eq!((seqs(&second), second["next_cursor"].clone()), (vec![4, 5, 6], json!("6")));
    let last = get("after_seq=6&limit=3".into()).await;
    assert_eq!((seqs(&last), last["next_cursor"].clone()), (vec![7], Value::Null));
    assert_eq!(last["items"][0]["message"]["body"], "reply 4");
}

/// The server caps every page at `limits.max_page`. A client that asks for more gets a
/// short page, and must still be told where the next one starts, or it stops early.
#[tokio::test]
async fn a_page_cut_short_by_the_servers_cap_still_has_a_next_cursor() {
    let limits = switchboard_core::Limits { max_page: 3, ..switchboard_core::Limits::default() };
    let app = TestApp::spawn_with(switchboard_server::ServerConfig::default(), limits).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let mut all = vec![];
    for i in 0..5 {
        all.push(visitor_with_conversation(&app, &seed, "v-1", &format!("question {i}")).await.1);
    }

    for first_query in ["limit=10", ""] {
        let mut seen = vec![];
        let mut query = first_query.to_owned();
        for _ in 0..5 {
            let page = owner.ok(Method::GET, &format!("/api/v1/conversations?{query}"), None).await;
            assert!(page["items"].as_array().unwrap().len() <= 3);
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => query = format!("{first_query}&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(sorted(seen), sorted(all.clone()), "paging with `{first_query}` stopped early");
    }

    let conv = &all[0];
    for i in 0..3 {
        owner.ok(Method::POST, &format!("/api/v1/conversations/{conv}/messages"), Some(json!({"body": format!("reply {i}")}))).await;
    }
    let page = owner.ok(Method::GET, &format!("/api/v1/conversations/{conv}/messages?after_seq=0&limit=10"), None).await;
    assert_eq!(seqs(&page), [1, 2, 3]);
    assert_eq!(page["next_cursor"], "3", "there are 5 events; the page holds 3");
}
