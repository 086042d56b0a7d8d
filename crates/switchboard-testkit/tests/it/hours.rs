//! Business hours: an admin gives a site weekly hours, a time zone and holidays; the
//! widget learns whether the site is open now and, when closed, when it opens next,
//! from the launcher's `GET /widget/{key}` and the socket's `welcome`, on the server's
//! clock. Teams keep their own hours. Bad schedules are refused with the field.

use std::sync::Arc;

use switchboard_core::ManualClock;
use switchboard_domain::Timestamp;
use switchboard_testkit::proto::{BusinessHours, Holiday, SiteRequest, TeamRequest, VisitorOut, WeeklyHours};
use switchboard_testkit::{Api, TestApp};

use crate::support::assert_invalid;

fn weekdays(open: &str, close: &str) -> Vec<WeeklyHours> {
    (1..=5).map(|day| WeeklyHours { day, open: open.into(), close: close.into() }).collect()
}

/// 2026-12-11 is a Friday; Istanbul is UTC+3 all year.
const FRIDAY_18_00_ISTANBUL: i64 = 1_797_001_200_000;
const MONDAY_09_00_ISTANBUL: i64 = FRIDAY_18_00_ISTANBUL + (2 * 24 + 15) * 3_600_000;

#[tokio::test]
async fn outside_its_hours_the_widget_learns_the_site_is_closed_and_when_it_opens() {
    let clock = Arc::new(ManualClock::new(Timestamp(FRIDAY_18_00_ISTANBUL)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let public = Api::new(app.url(""));
    let launcher = public.widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!((launcher.open_now, launcher.opens_at), (true, None), "no hours: always open");

    let hours = BusinessHours {
        time_zone: "europe/istanbul".into(),
        weekly: weekdays("09:00", "17:00"),
        holidays: vec![Holiday { date: "2027-01-01".into(), name: "Yılbaşı".into() }],
    };
    let set = SiteRequest { business_hours: Some(Some(hours.clone())), ..SiteRequest::default() };
    let saved = owner.update_site(seed.site.id.0, &set).await.unwrap().business_hours.expect("hours kept");
    assert_eq!(saved, BusinessHours { time_zone: "Europe/Istanbul".into(), ..hours }, "the zone as the IANA database spells it");

    let launcher = public.widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!((launcher.open_now, launcher.opens_at), (false, Some(MONDAY_09_00_ISTANBUL)), "Friday evening: back on Monday");
    let visitor = app.visitor_socket(&seed.site).await;
    let Some(VisitorOut::Welcome { site, .. }) = &visitor.welcome else { panic!("no welcome") };
    assert_eq!((site.open_now, site.opens_at), (false, Some(MONDAY_09_00_ISTANBUL)));

    clock.set(Timestamp(MONDAY_09_00_ISTANBUL));
    let launcher = public.widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!((launcher.open_now, launcher.opens_at), (true, None), "Monday morning");

    let always = SiteRequest { business_hours: Some(None), ..SiteRequest::default() };
    assert_eq!(owner.update_site(seed.site.id.0, &always).await.unwrap().business_hours, None);
}

#[tokio::test]
async fn teams_keep_their_own_hours_and_bad_schedules_name_the_field() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let night = BusinessHours {
        time_zone: "Asia/Tehran".into(),
        weekly: vec![WeeklyHours { day: 5, open: "22:00".into(), close: "02:00".into() }],
        holidays: vec![],
    };
    let team = TeamRequest {
        name: Some("Night shift".into()),
        agent_ids: None,
        business_hours: Some(Some(night.clone())),
        ..TeamRequest::default()
    };
    let team = owner.create_team(&team).await.unwrap();
    assert_eq!(team.business_hours.as_ref(), Some(&night), "an overnight range is fine");
    assert_eq!(owner.team(team.id).await.unwrap().business_hours, Some(night.clone()));

    let with = |h: BusinessHours| SiteRequest { business_hours: Some(Some(h)), ..SiteRequest::default() };
    let site = seed.site.id.0;
    assert_invalid(owner.update_site(site, &with(BusinessHours { time_zone: "Mars/Olympus".into(), ..night.clone() })).await, "time_zone");
    assert_invalid(
        owner.update_site(site, &with(BusinessHours { weekly: weekdays("9:00", "17:00"), ..night.clone() })).await,
        "weekly.open",
    );
    let eighth = vec![WeeklyHours { day: 8, open: "09:00".into(), close: "17:00".into() }];
    assert_invalid(owner.update_site(site, &with(BusinessHours { weekly: eighth, ..night.clone() })).await, "weekly.day");
    let bad_day = vec![Holiday { date: "2027-02-30".into(), name: "Never".into() }];
    assert_invalid(owner.update_site(site, &with(BusinessHours { holidays: bad_day, ..night })).await, "holidays.date");
    assert_eq!(owner.site(site).await.unwrap().business_hours, None, "nothing was saved");
}
