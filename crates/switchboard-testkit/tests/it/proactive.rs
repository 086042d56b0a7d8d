//! Stories about proactive rules, lead scores and conversions (issue 15). Admins write
//! rules and scoring over REST; a visitor's moments reach `Core::visitor_moment` with
//! the facts live tracking would build (built here, so these stories do not depend on
//! the live half); the rules' counts, the contact's score, the next conversation's
//! priority and the site's conversions are read back over REST.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::StatusCode;
use switchboard_core::ManualClock;
use switchboard_domain::{AttributeValue, Attributes, ContactId, Moment, SiteId, Timestamp, Utm, VisitId, VisitorFacts, WorkspaceId};
use switchboard_testkit::proto::*;
use switchboard_testkit::{Seed, TestApp, VisitorSocket};
use uuid::Uuid;

use crate::support::*;

const DAY: i64 = 24 * 60 * 60 * 1000;

/// A visitor with a contact (they said `hello`), and the facts of their visit.
async fn visitor(app: &TestApp, seed: &Seed) -> (VisitorSocket, VisitorFacts) {
    let socket = app.visitor_socket(&seed.site).await;
    let Some(VisitorOut::Welcome { contact_id, .. }) = &socket.welcome else { panic!("no welcome") };
    let now = app.core.now();
    let facts = VisitorFacts {
        workspace_id: WorkspaceId(seed.workspace.id.0),
        site_id: SiteId(seed.site.id.0),
        contact_id: ContactId(*contact_id),
        visit_id: VisitId::new(),
        url: "https://shop.example/pricing".into(),
        page_since: now,
        visit_started_at: now,
        pages_this_visit: 1,
        referrer: None,
        utm: Utm::default(),
        visit_number: 1,
        language: Some("tr-TR".into()),
        country: None,
        identified: false,
        attributes: Attributes::new(),
        events_this_visit: vec![],
        exit_intent: false,
        lead_score: 0,
        chatting: false,
    };
    (socket, facts)
}

fn rule(name: &str, conditions: Vec<TriggerCondition>, actions: Vec<TriggerAction>, frequency: TriggerFrequency) -> TriggerRequest {
    TriggerRequest { name: name.into(), enabled: true, conditions, actions, frequency, every_days: None }
}

fn mark(key: &str) -> TriggerAction {
    TriggerAction::SetAttributes { attributes: BTreeMap::from([(key.to_owned(), serde_json::json!(true))]) }
}

