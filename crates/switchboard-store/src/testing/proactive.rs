//! Contract cases for proactive rules, lead scores and conversions (issue 15): what
//! every backend keeps of a rule and its counts, that firings and outcomes are counted
//! once, that points of a "once" rule are given once, and that one workspace never
//! sees another's.

use std::sync::Arc;

use switchboard_domain::scoring::{Earning, Once, Scoring, ScoringRule};
use switchboard_domain::triggers::*;
use switchboard_domain::*;

use super::{fixture, start};
use crate::*;

fn rule(ws: WorkspaceId, site: SiteId, name: &str, at: i64) -> Trigger {
    Trigger {
        id: TriggerId::new(),
        workspace_id: ws,
        site_id: site,
        name: name.into(),
        enabled: true,
        conditions: vec![
            Condition::Url(UrlRule { matching: UrlMatch::Pattern, value: "*/pricing*".into() }),
            Condition::TimeOnPage { seconds: 30 },
            Condition::Utm { field: UtmField::Campaign, value: "spring".into() },
            Condition::Language(vec!["ar".into(), "fa".into()]),
            Condition::Attribute { key: "plan".into(), value: AttributeValue::Number(2.5) },
            Condition::BusinessHours(true),
            Condition::ExitIntent,
        ],
        actions: vec![
            Action::Message { body: "Need a hand? — مساعدة؟".into(), agent_id: Some(AgentId::new()), typing_seconds: 3 },
            Action::OpenWidget,
            Action::SetAttributes([("hot".to_owned(), AttributeValue::Bool(true))].into()),
            Action::AddLabels(parse_labels(&["pricing"]).unwrap()),
            Action::SetPriority(Priority::High),
        ],
        frequency: Frequency::EveryDays(7),
        stats: TriggerStats::default(),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
    }
}

pub async fn triggers_round_trip_update_and_delete_within_their_workspace(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let first = rule(a.ws.id, a.site.id, "Pricing", 10);
    let second = Trigger { frequency: Frequency::OncePerVisitor, conditions: vec![], ..rule(a.ws.id, a.site.id, "Exit", 20) };
    let theirs = rule(b.ws.id, b.site.id, "Theirs", 5);
    for t in [&second, &first, &theirs] {
        store.create_trigger(t).await.unwrap();
    }
    assert_eq!(store.triggers(a.ws.id, a.site.id).await.unwrap(), [first.clone(), second.clone()], "oldest first");
    assert_eq!(store.trigger(a.ws.id, first.id).await.unwrap(), first);
    assert!(matches!(store.trigger(b.ws.id, first.id).await, Err(StoreError::NotFound(Entity::Trigger))), "not another's");
    assert!(store.triggers(b.ws.id, a.site.id).await.unwrap().is_empty());

    let draft = TriggerDraft {
        name: "Pricing, later".into(),
        enabled: false,
        conditions: vec![Condition::Pages { at_least: 3 }],
        actions: vec![Action::OpenWidget],
        frequency: Frequency::OncePerVisit,
    };
    let updated = store.update_trigger(a.ws.id, first.id, &draft, Timestamp(30)).await.unwrap();
    assert_eq!((updated.name.as_str(), updated.enabled, updated.frequency), ("Pricing, later", false, Frequency::OncePerVisit));
    assert_eq!((updated.conditions, updated.actions), (draft.conditions.clone(), draft.actions.clone()));
    assert_eq!((updated.created_at, updated.updated_at), (Timestamp(10), Timestamp(30)));
    assert!(matches!(store.update_trigger(b.ws.id, first.id, &draft, Timestamp(30)).await, Err(StoreError::NotFound(Entity::Trigger))));

    assert!(matches!(store.delete_trigger(b.ws.id, first.id).await, Err(StoreError::NotFound(Entity::Trigger))));
    store.delete_trigger(a.ws.id, first.id).await.unwrap();
    assert_eq!(store.triggers(a.ws.id, a.site.id).await.unwrap(), [second]);
    assert!(matches!(store.delete_trigger(a.ws.id, first.id).await, Err(StoreError::NotFound(Entity::Trigger))), "deleted once");

    let site = Site { conversion_events: vec!["purchase".into(), "signup — تسجيل".into()], ..a.site.clone() };
    store.update_site(&site).await.unwrap();
    assert_eq!(
        store.site(a.ws.id, a.site.id).await.unwrap().conversion_events,
        site.conversion_events,
        "a site keeps its conversion events"
    );
}

