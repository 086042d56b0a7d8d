//! Each condition, cap and time rule of proactive rules, one story at a time.

use super::*;
use crate::{ContactId, Utm};

const T0: Timestamp = Timestamp(1_800_000_000_000);

fn visitor() -> VisitorFacts {
    VisitorFacts {
        workspace_id: WorkspaceId::new(),
        site_id: SiteId::new(),
        contact_id: ContactId::new(),
        visit_id: VisitId::new(),
        url: "https://shop.example/pricing?plan=pro".into(),
        page_since: T0,
        visit_started_at: T0.plus_millis(-60_000),
        pages_this_visit: 2,
        referrer: Some("https://www.google.com/search".into()),
        utm: Utm { source: Some("Newsletter".into()), ..Utm::default() },
        visit_number: 1,
        language: Some("ar-EG".into()),
        country: Some("TR".into()),
        identified: false,
        attributes: [("plan".to_owned(), AttributeValue::Text("pro".into()))].into(),
        events_this_visit: vec!["cart".into()],
        exit_intent: false,
        lead_score: 40,
        chatting: false,
    }
}

fn rule(facts: &VisitorFacts, conditions: Vec<Condition>, frequency: Frequency) -> Trigger {
    Trigger {
        id: TriggerId::new(),
        workspace_id: facts.workspace_id,
        site_id: facts.site_id,
        name: "Pricing help".into(),
        enabled: true,
        conditions,
        actions: vec![Action::OpenWidget],
        frequency,
        stats: TriggerStats::default(),
        created_at: T0,
        updated_at: T0,
    }
}

const OPEN: SiteState = SiteState { agents_online: true, open: true };

fn check(c: Condition, facts: &VisitorFacts) -> bool {
    holds(&c, facts, OPEN)
}

fn url(matching: UrlMatch, value: &str) -> UrlRule {
    UrlRule::new("value", matching, value).unwrap()
}

#[test]
fn a_url_contains_equals_or_matches_a_pattern_with_stars() {
    let f = visitor();
    assert!(check(Condition::Url(url(UrlMatch::Contains, "/pricing")), &f));
    assert!(!check(Condition::Url(url(UrlMatch::Contains, "/checkout")), &f));
    assert!(check(Condition::Url(url(UrlMatch::Equals, "https://shop.example/pricing?plan=pro")), &f));
    assert!(!check(Condition::Url(url(UrlMatch::Equals, "https://shop.example/pricing")), &f));
    assert!(check(Condition::Url(url(UrlMatch::Pattern, "*/pricing*")), &f));
    assert!(check(Condition::Url(url(UrlMatch::Pattern, "https://*.example/*plan=*")), &f));
    assert!(!check(Condition::Url(url(UrlMatch::Pattern, "*/pricing")), &f), "a pattern covers the whole URL");
    assert!(!check(Condition::Url(url(UrlMatch::Pattern, "http://*")), &f));
    assert!(glob("a*b*c", "aXXbYYbc") && !glob("a*b*c", "aXXbYY"), "backtracks past an earlier b");
}

#[test]
fn the_referrer_matches_like_a_url_and_a_direct_visit_never_does() {
    let mut f = visitor();
    assert!(check(Condition::Referrer(url(UrlMatch::Contains, "google.")), &f));
    assert!(!check(Condition::Referrer(url(UrlMatch::Contains, "bing.")), &f));
    f.referrer = None;
    assert!(!check(Condition::Referrer(url(UrlMatch::Pattern, "*")), &f));
}

#[test]
fn utm_parameters_compare_without_case_and_a_missing_one_never_matches() {
    let f = visitor();
    assert!(check(Condition::Utm { field: UtmField::Source, value: "newsletter".into() }, &f));
    assert!(!check(Condition::Utm { field: UtmField::Source, value: "ads".into() }, &f));
    assert!(!check(Condition::Utm { field: UtmField::Campaign, value: "newsletter".into() }, &f));
}