#[tokio::test]
async fn admins_write_rules_agents_read_them_and_bad_rules_are_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let other = app.seed("other").await;
    let owner = app.owner(&seed).await;
    let (_, agent) = new_agent(&app, &owner, "ayse@shop.example", Role::Agent).await;
    let pricing = rule(
        "Pricing help",
        vec![
            TriggerCondition::Url { matching: UrlMatch::Pattern, value: "*/pricing*".into() },
            TriggerCondition::TimeOnPage { seconds: 30 },
        ],
        vec![TriggerAction::Message { body: "Questions about plans?".into(), agent_id: Some(seed.owner.id.0), typing_seconds: 2 }],
        TriggerFrequency::OncePerVisit,
    );
    let created = owner.create_trigger(seed.site.id.0, &pricing).await.unwrap();
    assert_eq!((created.name.as_str(), created.enabled, created.stats.fired), ("Pricing help", true, 0));
    assert_eq!(created.conditions, pricing.conditions);
    assert_eq!(agent.triggers(seed.site.id.0).await.unwrap().len(), 1, "agents read the rules");
    assert_refused(agent.create_trigger(seed.site.id.0, &pricing).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(agent.delete_trigger(created.id).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);

    assert_invalid(owner.create_trigger(seed.site.id.0, &TriggerRequest { name: " ".into(), ..pricing.clone() }).await, "name");
    assert_invalid(
        owner.create_trigger(seed.site.id.0, &TriggerRequest { frequency: TriggerFrequency::EveryDays, ..pricing.clone() }).await,
        "every_days",
    );
    assert_invalid(owner.create_trigger(seed.site.id.0, &TriggerRequest { actions: vec![], ..pricing.clone() }).await, "actions");
    let stranger = TriggerAction::Message { body: "Hi".into(), agent_id: Some(Uuid::new_v4()), typing_seconds: 0 };
    assert_invalid(
        owner.create_trigger(seed.site.id.0, &TriggerRequest { actions: vec![stranger], ..pricing.clone() }).await,
        "actions.agent_id",
    );

    let changed = TriggerRequest { enabled: false, frequency: TriggerFrequency::EveryDays, every_days: Some(3), ..pricing.clone() };
    let updated = owner.update_trigger(created.id, &changed).await.unwrap();
    assert_eq!((updated.enabled, updated.frequency, updated.every_days), (false, TriggerFrequency::EveryDays, Some(3)));

    // Another workspace's rule is not found, whoever asks.
    let theirs = app.owner(&other).await;
    assert_refused(theirs.trigger(created.id).await, StatusCode::NOT_FOUND, ErrorCode::TriggerNotFound);
    assert_refused(theirs.update_trigger(created.id, &pricing).await, StatusCode::NOT_FOUND, ErrorCode::TriggerNotFound);
    assert_refused(theirs.create_trigger(seed.site.id.0, &pricing).await, StatusCode::NOT_FOUND, ErrorCode::SiteNotFound);

    owner.delete_trigger(created.id).await.unwrap();
    assert_refused(owner.trigger(created.id).await, StatusCode::NOT_FOUND, ErrorCode::TriggerNotFound);
    assert!(owner.triggers(seed.site.id.0).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_rule_fires_exactly_when_its_conditions_hold_and_never_twice_past_its_cap() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let thirty_on_pricing = owner
        .create_trigger(
            seed.site.id.0,
            &rule(
                "30 s on pricing",
                vec![
                    TriggerCondition::Url { matching: UrlMatch::Contains, value: "/pricing".into() },
                    TriggerCondition::TimeOnPage { seconds: 30 },
                    TriggerCondition::Language { languages: vec!["tr".into()] },
                ],
                vec![mark("pricing_nudged")],
                TriggerFrequency::OncePerVisit,
            ),
        )
        .await
        .unwrap();
    let (_socket, facts) = visitor(&app, &seed).await;
    let contact = facts.contact_id.0;

    // Ten seconds in: not yet, but the server knows when to ask again.
    clock.advance(10_000);
    app.core.visitor_moment(&facts, &Moment::Page).await;
    assert_eq!(owner.trigger(thirty_on_pricing.id).await.unwrap().stats.fired, 0);
    assert_eq!(app.core.next_rule_check(), Some(facts.page_since.plus_millis(30_000)));
    assert!(owner.contact(contact).await.unwrap().attributes.is_empty());

    // Another page (not pricing) at 30 s: a failing condition, nothing fires.
    clock.advance(20_000);
    let blog = VisitorFacts { url: "https://shop.example/blog".into(), ..facts.clone() };
    app.core.visitor_moment(&blog, &Moment::Page).await;
    assert_eq!(owner.trigger(thirty_on_pricing.id).await.unwrap().stats.fired, 0);

    // On pricing for 30 s: it fires, once.
    app.core.visitor_moment(&facts, &Moment::Page).await;
    assert_eq!(owner.trigger(thirty_on_pricing.id).await.unwrap().stats.fired, 1);
    assert_eq!(owner.contact(contact).await.unwrap().attributes.get("pricing_nudged"), Some(&serde_json::json!(true)));
    clock.advance(60_000);
    app.core.visitor_moment(&facts, &Moment::Page).await;
    assert_eq!(owner.trigger(thirty_on_pricing.id).await.unwrap().stats.fired, 1, "once per visit");

    // A new visit may fire it again; never while the visitor is chatting.
    let next_visit = VisitorFacts { visit_id: VisitId::new(), page_since: app.core.now().plus_millis(-40_000), ..facts.clone() };
    app.core.visitor_moment(&VisitorFacts { chatting: true, ..next_visit.clone() }, &Moment::Page).await;
    assert_eq!(owner.trigger(thirty_on_pricing.id).await.unwrap().stats.fired, 1, "not while chatting");
    app.core.visitor_moment(&next_visit, &Moment::Page).await;
    assert_eq!(owner.trigger(thirty_on_pricing.id).await.unwrap().stats.fired, 2);

    // A visitor who leaves is not asked again.
    let waiting = VisitorFacts { visit_id: VisitId::new(), page_since: app.core.now(), ..facts.clone() };
    app.core.visitor_moment(&waiting, &Moment::Page).await;
    assert!(app.core.next_rule_check().is_some());
    app.core.visitor_moment(&waiting, &Moment::Left).await;
    assert_eq!(app.core.next_rule_check(), None);
}

/// A visitor clicking fast sends pages whose moments overlap (each runs in a task of its
/// own). A rule's cap is read before it fires and written after, so the moments of one
/// visitor take turns: a once-per-visit rule fires once however many pages come at once.
#[tokio::test]
async fn overlapping_moments_of_one_visitor_fire_a_once_per_visit_rule_once() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let created =
        owner.create_trigger(seed.site.id.0, &rule("Nudge", vec![], vec![mark("nudged")], TriggerFrequency::OncePerVisit)).await.unwrap();
    let (_socket, facts) = visitor(&app, &seed).await;
    let moments: Vec<_> = (0..8).map(|_| app.core.visitor_moment(&facts, &Moment::Page)).collect();
    futures::future::join_all(moments).await;
    assert_eq!(owner.trigger(created.id).await.unwrap().stats.fired, 1, "once per visit, pages at once or not");
}