pub async fn firings_are_counted_and_invitation_outcomes_count_once(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let t = rule(a.ws.id, a.site.id, "Pricing", 1);
    let other = rule(a.ws.id, a.site.id, "Other", 2);
    store.create_trigger(&t).await.unwrap();
    store.create_trigger(&other).await.unwrap();
    assert!(store.last_firings(a.ws.id, a.contact.id).await.unwrap().is_empty());

    let (v1, v2) = (VisitId::new(), VisitId::new());
    let shown = InvitationId::new();
    let fire = |trigger_id, visit_id, at, invitation_id| FiringRecord {
        trigger_id,
        contact_id: a.contact.id,
        visit_id,
        at: Timestamp(at),
        invitation_id,
    };
    store.record_firing(a.ws.id, &fire(t.id, v1, 100, None)).await.unwrap();
    store.record_firing(a.ws.id, &fire(t.id, v2, 200, Some(shown))).await.unwrap();
    store.record_firing(a.ws.id, &fire(other.id, v1, 150, None)).await.unwrap();
    let mut last = store.last_firings(a.ws.id, a.contact.id).await.unwrap();
    last.sort_by_key(|(_, f)| f.at);
    assert_eq!(last, vec![(other.id, Firing { visit_id: v1, at: Timestamp(150) }), (t.id, Firing { visit_id: v2, at: Timestamp(200) })]);
    assert!(store.last_firings(b.ws.id, a.contact.id).await.unwrap().is_empty(), "not another's");

    assert!(store.count_invitation(a.ws.id, shown, InvitationOutcome::Opened, Timestamp(210)).await.unwrap());
    assert!(!store.count_invitation(a.ws.id, shown, InvitationOutcome::Opened, Timestamp(220)).await.unwrap(), "once");
    assert!(!store.count_invitation(b.ws.id, shown, InvitationOutcome::Answered, Timestamp(220)).await.unwrap(), "not another's");
    assert!(store.count_invitation(a.ws.id, shown, InvitationOutcome::Answered, Timestamp(230)).await.unwrap());
    assert!(!store.count_invitation(a.ws.id, InvitationId::new(), InvitationOutcome::Opened, Timestamp(230)).await.unwrap());
    let stats = store.trigger(a.ws.id, t.id).await.unwrap().stats;
    assert_eq!((stats.fired, stats.opened, stats.answered, stats.converted), (2, 1, 1, 0));
    assert_eq!(store.trigger(a.ws.id, other.id).await.unwrap().stats.fired, 1);

    assert_eq!(store.latest_shown_rule(a.ws.id, a.site.id, a.contact.id, Timestamp(300)).await.unwrap(), Some((t.id, Timestamp(200))));
    assert_eq!(store.latest_shown_rule(a.ws.id, a.site.id, a.contact.id, Timestamp(199)).await.unwrap(), None, "only shown ones, before");
}