#[test]
fn pages_returning_identified_and_lead_score_read_the_visit() {
    let mut f = visitor();
    assert!(check(Condition::Pages { at_least: 2 }, &f) && !check(Condition::Pages { at_least: 3 }, &f));
    assert!(check(Condition::Returning(false), &f) && !check(Condition::Returning(true), &f));
    f.visit_number = 2;
    assert!(check(Condition::Returning(true), &f));
    assert!(check(Condition::Identified(false), &f) && !check(Condition::Identified(true), &f));
    assert!(check(Condition::LeadScore { at_least: 40 }, &f) && !check(Condition::LeadScore { at_least: 41 }, &f));
}

#[test]
fn language_reads_the_primary_subtag_and_country_needs_one() {
    let mut f = visitor();
    assert!(check(Condition::Language(vec!["ar".into()]), &f));
    assert!(!check(Condition::Language(vec!["fa".into(), "tr".into()]), &f));
    assert!(check(Condition::Country(vec!["DE".into(), "TR".into()]), &f));
    f.country = None;
    f.language = None;
    assert!(!check(Condition::Country(vec!["TR".into()]), &f));
    assert!(!check(Condition::Language(vec!["ar".into()]), &f));
}

#[test]
fn attributes_events_and_exit_intent() {
    let mut f = visitor();
    assert!(check(Condition::Attribute { key: "plan".into(), value: AttributeValue::Text("pro".into()) }, &f));
    assert!(!check(Condition::Attribute { key: "plan".into(), value: AttributeValue::Text("free".into()) }, &f));
    assert!(!check(Condition::Attribute { key: "vip".into(), value: AttributeValue::Bool(true) }, &f));
    assert!(check(Condition::Event { name: "cart".into() }, &f) && !check(Condition::Event { name: "buy".into() }, &f));
    assert!(!check(Condition::ExitIntent, &f));
    f.exit_intent = true;
    assert!(check(Condition::ExitIntent, &f));
}

#[test]
fn agents_online_and_business_hours_come_from_the_site() {
    let f = visitor();
    let closed = SiteState { agents_online: false, open: false };
    assert!(holds(&Condition::AgentsOnline(true), &f, OPEN) && !holds(&Condition::AgentsOnline(true), &f, closed));
    assert!(holds(&Condition::AgentsOnline(false), &f, closed));
    assert!(holds(&Condition::BusinessHours(true), &f, OPEN) && !holds(&Condition::BusinessHours(true), &f, closed));
    assert!(holds(&Condition::BusinessHours(false), &f, closed));
}

#[test]
fn thirty_seconds_on_pricing_waits_then_fires() {
    let f = visitor();
    let r =
        rule(&f, vec![Condition::Url(url(UrlMatch::Contains, "/pricing")), Condition::TimeOnPage { seconds: 30 }], Frequency::OncePerVisit);
    assert_eq!(evaluate(&r, &f, OPEN, None, T0.plus_millis(10_000)), Verdict::At(T0.plus_millis(30_000)));
    assert_eq!(evaluate(&r, &f, OPEN, None, T0.plus_millis(30_000)), Verdict::Fire);
}

#[test]
fn time_on_site_counts_from_the_visit_and_the_latest_time_condition_decides() {
    let f = visitor();
    let r = rule(&f, vec![Condition::TimeOnSite { seconds: 120 }, Condition::TimeOnPage { seconds: 10 }], Frequency::OncePerVisit);
    // The visit began a minute before the page: on the site 120 s at T0 + 60 s.
    assert_eq!(evaluate(&r, &f, OPEN, None, T0), Verdict::At(T0.plus_millis(60_000)));
    assert_eq!(evaluate(&r, &f, OPEN, None, T0.plus_millis(60_000)), Verdict::Fire);
}

#[test]
fn a_failing_condition_is_not_rescheduled() {
    let f = visitor();
    let r = rule(
        &f,
        vec![Condition::TimeOnPage { seconds: 30 }, Condition::Url(url(UrlMatch::Contains, "/checkout"))],
        Frequency::OncePerVisit,
    );
    assert_eq!(evaluate(&r, &f, OPEN, None, T0), Verdict::No);
}