#[tokio::test]
async fn once_per_visitor_and_every_n_days_caps_hold_across_visits() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let once =
        owner.create_trigger(seed.site.id.0, &rule("Once", vec![], vec![mark("once")], TriggerFrequency::OncePerVisitor)).await.unwrap();
    let weekly = owner
        .create_trigger(
            seed.site.id.0,
            &TriggerRequest { every_days: Some(7), ..rule("Weekly", vec![], vec![mark("weekly")], TriggerFrequency::EveryDays) },
        )
        .await
        .unwrap();
    let (_socket, facts) = visitor(&app, &seed).await;
    let fired = |id| {
        let owner = &owner;
        async move { owner.trigger(id).await.unwrap().stats.fired }
    };

    app.core.visitor_moment(&facts, &Moment::Arrived).await;
    assert_eq!((fired(once.id).await, fired(weekly.id).await), (1, 1));
    for days in [1, 6] {
        clock.set(facts.page_since.plus_millis(days * DAY));
        app.core.visitor_moment(&VisitorFacts { visit_id: VisitId::new(), ..facts.clone() }, &Moment::Arrived).await;
    }
    assert_eq!((fired(once.id).await, fired(weekly.id).await), (1, 1), "within the week");
    clock.set(facts.page_since.plus_millis(7 * DAY));
    app.core.visitor_moment(&VisitorFacts { visit_id: VisitId::new(), ..facts.clone() }, &Moment::Arrived).await;
    assert_eq!((fired(once.id).await, fired(weekly.id).await), (1, 2), "a week later");
}

#[tokio::test]
async fn scores_follow_the_rules_and_decay_and_a_high_score_makes_the_next_conversation_high_priority() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let scoring = Scoring {
        rules: vec![
            ScoringRule::Page { matching: UrlMatch::Contains, value: "/pricing".into(), points: 10 },
            ScoringRule::Event { name: "demo".into(), points: 6 },
        ],
        half_life_days: Some(1),
        priority_at: Some(20),
    };
    assert_eq!(owner.set_scoring(&scoring).await.unwrap().rules, scoring.rules);
    assert_invalid(owner.set_scoring(&Scoring { half_life_days: Some(0), ..scoring.clone() }).await, "half_life_days");
    let (_, agent) = new_agent(&app, &owner, "ayse@shop.example", Role::Agent).await;
    assert_refused(agent.set_scoring(&scoring).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_eq!(agent.scoring().await.unwrap().priority_at, Some(20));

    let (mut socket, facts) = visitor(&app, &seed).await;
    let contact = facts.contact_id.0;
    app.core.visitor_moment(&facts, &Moment::Page).await;
    app.core.visitor_moment(&facts, &Moment::Page).await;
    assert_eq!(owner.contact(contact).await.unwrap().lead_score, 10, "the page once per visit");
    let demo = Moment::Event { name: "demo".into(), data: Attributes::new() };
    app.core.visitor_moment(&facts, &demo).await;
    app.core.visitor_moment(&facts, &demo).await;
    assert_eq!(owner.contact(contact).await.unwrap().lead_score, 22, "each event");

    // A day later half of it is left: under `priority_at`.
    clock.advance(DAY);
    assert_eq!(owner.contact(contact).await.unwrap().lead_score, 11);
    app.core.visitor_moment(&VisitorFacts { visit_id: VisitId::new(), ..facts.clone() }, &Moment::Page).await;
    assert_eq!(owner.contact(contact).await.unwrap().lead_score, 21, "a new visit earns the page again");

    let ack = socket.say(None, "c-1", "I would like a demo").await.expect("ack");
    let conversation = owner.conversation(ack.conversation_id).await.unwrap();
    assert_eq!(conversation.priority, Priority::High, "a score at priority_at starts high");
}