pub async fn conversions_are_credited_counted_and_paged_newest_first(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let t = rule(a.ws.id, a.site.id, "Pricing", 1);
    store.create_trigger(&t).await.unwrap();
    let started = start(&*store, &a, Some("hello")).await;
    let (conversation, since) = (started.conversation.id, started.conversation.created_at);
    assert_eq!(
        store.latest_conversation(a.ws.id, a.site.id, a.contact.id, since.plus_millis(5)).await.unwrap(),
        Some((conversation, since))
    );
    assert_eq!(store.latest_conversation(a.ws.id, a.site.id, a.contact.id, since.plus_millis(-1)).await.unwrap(), None);
    assert_eq!(store.latest_conversation(b.ws.id, a.site.id, a.contact.id, since.plus_millis(5)).await.unwrap(), None);

    let conversion = |at: i64, value, trigger_id| Conversion {
        id: ConversionId::new(),
        workspace_id: a.ws.id,
        site_id: a.site.id,
        contact_id: a.contact.id,
        event: "purchase".into(),
        value,
        at: Timestamp(at),
        conversation_id: Some(conversation),
        trigger_id,
    };
    let list = [conversion(10, Some(49.9), Some(t.id)), conversion(20, None, None), conversion(30, Some(0.1), Some(t.id))];
    for c in &list {
        store.record_conversion(c).await.unwrap();
    }
    let stats = store.trigger(a.ws.id, t.id).await.unwrap().stats;
    assert_eq!(stats.converted, 2);
    assert!((stats.conversion_value - 50.0).abs() < 1e-9);

    let page = store.conversions(a.ws.id, a.site.id, None, 2).await.unwrap();
    assert_eq!(page, [list[2].clone(), list[1].clone()]);
    let cursor = ConversionCursor { at: page[1].at, id: page[1].id };
    assert_eq!(store.conversions(a.ws.id, a.site.id, Some(cursor), 2).await.unwrap(), [list[0].clone()]);
    assert!(store.conversions(b.ws.id, a.site.id, None, 10).await.unwrap().is_empty(), "not another's");
}

pub async fn a_contacts_firings_and_conversions_are_listed_for_the_export(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let t = rule(a.ws.id, a.site.id, "Pricing", 1);
    store.create_trigger(&t).await.unwrap();
    assert!(store.contact_firings(a.ws.id, a.contact.id).await.unwrap().is_empty());
    assert!(store.contact_conversions(a.ws.id, a.contact.id).await.unwrap().is_empty());

    let (v1, v2, shown) = (VisitId::new(), VisitId::new(), InvitationId::new());
    let fire =
        |contact_id, visit_id, at, invitation_id| FiringRecord { trigger_id: t.id, contact_id, visit_id, at: Timestamp(at), invitation_id };
    store.record_firing(a.ws.id, &fire(a.contact.id, v1, 100, None)).await.unwrap();
    store.record_firing(a.ws.id, &fire(a.contact.id, v2, 200, Some(shown))).await.unwrap();
    store.record_firing(a.ws.id, &fire(a.contact.id, v2, 200, None)).await.unwrap();
    assert!(store.count_invitation(a.ws.id, shown, InvitationOutcome::Opened, Timestamp(210)).await.unwrap());
    let firings = store.contact_firings(a.ws.id, a.contact.id).await.unwrap();
    let seen: Vec<_> = firings.iter().map(|f| (f.at.0, f.visit_id, f.invitation_id, f.opened_at, f.answered_at)).collect();
    assert_eq!(
        seen,
        [(200, v2, None, None, None), (200, v2, Some(shown), Some(Timestamp(210)), None), (100, v1, None, None, None)],
        "every firing, newest first (the latest written first at the same instant), with its invitation's outcome"
    );
    assert!(firings.iter().all(|f| f.trigger_id == t.id && f.site_id == a.site.id));
    assert!(store.contact_firings(b.ws.id, a.contact.id).await.unwrap().is_empty(), "not another's");

    let other_site = super::site(a.ws.id);
    store.create_site(&other_site).await.unwrap();
    let conversion = |f: &super::Fixture, site_id, at: i64| Conversion {
        id: ConversionId::new(),
        workspace_id: f.ws.id,
        site_id,
        contact_id: f.contact.id,
        event: "purchase".into(),
        value: Some(9.5),
        at: Timestamp(at),
        conversation_id: None,
        trigger_id: None,
    };
    let first = conversion(&a, a.site.id, 10);
    let second = conversion(&a, other_site.id, 20);
    for c in [&first, &second, &conversion(&b, b.site.id, 30)] {
        store.record_conversion(c).await.unwrap();
    }
    assert_eq!(store.contact_conversions(a.ws.id, a.contact.id).await.unwrap(), [second, first], "on every site, newest first");
    assert!(store.contact_conversions(b.ws.id, a.contact.id).await.unwrap().is_empty(), "not another's");
}

