//! Business hours: an admin gives a site weekly hours, a time zone and holidays; the
//! widget learns whether the site is open now and, when closed, when it opens next,
//! from the launcher's `GET /widget/{key}` and the socket's `welcome`, on the server's
//! clock. Teams keep their own hours. Bad schedules are refused with the field.
//!
//! Outside hours a visitor who writes gets one automatic reply per closed period, an
//! `outside_hours` event carrying when the team is back (across a weekend, a holiday
//! and a DST change), and a conversation of a team with hours of its own follows the
//! team's calendar, as does the widget of a site whose default team has hours.
//!
//! Routing follows the hours: outside them a team's new chat waits in its queue although
//! an agent is online, agents may still claim it by hand, and when the hours reopen the
//! queue is drained by a stored job.

use std::sync::Arc;

use switchboard_core::JobKind;
use switchboard_core::ManualClock;
use switchboard_domain::Timestamp;
use switchboard_testkit::proto::{
    AgentOut, AssignReason, BusinessHours, EventBody, Holiday, Role, SiteRequest, TeamRequest, UpdateWorkspace, VisitorOut, WeeklyHours,
};
use switchboard_testkit::{AgentSocket, Api, Seed, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::{AGENT_PASSWORD, agent_socket_with_cookie, assert_invalid, new_agent, session_cookie};

fn weekdays(open: &str, close: &str) -> Vec<WeeklyHours> {
    (1..=5).map(|day| WeeklyHours { day, open: open.into(), close: close.into() }).collect()
}

/// 2026-12-11 is a Friday; Istanbul is UTC+3 all year.
const FRIDAY_18_00_ISTANBUL: i64 = 1_797_001_200_000;
const MONDAY_09_00_ISTANBUL: i64 = FRIDAY_18_00_ISTANBUL + (2 * 24 + 15) * 3_600_000;
const HOUR: i64 = 3_600_000;
/// 2026-12-31, a Thursday, the evening before the New Year holiday.
const THURSDAY_31_18_00_ISTANBUL: i64 = 1_798_729_200_000;
/// 2027-01-04, the Monday after the holiday and the weekend.
const MONDAY_4_09_00_ISTANBUL: i64 = 1_799_042_400_000;
/// 2027-03-13, a Saturday at noon in New York (EST, UTC-5), the day before clocks go forward.
const SATURDAY_NOON_NEW_YORK: i64 = 1_804_957_200_000;
/// 2027-03-15, Monday 09:00 in New York, now EDT (UTC-4): 13:00 UTC, not 14:00.
const MONDAY_09_00_NEW_YORK: i64 = 1_805_115_600_000;

fn istanbul_office() -> BusinessHours {
    BusinessHours {
        time_zone: "Europe/Istanbul".into(),
        weekly: weekdays("09:00", "17:00"),
        holidays: vec![Holiday { date: "2027-01-01".into(), name: "Yılbaşı".into() }],
    }
}

/// The `reopens_at` of every automatic reply in the conversation, as an agent reads it.
async fn replies(owner: &Api, conversation: Uuid) -> Vec<Option<i64>> {
    let history = owner.history(conversation, &Default::default()).await.unwrap().items;
    history
        .iter()
        .filter_map(|e| match e.body {
            EventBody::OutsideHours { reopens_at } => Some(reopens_at),
            _ => None,
        })
        .collect()
}

/// The visitor's next automatic reply, live on their socket.
async fn reply_seen(visitor: &mut VisitorSocket, conversation: Uuid) -> Option<i64> {
    expect_frame!(visitor, VisitorOut::Event { event } if event.conversation_id == conversation && matches!(event.body, EventBody::OutsideHours { .. }) => match event.body {
        EventBody::OutsideHours { reopens_at } => reopens_at,
        _ => unreachable!(),
    })
    .expect("an automatic reply reaches the visitor")
}

async fn set_site_hours(owner: &Api, seed: &Seed, hours: Option<BusinessHours>) {
    owner.update_site(seed.site.id.0, &SiteRequest { business_hours: Some(hours), ..SiteRequest::default() }).await.unwrap();
}

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

#[tokio::test]
async fn a_visitor_writing_outside_hours_is_told_once_when_the_team_is_back() {
    let clock = Arc::new(ManualClock::new(Timestamp(MONDAY_09_00_ISTANBUL + HOUR)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    set_site_hours(&owner, &seed, Some(istanbul_office())).await;

    // Monday 10:00, within the hours: the visitor's message gets no automatic reply.
    let mut visitor = app.visitor_socket(&seed.site).await;
    let conversation = visitor.say(None, "c-1", "Merhaba").await.unwrap().conversation_id;
    assert_eq!(replies(&owner, conversation).await, Vec::<Option<i64>>::new(), "open: nothing");

    // Friday 18:00: closed until Monday 09:00, said once, on the visitor's socket too.
    clock.set(Timestamp(FRIDAY_18_00_ISTANBUL));
    visitor.say(Some(conversation), "c-2", "Hâlâ orada mısınız?").await.unwrap();
    assert_eq!(reply_seen(&mut visitor, conversation).await, Some(MONDAY_09_00_ISTANBUL));
    // Saturday: the same closed period, so no second reply.
    clock.set(Timestamp(FRIDAY_18_00_ISTANBUL + 17 * HOUR));
    visitor.say(Some(conversation), "c-3", "Cumartesi de yazıyorum").await.unwrap();
    assert_eq!(replies(&owner, conversation).await, vec![Some(MONDAY_09_00_ISTANBUL)], "exactly one reply for the weekend");

    // The next closed period, a holiday evening: back after the holiday and the weekend.
    clock.set(Timestamp(THURSDAY_31_18_00_ISTANBUL));
    visitor.say(Some(conversation), "c-4", "Yeni yıldan önce bir soru").await.unwrap();
    assert_eq!(reply_seen(&mut visitor, conversation).await, Some(MONDAY_4_09_00_ISTANBUL));
    clock.set(Timestamp(THURSDAY_31_18_00_ISTANBUL + 18 * HOUR));
    visitor.say(Some(conversation), "c-5", "Bayramda da yazdım").await.unwrap();
    // Three weeks on the clock outlive the owner's session: sign in again.
    let owner = app.owner(&seed).await;
    assert_eq!(replies(&owner, conversation).await, vec![Some(MONDAY_09_00_ISTANBUL), Some(MONDAY_4_09_00_ISTANBUL)]);

    // A new conversation started while closed gets its own reply.
    let mut other = app.visitor_socket(&seed.site).await;
    let started = other.say(None, "o-1", "Tatilde kimse var mı?").await.unwrap().conversation_id;
    assert_eq!(reply_seen(&mut other, started).await, Some(MONDAY_4_09_00_ISTANBUL));
    assert_eq!(replies(&owner, started).await.len(), 1);
}

#[tokio::test]
async fn a_teams_own_hours_override_the_sites_for_its_conversations_and_the_widget() {
    let clock = Arc::new(ManualClock::new(Timestamp(SATURDAY_NOON_NEW_YORK)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let public = Api::new(app.url(""));
    // The site itself has no hours (always open); its default team answers weekdays in
    // New York.
    let new_york = BusinessHours { time_zone: "America/New_York".into(), weekly: weekdays("09:00", "17:00"), holidays: vec![] };
    let team = TeamRequest { name: Some("US".into()), business_hours: Some(Some(new_york)), ..TeamRequest::default() };
    let team = owner.create_team(&team).await.unwrap();
    owner.update_site(seed.site.id.0, &SiteRequest { default_team_id: Some(Some(team.id)), ..SiteRequest::default() }).await.unwrap();

    let launcher = public.widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!((launcher.open_now, launcher.opens_at), (false, Some(MONDAY_09_00_NEW_YORK)), "the widget follows the default team");
    let mut visitor = app.visitor_socket(&seed.site).await;
    let Some(VisitorOut::Welcome { site, .. }) = &visitor.welcome else { panic!("no welcome") };
    assert_eq!((site.open_now, site.opens_at), (false, Some(MONDAY_09_00_NEW_YORK)));

    // Saturday noon before the spring DST change: back Monday 09:00 EDT, one hour
    // earlier in UTC than the same local time a week before.
    let conversation = visitor.say(None, "c-1", "Hi, anyone?").await.unwrap().conversation_id;
    assert_eq!(reply_seen(&mut visitor, conversation).await, Some(MONDAY_09_00_NEW_YORK));

    // The site closed all week does not matter to the team's conversations on Monday.
    set_site_hours(&owner, &seed, Some(BusinessHours { weekly: vec![], ..istanbul_office() })).await;
    clock.set(Timestamp(MONDAY_09_00_NEW_YORK + HOUR));
    visitor.say(Some(conversation), "c-2", "It is Monday now").await.unwrap();
    assert_eq!(replies(&owner, conversation).await, vec![Some(MONDAY_09_00_NEW_YORK)], "the team is open: no reply");
    let launcher = public.widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!((launcher.open_now, launcher.opens_at), (true, None));

    // Without a team of its own hours, the site's calendar applies again.
    owner.update_site(seed.site.id.0, &SiteRequest { default_team_id: Some(None), ..SiteRequest::default() }).await.unwrap();
    let launcher = public.widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!((launcher.open_now, launcher.opens_at), (false, None), "the site has no opening at all");
}

#[tokio::test]
async fn an_admin_previews_unsaved_hours_on_the_servers_clock_and_bad_ones_name_the_field() {
    let clock = Arc::new(ManualClock::new(Timestamp(FRIDAY_18_00_ISTANBUL)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let preview = owner.preview_hours(&istanbul_office()).await.unwrap();
    assert_eq!((preview.open_now, preview.opens_at), (false, Some(MONDAY_09_00_ISTANBUL)));
    clock.set(Timestamp(MONDAY_09_00_ISTANBUL));
    let preview = owner.preview_hours(&istanbul_office()).await.unwrap();
    assert_eq!((preview.open_now, preview.opens_at), (true, None));

    let bad = BusinessHours { weekly: vec![WeeklyHours { day: 1, open: "09:00".into(), close: "25:00".into() }], ..istanbul_office() };
    assert_invalid(owner.preview_hours(&bad).await, "weekly.close");
    assert_invalid(owner.preview_hours(&BusinessHours { time_zone: "Europe/Atlantis".into(), ..istanbul_office() }).await, "time_zone");
    assert_eq!(owner.site(seed.site.id.0).await.unwrap().business_hours, None, "a preview saves nothing");

    // Agents do not configure hours.
    let (_, agent) = crate::support::new_agent(&app, &owner, "ana@acme.example", switchboard_testkit::proto::Role::Agent).await;
    let refused = agent.preview_hours(&istanbul_office()).await.unwrap_err();
    assert!(matches!(refused, switchboard_testkit::ClientError::Api { status: 403, .. }), "{refused:?}");
}

/// Waits on an agent's socket for `conversation`'s `queued` event: routing has decided.
async fn queued_seen(ws: &mut AgentSocket, conversation: Uuid) {
    let queued = expect_frame!(ws, AgentOut::Event { event } if event.conversation_id == conversation && matches!(event.body, EventBody::Queued { .. }) => event.seq);
    queued.expect("the chat enters the team's queue");
}

#[tokio::test]
async fn outside_hours_a_chat_waits_for_the_reopening_although_an_agent_is_online_and_a_claim_still_works() {
    let clock = Arc::new(ManualClock::new(Timestamp(FRIDAY_18_00_ISTANBUL)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    // Nobody goes away from idleness over the weekend: Ana stays online throughout.
    owner.update_workspace(&UpdateWorkspace { auto_away_minutes: Some(None), ..Default::default() }).await.unwrap();
    set_site_hours(&owner, &seed, Some(istanbul_office())).await;
    let (ana, ana_api) = new_agent(&app, &owner, "ana@acme.example", Role::Agent).await;
    let (cookie, _) = session_cookie(&app, "ana@acme.example", AGENT_PASSWORD).await;
    let mut ana_ws = agent_socket_with_cookie(&app, &cookie).await;
    expect_frame!(ana_ws, AgentOut::CaughtUp { .. }).expect("caught up");
    let team = TeamRequest { name: Some("Support".into()), agent_ids: Some(vec![ana.id]), ..TeamRequest::default() };
    let team = owner.create_team(&team).await.unwrap();
    owner.update_site(seed.site.id.0, &SiteRequest { default_team_id: Some(Some(team.id)), ..SiteRequest::default() }).await.unwrap();

    // Friday evening, the office is closed: Ana is online with free places, yet the chat
    // waits in the queue, and the visitor is told when the team is back.
    let mut visitor = app.visitor_socket(&seed.site).await;
    let waiting = visitor.say(None, "w-1", "Is anyone there?").await.unwrap().conversation_id;
    assert_eq!(reply_seen(&mut visitor, waiting).await, Some(MONDAY_09_00_ISTANBUL));
    queued_seen(&mut ana_ws, waiting).await;
    let c = owner.conversation(waiting).await.unwrap();
    assert_eq!((c.assignee_id, c.queue_position), (None, Some(1)), "paused: no assignment outside hours");

    // Ana can still take a chat by hand.
    let mut other = app.visitor_socket(&seed.site).await;
    let claimed = other.say(None, "c-1", "Urgent, sorry").await.unwrap().conversation_id;
    queued_seen(&mut ana_ws, claimed).await;
    assert_eq!(ana_api.claim(claimed).await.unwrap().assignee_id, Some(ana.id), "a claim works outside hours");
    assert_eq!(owner.conversation(waiting).await.unwrap().assignee_id, None, "the other still waits");

    // Monday 09:00 the office opens: the drain due then assigns the waiting chat.
    clock.set(Timestamp(MONDAY_09_00_ISTANBUL));
    let ran = app.run_pending_jobs().await;
    assert!(ran.iter().any(|j| matches!(j.kind, Some(JobKind::DrainQueue { at, .. }) if at.0 == MONDAY_09_00_ISTANBUL)), "{ran:?}");
    let assigned = expect_frame!(ana_ws, AgentOut::Event { event } if event.conversation_id == waiting && matches!(event.body, EventBody::Assigned { .. }) => event.body);
    let EventBody::Assigned { assignee_id, reason, .. } = assigned.expect("assigned at the reopening") else { unreachable!() };
    assert_eq!((assignee_id, reason), (Some(ana.id), AssignReason::Routed));
    let owner = app.owner(&seed).await;
    assert!(owner.queues().await.unwrap().queues.iter().all(|q| q.length == 0), "the queue drained");
}
