//! Each scoring rule, decay and a conversion's credit, one story at a time.

use super::*;
use crate::triggers::UrlMatch;
use crate::{Attributes, ContactId, SiteId, Utm, VisitId, WorkspaceId};

const T0: Timestamp = Timestamp(1_800_000_000_000);
const DAY: i64 = 24 * 60 * 60 * 1000;

fn visitor() -> VisitorFacts {
    VisitorFacts {
        workspace_id: WorkspaceId::new(),
        site_id: SiteId::new(),
        contact_id: ContactId::new(),
        visit_id: VisitId::new(),
        url: "https://shop.example/pricing".into(),
        page_since: T0,
        visit_started_at: T0,
        pages_this_visit: 1,
        referrer: None,
        utm: Utm::default(),
        visit_number: 1,
        language: None,
        country: None,
        identified: false,
        attributes: Attributes::new(),
        events_this_visit: vec![],
        exit_intent: false,
        lead_score: 0,
        chatting: false,
    }
}

fn scoring(rules: Vec<ScoringRule>) -> Scoring {
    Scoring { rules, half_life_days: None, priority_at: None }
}

fn pricing(points: i32) -> ScoringRule {
    ScoringRule::Page { url: UrlRule::new("value", UrlMatch::Contains, "/pricing").unwrap(), points }
}

#[test]
fn a_matching_page_earns_once_per_visit() {
    let f = visitor();
    let got = earnings(&scoring(vec![pricing(10)]), &f, Some(&Moment::Page), T0);
    assert_eq!(got, vec![Earning { rule_key: pricing(10).key(), once: Once::PerVisit(f.visit_id.to_string()), points: 10 }]);
    let mut elsewhere = f;
    elsewhere.url = "https://shop.example/blog".into();
    assert!(earnings(&scoring(vec![pricing(10)]), &elsewhere, Some(&Moment::Page), T0).is_empty());
}

#[test]
fn time_on_site_earns_once_the_visit_is_long_enough_and_says_when_that_is() {
    let f = visitor();
    let s = scoring(vec![ScoringRule::TimeOnSite { minutes: 5, points: 7 }]);
    assert!(earnings(&s, &f, None, T0.plus_millis(60_000)).is_empty());
    assert_eq!(next_due(&s, &f, T0.plus_millis(60_000)), Some(T0.plus_millis(300_000)));
    let got = earnings(&s, &f, None, T0.plus_millis(300_000));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].once, Once::PerVisit(f.visit_id.to_string()));
    assert_eq!(next_due(&s, &f, T0.plus_millis(300_000)), None);
}

#[test]
fn visits_reached_earn_once_ever() {
    let mut f = visitor();
    let s = scoring(vec![ScoringRule::Visits { at_least: 3, points: 5 }]);
    f.visit_number = 2;
    assert!(earnings(&s, &f, Some(&Moment::Arrived), T0).is_empty());
    f.visit_number = 3;
    assert_eq!(earnings(&s, &f, Some(&Moment::Arrived), T0)[0].once, Once::Ever);
}

#[test]
fn events_earn_each_time_they_are_tracked_and_only_then() {
    let f = visitor();
    let s = scoring(vec![ScoringRule::Event { name: "demo_booked".into(), points: 20 }]);
    let booked = Moment::Event { name: "demo_booked".into(), data: Attributes::new() };
    assert_eq!(earnings(&s, &f, Some(&booked), T0)[0].once, Once::Never);
    let other = Moment::Event { name: "cart".into(), data: Attributes::new() };
    assert!(earnings(&s, &f, Some(&other), T0).is_empty());
    assert!(earnings(&s, &f, Some(&Moment::Page), T0).is_empty(), "an event seen earlier in the visit does not earn again");
}

#[test]
fn attributes_earn_once_when_set_or_set_to_the_value() {
    let mut f = visitor();
    let any = ScoringRule::Attribute { key: "company".into(), value: None, points: 3 };
    let pro = ScoringRule::Attribute { key: "plan".into(), value: Some(AttributeValue::Text("pro".into())), points: 9 };
    let s = scoring(vec![any, pro]);
    assert!(earnings(&s, &f, Some(&Moment::Profile), T0).is_empty());
    f.attributes.insert("company".into(), AttributeValue::Text("Acme".into()));
    f.attributes.insert("plan".into(), AttributeValue::Text("free".into()));
    let got = earnings(&s, &f, Some(&Moment::Profile), T0);
    assert_eq!(got.iter().map(|e| e.points).collect::<Vec<_>>(), vec![3]);
    f.attributes.insert("plan".into(), AttributeValue::Text("pro".into()));
    assert_eq!(earnings(&s, &f, Some(&Moment::Profile), T0).iter().map(|e| e.points).sum::<i32>(), 12);
}

#[test]
fn points_halve_every_half_life_and_keep_without_one() {
    let s = LeadScore::default().earn(40, T0, Some(7));
    assert_eq!(s.value_at(T0), 40.0);
    assert!((s.value_at(T0.plus_millis(7 * DAY)) - 20.0).abs() < 1e-9);
    assert!((s.value_at(T0.plus_millis(14 * DAY)) - 10.0).abs() < 1e-9);
    // Earning 10 more a week later: 20 + 10, and that halves again after a week.
    let s2 = s.earn(10, T0.plus_millis(7 * DAY), Some(7));
    assert!((s2.value_at(T0.plus_millis(14 * DAY)) - 15.0).abs() < 1e-9);
    // The incremental form equals the sum of each award's own decay.
    let summed = 40.0 * 0.5f64.powf(2.0) + 10.0 * 0.5f64.powf(1.0);
    assert!((s2.value_at(T0.plus_millis(14 * DAY)) - summed).abs() < 1e-9);
    assert_eq!(s2.decayed_to(T0.plus_millis(14 * DAY)).shown_at(T0.plus_millis(14 * DAY)), 15);
    let never = LeadScore::default().earn(40, T0, None);
    assert_eq!(never.shown_at(T0.plus_millis(365 * DAY)), 40);
    assert_eq!(shown(14.5), 15);
    assert_eq!(shown(-2.4), -2);
}

#[test]
fn a_conversion_is_credited_to_what_came_within_thirty_days() {
    let (c, r) = (ConversationId::new(), TriggerId::new());
    let at = T0.plus_millis(40 * DAY);
    assert_eq!(attribute(at, Some((c, T0.plus_millis(20 * DAY))), Some((r, T0.plus_millis(10 * DAY)))), (Some(c), Some(r)));
    assert_eq!(attribute(at, Some((c, T0.plus_millis(9 * DAY))), Some((r, T0))), (None, None), "older than 30 days");
    assert_eq!(attribute(at, None, Some((r, at.plus_millis(1)))), (None, None), "not after the conversion");
}

#[test]
fn scoring_settings_are_checked_field_by_field() {
    let field = |s: Scoring| s.check().unwrap_err().field;
    assert_eq!(field(Scoring { half_life_days: Some(0), ..scoring(vec![]) }), "half_life_days");
    assert_eq!(field(scoring(vec![pricing(1001)])), "rules.points");
    assert_eq!(field(scoring(vec![ScoringRule::Event { name: " ".into(), points: 1 }])), "rules.name");
    assert_eq!(field(scoring(vec![pricing(1); 101])), "rules");
    assert!(scoring(vec![pricing(-5)]).check().is_ok());
}