#[test]
fn never_while_chatting_nor_when_disabled_nor_for_another_site() {
    let mut f = visitor();
    let mut r = rule(&f, vec![], Frequency::OncePerVisit);
    assert_eq!(evaluate(&r, &f, OPEN, None, T0), Verdict::Fire);
    f.chatting = true;
    assert_eq!(evaluate(&r, &f, OPEN, None, T0), Verdict::No);
    f.chatting = false;
    r.enabled = false;
    assert_eq!(evaluate(&r, &f, OPEN, None, T0), Verdict::No);
    r.enabled = true;
    r.site_id = SiteId::new();
    assert_eq!(evaluate(&r, &f, OPEN, None, T0), Verdict::No);
}

#[test]
fn once_per_visitor_fires_once_ever() {
    let mut f = visitor();
    let r = rule(&f, vec![], Frequency::OncePerVisitor);
    let fired = Firing { visit_id: f.visit_id, at: T0 };
    assert_eq!(evaluate(&r, &f, OPEN, Some(fired), T0), Verdict::No);
    f.visit_id = VisitId::new();
    assert_eq!(evaluate(&r, &f, OPEN, Some(fired), T0.plus_millis(400 * DAY_MS)), Verdict::No);
}

#[test]
fn once_per_visit_fires_again_on_the_next_visit() {
    let mut f = visitor();
    let r = rule(&f, vec![], Frequency::OncePerVisit);
    let fired = Firing { visit_id: f.visit_id, at: T0 };
    assert_eq!(evaluate(&r, &f, OPEN, Some(fired), T0.plus_millis(1000)), Verdict::No);
    f.visit_id = VisitId::new();
    assert_eq!(evaluate(&r, &f, OPEN, Some(fired), T0.plus_millis(1000)), Verdict::Fire);
}

#[test]
fn every_n_days_waits_out_the_days() {
    let mut f = visitor();
    let r = rule(&f, vec![], Frequency::EveryDays(2));
    let fired = Firing { visit_id: f.visit_id, at: T0 };
    f.visit_id = VisitId::new();
    assert_eq!(evaluate(&r, &f, OPEN, Some(fired), T0.plus_millis(DAY_MS)), Verdict::At(T0.plus_millis(2 * DAY_MS)));
    assert_eq!(evaluate(&r, &f, OPEN, Some(fired), T0.plus_millis(2 * DAY_MS)), Verdict::Fire);
}

#[test]
fn a_draft_is_checked_field_by_field() {
    let ok = TriggerDraft {
        name: "  Pricing  ".into(),
        enabled: true,
        conditions: vec![Condition::Language(vec!["AR-eg".into()]), Condition::Country(vec!["tr".into()])],
        actions: vec![Action::Message { body: "Hi".into(), agent_id: None, typing_seconds: 2 }],
        frequency: Frequency::EveryDays(7),
    };
    let checked = ok.clone().check().unwrap();
    assert_eq!(checked.name, "Pricing");
    assert_eq!(checked.conditions, vec![Condition::Language(vec!["ar".into()]), Condition::Country(vec!["TR".into()])]);
    let field = |d: TriggerDraft| d.check().unwrap_err().field;
    assert_eq!(field(TriggerDraft { name: " ".into(), ..ok.clone() }), "name");
    assert_eq!(field(TriggerDraft { actions: vec![], ..ok.clone() }), "actions");
    assert_eq!(
        field(TriggerDraft { actions: vec![Action::Message { body: "Hi".into(), agent_id: None, typing_seconds: 11 }], ..ok.clone() }),
        "actions.typing_seconds"
    );
    assert_eq!(field(TriggerDraft { frequency: Frequency::EveryDays(0), ..ok.clone() }), "every_days");
    assert_eq!(field(TriggerDraft { conditions: vec![Condition::Country(vec!["TUR".into()])], ..ok.clone() }), "conditions.countries");
    assert_eq!(field(TriggerDraft { conditions: vec![Condition::ExitIntent; 21], ..ok }), "conditions");
}
