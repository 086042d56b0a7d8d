//! Walking long lists page by page: a conversation's history backwards (scrolling up)
//! and forwards (catching up), and the inbox when the server caps the page size.

use switchboard_testkit::proto::{Event, Page, Reply};
use switchboard_testkit::{ConversationFilter, HistoryFilter, TestApp};

use crate::support::{ids, sorted, visitor_with_conversation};

fn seqs(page: &Page<Event>) -> Vec<i64> {
    page.items.iter().map(|e| e.seq).collect()
}

fn reply(body: String) -> Reply {
    Reply { body, ..Reply::default() }
}

#[tokio::test]
async fn a_conversations_history_pages_backwards_and_forwards() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "one").await;
    for i in 0..5 {
        owner.reply(conv, &reply(format!("reply {i}"))).await.unwrap();
    }
    let get = |after_seq, before_seq| {
        let owner = owner.clone();
        async move { owner.history(conv, &HistoryFilter { after_seq, before_seq, limit: Some(3) }).await.unwrap() }
    };
    let cursor = |c: &str| Some(c.to_owned());

    // Scrolling back from the newest: each page oldest first, the cursor is its oldest seq.
    let newest = get(None, None).await;
    assert_eq!((seqs(&newest), newest.next_cursor), (vec![5, 6, 7], cursor("5")));
    let older = get(None, Some(5)).await;
    assert_eq!((seqs(&older), older.next_cursor), (vec![2, 3, 4], cursor("2")));
    let oldest = get(None, Some(2)).await;
    assert_eq!((seqs(&oldest), oldest.next_cursor), (vec![1], None));

    // Catching up from a seq: oldest first, the cursor is the last seq.
    let first = get(Some(0), None).await;
    assert_eq!((seqs(&first), first.next_cursor), (vec![1, 2, 3], cursor("3")));
    let second = get(Some(3), None).await;
    assert_eq!((seqs(&second), second.next_cursor), (vec![4, 5, 6], cursor("6")));
    let last = get(Some(6), None).await;
    assert_eq!((seqs(&last), last.next_cursor.clone()), (vec![7], None));
    assert_eq!(last.items[0].body.message().map(|m| m.body.as_str()), Some("reply 4"));
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

    for asked in [Some(10), None] {
        let mut seen = vec![];
        let mut filter = ConversationFilter { limit: asked, ..ConversationFilter::default() };
        for _ in 0..5 {
            let page = owner.conversations(&filter).await.unwrap();
            assert!(page.items.len() <= 3);
            seen.extend(ids(&page));
            match page.next_cursor {
                Some(c) => filter.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(sorted(seen), sorted(all.clone()), "paging with limit {asked:?} stopped early");
    }

    let conv = all[0];
    for i in 0..3 {
        owner.reply(conv, &reply(format!("reply {i}"))).await.unwrap();
    }
    let page = owner.history(conv, &HistoryFilter { after_seq: Some(0), limit: Some(10), ..HistoryFilter::default() }).await.unwrap();
    assert_eq!(seqs(&page), [1, 2, 3]);
    assert_eq!(page.next_cursor.as_deref(), Some("3"), "there are 5 events; the page holds 3");
}
