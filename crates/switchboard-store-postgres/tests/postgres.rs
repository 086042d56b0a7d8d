//! PostgreSQL-specific checks beyond the contract suite: the schema matches SQLite's,
//! several nodes writing one workspace keep the feed gapless, a writer that loses a
//! deadlock retries, overlong words are indexed, backups restore, and a database an
//! earlier version wrote keeps its messages through the upgrade, an erased person
//! leaves nothing in any table, and a copy from SQLite interrupted half-way leaves nothing.

use std::collections::BTreeSet;
use std::sync::Arc;

use sqlx::Row;
use switchboard_domain::*;
use switchboard_services::EphemeralPostgres;
use switchboard_store::testing::{ERASED_PERSON_TRACES, erased_person, fixture, say, start, upgrade_0004, upgrade_0006};
use switchboard_store::{Log, Search, Store, StoreError};
use switchboard_store_postgres::{PgOptions, PgStore};
use switchboard_store_sqlite::SqliteStore;

async fn fresh_url() -> String {
    let server = EphemeralPostgres::shared().await.expect("starting PostgreSQL");
    server.create_database().await.expect("creating a database")
}

/// `table.column` for every column of the public schema after migration.
async fn postgres_columns(url: &str) -> BTreeSet<String> {
    PgStore::migrate(url).await.unwrap();
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.iter().map(|r| format!("{}.{}", r.get::<String, _>("t"), r.get::<String, _>("c"))).collect()
}

/// `table.column` for every column of the SQLite store's tables after migration.
async fn sqlite_columns() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    SqliteStore::migrate(&path).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let rows = sqlx::query(
        "SELECT m.name AS t, p.name AS c FROM sqlite_schema m, pragma_table_info(m.name) p \
         WHERE m.type = 'table'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.iter().map(|r| format!("{}.{}", r.get::<String, _>("t"), r.get::<String, _>("c"))).collect()
}

#[tokio::test]
async fn the_schema_has_the_same_tables_and_columns_as_sqlite() {
    let migrations = |c: &String| c.starts_with("_sqlx_migrations.");
    let pg: BTreeSet<String> = postgres_columns(&fresh_url().await).await;
    let pg: BTreeSet<String> = pg.into_iter().filter(|c| !migrations(c) && c != "events.search").collect();
    // SQLite-only: the FTS5 table, its shadow tables, and how far it has indexed.
    let lite: BTreeSet<String> = sqlite_columns()
        .await
        .into_iter()
        .filter(|c| !migrations(c) && !c.starts_with("message_search") && !c.starts_with("search_progress.") && !c.starts_with("sqlite_"))
        .collect();
    assert!(lite.contains("events.author_key") && lite.len() > 100, "read SQLite's schema: {lite:?}");
    let only_pg: Vec<_> = pg.difference(&lite).collect();
    let only_lite: Vec<_> = lite.difference(&pg).collect();
    assert!(only_pg.is_empty() && only_lite.is_empty(), "only PostgreSQL: {only_pg:?}, only SQLite: {only_lite:?}");
}

#[tokio::test]
async fn messages_stored_before_they_moved_into_their_events_survive_the_upgrade() {
    let url = fresh_url().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = before.migrations.iter().filter(|m| m.version <= 3).cloned().collect::<Vec<_>>().into();
    before.run(&pool).await.unwrap();
    sqlx::query("ALTER TABLE messages ALTER COLUMN search SET DEFAULT ''::tsvector").execute(&pool).await.unwrap();
    for row in upgrade_0004::rows() {
        sqlx::query(&row).execute(&pool).await.unwrap();
    }
    // What the writer stored in `search`: the folded words of the body.
    sqlx::query("UPDATE messages SET search = to_tsvector('simple', lower(body))").execute(&pool).await.unwrap();
    pool.close().await;

    let store = PgStore::connect(&PgOptions::new(url)).await.unwrap();
    upgrade_0004::check(Arc::new(store)).await;
}