pub async fn points_are_given_once_per_key_and_kept_on_the_contact(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let scoring = Scoring {
        rules: vec![
            ScoringRule::Page { url: UrlRule { matching: UrlMatch::Contains, value: "/pricing".into() }, points: 10 },
            ScoringRule::Attribute { key: "plan".into(), value: Some(AttributeValue::Text("pro".into())), points: -3 },
            ScoringRule::Event { name: "demo".into(), points: 5 },
        ],
        half_life_days: Some(7),
        priority_at: Some(25),
    };
    assert_eq!(store.scoring(a.ws.id).await.unwrap(), Scoring::default());
    store.set_scoring(a.ws.id, &scoring).await.unwrap();
    assert_eq!(store.scoring(a.ws.id).await.unwrap(), scoring);
    assert_eq!(store.scoring(b.ws.id).await.unwrap(), Scoring::default(), "not another's");

    let earn = |key: &str, once: Once, points| Earning { rule_key: key.into(), once, points };
    let visit = Once::PerVisit("v1".into());
    let got = store
        .earn_points(a.ws.id, a.contact.id, &[earn("page", visit.clone(), 10), earn("event", Once::Never, 5)], Some(7), Timestamp(1000))
        .await
        .unwrap();
    assert_eq!((got.value, got.at, got.half_life_days), (15.0, Timestamp(1000), Some(7)));
    let again = store
        .earn_points(
            a.ws.id,
            a.contact.id,
            &[earn("page", visit, 10), earn("event", Once::Never, 5), earn("plan", Once::Ever, -3)],
            Some(7),
            Timestamp(1000),
        )
        .await
        .unwrap();
    assert_eq!(again.value, 17.0, "the page's points once per visit, the event's each time");
    let next_visit =
        store.earn_points(a.ws.id, a.contact.id, &[earn("page", Once::PerVisit("v2".into()), 10)], Some(7), Timestamp(1000)).await.unwrap();
    assert_eq!(next_visit.value, 27.0);
    assert_eq!(store.contact(a.ws.id, a.contact.id).await.unwrap().lead_score, next_visit, "kept on the contact");
    assert!(matches!(
        store.earn_points(b.ws.id, a.contact.id, &[earn("event", Once::Never, 5)], None, Timestamp(1000)).await,
        Err(StoreError::NotFound(Entity::Contact))
    ));
}

pub async fn pending_actions_merge_and_are_taken_once(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    assert_eq!(store.take_pending(a.ws.id, a.contact.id).await.unwrap(), PendingActions::default());
    let first = PendingActions { labels: parse_labels(&["pricing"]).unwrap(), priority: Some(Priority::Low) };
    let later = PendingActions { labels: parse_labels(&["pricing", "vip"]).unwrap(), priority: Some(Priority::High) };
    store.add_pending(a.ws.id, a.contact.id, &first).await.unwrap();
    store.add_pending(a.ws.id, a.contact.id, &later).await.unwrap();
    assert_eq!(store.take_pending(b.ws.id, a.contact.id).await.unwrap(), PendingActions::default(), "not another's");
    assert_eq!(
        store.take_pending(a.ws.id, a.contact.id).await.unwrap(),
        PendingActions { labels: parse_labels(&["pricing", "vip"]).unwrap(), priority: Some(Priority::High) }
    );
    assert_eq!(store.take_pending(a.ws.id, a.contact.id).await.unwrap(), PendingActions::default(), "taken once");
}