#[tokio::test]
async fn labels_and_priority_of_a_rule_wait_for_the_visitors_next_conversation() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let actions =
        vec![TriggerAction::AddLabels { labels: vec!["pricing".into()] }, TriggerAction::SetPriority { priority: Priority::Urgent }];
    let tagged = owner.create_trigger(seed.site.id.0, &rule("Tag pricing", vec![], actions, TriggerFrequency::OncePerVisit)).await.unwrap();
    let (mut socket, facts) = visitor(&app, &seed).await;
    app.core.visitor_moment(&facts, &Moment::Page).await;
    assert_eq!(owner.trigger(tagged.id).await.unwrap().stats.fired, 1);

    let ack = socket.say(None, "c-1", "hello").await.expect("ack");
    let first = owner.conversation(ack.conversation_id).await.unwrap();
    assert_eq!((first.labels, first.priority), (vec!["pricing".to_owned()], Priority::Urgent));
    let (_, second) = visitor_with_conversation(&app, &seed, "c-2", "another visitor").await;
    let second = owner.conversation(second).await.unwrap();
    assert_eq!((second.labels.len(), second.priority), (0, Priority::None), "only that visitor's, and once");
}

#[tokio::test]
async fn a_sites_conversion_events_are_recorded_with_their_value_and_the_conversation_before_them() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let site = owner
        .update_site(seed.site.id.0, &SiteRequest { conversion_events: Some(vec!["purchase".into()]), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(site.conversion_events, ["purchase"]);
    let (mut socket, facts) = visitor(&app, &seed).await;
    let ack = socket.say(None, "c-1", "is shipping free?").await.expect("ack");

    let purchase = |value: serde_json::Value| Moment::Event {
        name: "purchase".into(),
        data: match value {
            serde_json::Value::Number(n) => Attributes::from([("value".to_owned(), AttributeValue::Number(n.as_f64().unwrap()))]),
            _ => Attributes::new(),
        },
    };
    app.core.visitor_moment(&VisitorFacts { chatting: true, ..facts.clone() }, &purchase(serde_json::json!(49.9))).await;
    app.core.visitor_moment(&facts, &Moment::Event { name: "cart".into(), data: Attributes::new() }).await;
    app.core.visitor_moment(&facts, &purchase(serde_json::Value::Null)).await;

    let page = owner.conversions(seed.site.id.0, None, Some(1)).await.unwrap();
    assert_eq!(page.conversions.len(), 1);
    let rest = owner.conversions(seed.site.id.0, page.next.as_deref(), Some(10)).await.unwrap();
    assert!(rest.next.is_none());
    let all: Vec<_> = page.conversions.iter().chain(&rest.conversions).collect();
    assert_eq!(all.len(), 2, "only the site's conversion events");
    assert_eq!(all.iter().map(|c| c.value).collect::<Vec<_>>(), vec![None, Some(49.9)], "newest first");
    assert!(all.iter().all(|c| c.conversation_id == Some(ack.conversation_id) && c.contact_id == facts.contact_id.0));
    assert_invalid(owner.conversions(seed.site.id.0, Some("nonsense"), None).await, "before");
    let other = app.seed("other").await;
    assert_refused(app.owner(&other).await.conversions(seed.site.id.0, None, None).await, StatusCode::NOT_FOUND, ErrorCode::SiteNotFound);
}

#[tokio::test]
async fn a_persons_export_holds_their_lead_score_the_rules_that_fired_and_their_conversions() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let scoring = Scoring {
        rules: vec![ScoringRule::Page { matching: UrlMatch::Contains, value: "/pricing".into(), points: 10 }],
        half_life_days: Some(1),
        priority_at: None,
    };
    owner.set_scoring(&scoring).await.unwrap();
    let nudge = owner
        .create_trigger(
            seed.site.id.0,
            &rule(
                "Pricing",
                vec![TriggerCondition::Url { matching: UrlMatch::Contains, value: "/pricing".into() }],
                vec![mark("pricing_nudged")],
                TriggerFrequency::OncePerVisit,
            ),
        )
        .await
        .unwrap();
    owner
        .update_site(seed.site.id.0, &SiteRequest { conversion_events: Some(vec!["purchase".into()]), ..Default::default() })
        .await
        .unwrap();
    let (_socket, facts) = visitor(&app, &seed).await;
    app.core.visitor_moment(&facts, &Moment::Page).await;
    let purchase = Moment::Event { name: "purchase".into(), data: Attributes::from([("value".to_owned(), AttributeValue::Number(49.9))]) };
    app.core.visitor_moment(&facts, &purchase).await;
    // A day later half the score is left: the export says what the contact's page says.
    clock.advance(DAY);

    let export = owner.export_contact(facts.contact_id.0).await.unwrap();
    assert_eq!(export.contact.lead_score, 5, "the lead score as it stands now");
    assert_eq!(export.firings.len(), 1);
    let firing = &export.firings[0];
    assert_eq!((firing.trigger_id, firing.site_id, firing.visit_id), (nudge.id, seed.site.id.0, facts.visit_id.0));
    assert_eq!(export.conversions.len(), 1);
    assert_eq!((export.conversions[0].event.as_str(), export.conversions[0].value), ("purchase", Some(49.9)));
    assert_eq!(export.conversions[0].trigger_id, None, "the rule showed no invitation");
}