#[tokio::test]
async fn sites_and_conversations_from_before_inboxes_are_served_after_the_upgrade() {
    let url = fresh_url().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = before.migrations.iter().filter(|m| m.version <= 5).cloned().collect::<Vec<_>>().into();
    before.run(&pool).await.unwrap();
    for row in upgrade_0006::rows() {
        sqlx::query(&row).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = PgStore::connect(&PgOptions::new(url)).await.unwrap();
    upgrade_0006::check(Arc::new(store)).await;
}

/// Two stores on one database stand for two nodes, each with its own writer.
#[tokio::test]
async fn nodes_sharing_a_database_never_skip_or_repeat_a_cursor() {
    let url = fresh_url().await;
    let nodes: Vec<Arc<dyn Store>> = vec![
        Arc::new(PgStore::connect(&PgOptions::new(url.clone())).await.unwrap()),
        Arc::new(PgStore::connect(&PgOptions::new(url)).await.unwrap()),
    ];
    let f = Arc::new(fixture(&*nodes[0], "nodes").await);
    let mut convs = vec![];
    for _ in 0..3 {
        convs.push(start(&*nodes[0], &f, None).await.conversation.id);
    }
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let (store, f, conv) = (nodes[i % 2].clone(), f.clone(), convs[i % 3]);
            tokio::spawn(async move { say(&*store, &f, conv, Actor::Agent(f.agent.id), &format!("m{i}")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for node in &nodes {
        let feed = node.feed(f.ws.id, 0, 10_000).await.unwrap();
        assert_eq!(feed.iter().map(|e| e.feed_seq).collect::<Vec<_>>(), (1..=303).collect::<Vec<_>>());
        assert_eq!(node.feed_head(f.ws.id).await.unwrap(), 303);
        let query = switchboard_store::EventQuery::replay(0, 1000, switchboard_store::Audience::Agents);
        for conv in &convs {
            let events = node.conversation_events(f.ws.id, *conv, &query).await.unwrap();
            assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=101).collect::<Vec<_>>());
        }
    }
}

/// Two nodes routing into one workspace at once: guarded assignments from both, to the
/// same agents, never pass an agent's limit, and of two claims of one conversation from
/// two nodes exactly one wins.
#[tokio::test]
async fn nodes_routing_at_once_never_pass_a_limit_nor_assign_twice() {
    const LIMIT: u32 = 4;
    let url = fresh_url().await;
    let nodes: Vec<Arc<dyn Store>> = vec![
        Arc::new(PgStore::connect(&PgOptions::new(url.clone())).await.unwrap()),
        Arc::new(PgStore::connect(&PgOptions::new(url)).await.unwrap()),
    ];
    let f = Arc::new(fixture(&*nodes[0], "routing-nodes").await);
    let mut agents = vec![f.agent.id];
    for i in 0..2 {
        let a = switchboard_store::testing::agent(f.ws.id, &format!("n{i}@routing-nodes.example"));
        nodes[0].create_agent(&a, "hash").await.unwrap();
        agents.push(a.id);
    }
    let mut convs = vec![];
    for _ in 0..60 {
        convs.push(start(&*nodes[0], &f, Some("hi")).await.conversation.id);
    }
    let tasks: Vec<_> = convs
        .iter()
        .enumerate()
        .flat_map(|(i, conv)| {
            // Every conversation is tried by both nodes, each for an agent of its choice.
            (0..2).map(move |n| (i, n, *conv))
        })
        .map(|(i, n, conv)| {
            let (store, ws, agent) = (nodes[n].clone(), f.ws.id, agents[(i + n) % agents.len()]);
            tokio::spawn(async move {
                let data = EventData::Assigned { agent_id: Some(agent), team_id: None, reason: AssignReason::Routed, note: None };
                let guard = switchboard_store::AssignGuard { unassigned: true, capacity: Some(LIMIT) };
                store
                    .commit(
                        ws,
                        switchboard_store::Change::Assign {
                            conversation_id: conv,
                            actor: Actor::System,
                            data,
                            at: Timestamp::now(),
                            guard,
                        },
                    )
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict("capacity" | "assignee")) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, agents.len() * LIMIT as usize, "every place filled once, none twice");
    let loads = switchboard_store::Routing::agent_loads(&*nodes[1], f.ws.id).await.unwrap();
    assert!(loads.iter().all(|l| l.open_chats == LIMIT), "{loads:?}");
    let query = switchboard_store::EventQuery::replay(0, 100, switchboard_store::Audience::Agents);
    for conv in &convs {
        let assigned =
            nodes[0].conversation_events(f.ws.id, *conv, &query).await.unwrap().iter().filter(|e| e.data.kind() == "assigned").count();
        assert!(assigned <= 1, "a conversation assigned twice");
    }
}

/// A writer that loses a deadlock (here against a transaction holding the conversation
/// row and then wanting the workspace row) runs its batch again instead of failing.
#[tokio::test]
async fn a_batch_that_loses_a_deadlock_is_retried() {
    use sqlx::Connection;

    let url = fresh_url().await;
    let store = Arc::new(PgStore::connect(&PgOptions::new(url.clone())).await.unwrap());
    let f = Arc::new(fixture(&*store, "deadlock").await);
    let conv = start(&*store, &f, None).await.conversation.id;

    let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut tx = Connection::begin(&mut other).await.unwrap();
    // The writer, not this transaction, must be the one the deadlock detector picks.
    sqlx::query("SET LOCAL deadlock_timeout = '60s'").execute(&mut *tx).await.unwrap();
    sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE").bind(conv.0).execute(&mut *tx).await.unwrap();
    let said = {
        let (store, f) = (store.clone(), f.clone());
        tokio::spawn(async move { say(&*store, &f, conv, Actor::Agent(f.agent.id), "after the deadlock").await })
    };
    // Wait until the writer holds the workspace row and waits for the conversation row.
    let mut watcher = sqlx::PgConnection::connect(&url).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                .fetch_one(&mut watcher)
                .await
                .unwrap();
        if waiting == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the writer never waited for the conversation row");
        tokio::task::yield_now().await;
    }
    sqlx::query("UPDATE workspaces SET name = name WHERE id = $1").bind(f.ws.id.0).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();

    let done = said.await.unwrap();
    assert_eq!(done.events[0].seq, 2);
    let feed = store.feed(f.ws.id, 0, 10).await.unwrap();
    assert_eq!(feed.iter().map(|e| e.feed_seq).collect::<Vec<_>>(), [1, 2]);
}

/// A backup is a `pg_dump` archive that `pg_restore` turns into a working database.
#[tokio::test]
async fn backups_restore_into_a_working_store() {
    let store = PgStore::connect(&PgOptions::new(fresh_url().await)).await.unwrap();
    let f = fixture(&store, "backup").await;
    let conv = start(&store, &f, Some("keep me")).await.conversation;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("switchboard.dump");
    store.backup(&dest).await.unwrap();
    assert!(matches!(store.backup(&dest).await, Err(StoreError::Unavailable(_))), "never overwrites");

    let copy = fresh_url().await;
    let restore = tokio::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &copy])
        .arg(&dest)
        .output()
        .await
        .unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    let restored = PgStore::connect(&PgOptions::new(copy)).await.unwrap();
    assert_eq!(restored.conversation(f.ws.id, conv.id).await.unwrap(), Conversation { unread: Some(1), ..conv });
    let hits = restored.search_messages(f.ws.id, &["keep".into()], 10).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(restored.feed_head(f.ws.id).await.unwrap(), 2);
}

/// PostgreSQL cannot store lexemes over 2 KiB; an overlong word is indexed by its start,
/// so it is found by prefix as on SQLite, and never breaks the message's other words.
#[tokio::test]
async fn overlong_words_are_found_by_their_start() {
    let store = PgStore::connect(&PgOptions::new(fresh_url().await)).await.unwrap();
    let f = fixture(&store, "long").await;
    let body = format!("{} needle {}", "x".repeat(4096), "ж".repeat(3000));
    start(&store, &f, Some(&body)).await;
    for query in ["needle", "xxxx", "жжжж"] {
        let hits = store.search_messages(f.ws.id, &search::query_terms(query), 10).await.unwrap();
        assert_eq!(hits.len(), 1, "{query}");
    }
}

/// `table.column` of every row of the public schema whose text holds `needle`.
async fn rows_holding(pool: &sqlx::PgPool, needle: &str) -> Vec<String> {
    let columns = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut found = vec![];
    for column in columns {
        let (table, name): (String, String) = (column.get("t"), column.get("c"));
        let sql = format!("SELECT count(*) FROM \"{table}\" WHERE strpos(\"{name}\"::text, $1) > 0");
        let n: i64 = sqlx::query_scalar(&sql).bind(needle).fetch_one(pool).await.unwrap();
        if n > 0 {
            found.push(format!("{table}.{name}"));
        }
    }
    found
}

#[tokio::test]
async fn no_table_holds_anything_of_an_erased_person() {
    let url = fresh_url().await;
    let store = PgStore::connect(&PgOptions::new(url.clone())).await.unwrap();
    erased_person(&store).await;
    store.close().await;

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let control = rows_holding(&pool, "my passport expired").await;
    assert_eq!(control, ["events.body"], "the scan reads what is there");
    for trace in ERASED_PERSON_TRACES {
        for needle in [trace.to_string(), search::normalize(trace)] {
            assert_eq!(rows_holding(&pool, &needle).await, Vec::<String>::new(), "{needle:?} is still stored");
        }
    }
}

/// A source that breaks when the copy reaches `events`, as an interrupted copy would.
struct BreaksAtEvents(switchboard_store_sqlite::SqliteSource);

#[async_trait::async_trait]
impl switchboard_store::TableSource for BreaksAtEvents {
    async fn tables(&self) -> switchboard_store::Result<Vec<String>> {
        self.0.tables().await
    }
    async fn columns(&self, table: &str) -> switchboard_store::Result<Vec<String>> {
        self.0.columns(table).await
    }
    async fn count(&self, table: &str) -> switchboard_store::Result<u64> {
        self.0.count(table).await
    }
    async fn rows_after(
        &self,
        table: &str,
        columns: &[String],
        after: i64,
        limit: u32,
    ) -> switchboard_store::Result<Vec<(i64, switchboard_store::Row)>> {
        if table == "events" {
            return Err(StoreError::Unavailable("the copy was interrupted".into()));
        }
        self.0.rows_after(table, columns, after, limit).await
    }
}

#[tokio::test]
async fn a_copy_from_sqlite_interrupted_half_way_leaves_nothing_and_runs_again_from_scratch() {
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open_temp(dir.path()).await.unwrap();
    let f = fixture(&lite, "moving").await;
    let started = start(&lite, &f, Some("the parcel never came")).await;
    let last = say(&lite, &f, started.conversation.id, Actor::Contact(f.contact.id), "still waiting").await.events[0].seq;
    lite.close().await;
    let path = dir.path().join("switchboard.db");

    let url = fresh_url().await;
    let broken = BreaksAtEvents(switchboard_store_sqlite::SqliteSource::open(&path).await.unwrap());
    let err = PgStore::copy_from(&url, &broken).await.unwrap_err();
    assert!(err.to_string().contains("interrupted"), "{err}");
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let workspaces: i64 = sqlx::query_scalar("SELECT count(*) FROM workspaces").fetch_one(&pool).await.unwrap();
    assert_eq!(workspaces, 0, "the tables copied before the interruption were rolled back with it");

    let report = PgStore::copy_from(&url, &switchboard_store_sqlite::SqliteSource::open(&path).await.unwrap()).await.expect("the rerun");
    let rows = |name: &str| report.tables.iter().find(|(t, _)| t == name).map(|(_, n)| *n);
    assert_eq!((rows("workspaces"), rows("conversations"), rows("events")), (Some(1), Some(1), Some(last as u64)), "{report:?}");
    assert_eq!(report.indexed_messages, 2);
    let again = PgStore::copy_from(&url, &switchboard_store_sqlite::SqliteSource::open(&path).await.unwrap()).await.unwrap_err();
    assert!(matches!(again, switchboard_store::CopyError::NotEmpty { .. }), "{again}");
    pool.close().await;

    let pg = PgStore::connect(&PgOptions::new(url)).await.unwrap();
    let hits = pg.search_messages(f.ws.id, &search::query_terms("parcel"), 10).await.unwrap();
    assert_eq!(hits.len(), 1, "found through the rebuilt search column");
    let next = say(&pg, &f, started.conversation.id, Actor::Contact(f.contact.id), "hello from PostgreSQL").await;
    assert_eq!(next.events[0].seq, last + 1, "the conversation's seq carries on");
    pg.close().await;
}