/// Moments read a node's copies of the rules, the scoring and the site
/// (`core/src/rules_cache.rs`); an edit reaches the very next moment.
#[tokio::test]
async fn an_edited_rule_scoring_or_site_takes_effect_on_the_next_moment() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let on_checkout = rule(
        "Checkout help",
        vec![TriggerCondition::Url { matching: UrlMatch::Contains, value: "/checkout".into() }],
        vec![mark("nudged")],
        TriggerFrequency::OncePerVisit,
    );
    let created = owner.create_trigger(seed.site.id.0, &on_checkout).await.unwrap();
    let (_socket, facts) = visitor(&app, &seed).await;
    let contact = facts.contact_id.0;
    // On pricing: the rule does not hold (and the node now holds its copy of it).
    app.core.visitor_moment(&facts, &Moment::Page).await;
    assert_eq!(owner.trigger(created.id).await.unwrap().stats.fired, 0);

    let on_pricing = TriggerRequest {
        conditions: vec![TriggerCondition::Url { matching: UrlMatch::Contains, value: "/pricing".into() }],
        ..on_checkout.clone()
    };
    owner.update_trigger(created.id, &on_pricing).await.unwrap();
    app.core.visitor_moment(&facts, &Moment::Page).await;
    assert_eq!(owner.trigger(created.id).await.unwrap().stats.fired, 1, "the edited rule holds at once");
    owner.update_trigger(created.id, &TriggerRequest { enabled: false, ..on_pricing.clone() }).await.unwrap();
    app.core.visitor_moment(&VisitorFacts { visit_id: VisitId::new(), ..facts.clone() }, &Moment::Page).await;
    assert_eq!(owner.trigger(created.id).await.unwrap().stats.fired, 1, "a disabled rule stops at once");

    // Scoring: the first moment reads none; set, the next one earns.
    assert_eq!(owner.contact(contact).await.unwrap().lead_score, 0);
    let scoring = Scoring {
        rules: vec![ScoringRule::Page { matching: UrlMatch::Contains, value: "/pricing".into(), points: 7 }],
        half_life_days: None,
        priority_at: None,
    };
    owner.set_scoring(&scoring).await.unwrap();
    app.core.visitor_moment(&facts, &Moment::Page).await;
    assert_eq!(owner.contact(contact).await.unwrap().lead_score, 7, "the new scoring rule counts at once");

    // The site: a conversion event declared now is recorded on the next event.
    let purchase = Moment::Event { name: "purchase".into(), data: Attributes::new() };
    app.core.visitor_moment(&facts, &purchase).await;
    assert!(owner.conversions(seed.site.id.0, None, None).await.unwrap().conversions.is_empty(), "not a conversion event yet");
    let site = SiteRequest { conversion_events: Some(vec!["purchase".into()]), ..Default::default() };
    owner.update_site(seed.site.id.0, &site).await.unwrap();
    app.core.visitor_moment(&facts, &purchase).await;
    assert_eq!(owner.conversions(seed.site.id.0, None, None).await.unwrap().conversions.len(), 1, "declared, then counted");
}
