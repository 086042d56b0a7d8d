//! Business hours: a weekly schedule in a time zone, with holidays, and the two pure
//! questions everything else asks of it: is it open at an instant, and when does it
//! open next. Sites and teams have them (a team's override its site's); the widget
//! shows the offline form outside them, and reports will count in the same calendar.
//!
//! A range whose close is not after its open runs overnight (Friday 22:00–02:00 ends
//! on Saturday); it belongs to the day it opens, so a holiday closes the ranges that
//! open on it, not the end of the night before. Local times that a DST change skips
//! open at the first instant after the gap (jiff's "compatible" rule).

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone as Zone;
use jiff::{Timestamp as Instant, ToSpan};

use crate::{TimeZone, Timestamp, ValidationError};

/// Minutes since midnight, local time: 0..=1440 (1440 closes at the end of the day).
pub type Minute = u16;

/// One opening of the week: `day` is ISO (Monday = 1 … Sunday = 7).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WeeklyRange {
    pub day: u8,
    pub open: Minute,
    pub close: Minute,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
}

/// When a site or team answers. Built with [`BusinessHours::new`], which checks it.
#[derive(Clone, PartialEq, Debug)]
pub struct BusinessHours {
    time_zone: TimeZone,
    zone: Zone,
    weekly: Vec<WeeklyRange>,
    holidays: Vec<Holiday>,
}

/// How far ahead [`BusinessHours::opens_at`] looks (a year of holidays, and a week).
const LOOKAHEAD_DAYS: i32 = 366 + 7;
const MAX_RANGES: usize = 7 * 8;
const MAX_HOLIDAYS: usize = 400;

/// Reads `"HH:MM"` (00:00–24:00) as minutes since midnight; `field` names it in errors.
pub fn parse_minute(raw: &str, field: &'static str) -> Result<Minute, ValidationError> {
    let bad = || ValidationError::new(field, "must be a time of day as HH:MM, from 00:00 to 24:00");
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Minutes since midnight as `"HH:MM"`.
pub fn format_minute(m: Minute) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Reads `"YYYY-MM-DD"`.
pub fn parse_date(raw: &str, field: &'static str) -> Result<Date, ValidationError> {
    let bad = || ValidationError::new(field, "must be a date as YYYY-MM-DD");
    if raw.len() != 10 {
        return Err(bad());
    }
    raw.parse::<Date>().map_err(|_| bad())
}

impl BusinessHours {
    /// Checks a schedule: a time zone of the IANA database, days 1..=7, an open and a
    /// close that differ, at most 56 ranges and 400 holidays, no date twice.
    pub fn new(time_zone: TimeZone, weekly: Vec<WeeklyRange>, holidays: Vec<Holiday>) -> Result<Self, ValidationError> {
        let zone = jiff::tz::db()
            .get(time_zone.as_str())
            .map_err(|_| ValidationError::new("time_zone", "is not a time zone of the IANA database, such as Europe/Istanbul"))?;
        if weekly.len() > MAX_RANGES {
            return Err(ValidationError::new("weekly", "must have at most 56 ranges"));
        }
        for r in &weekly {
            if !(1..=7).contains(&r.day) {
                return Err(ValidationError::new("weekly.day", "must be from 1 (Monday) to 7 (Sunday)"));
            }
            if r.open >= 1440 || r.close > 1440 || r.open == r.close {
                return Err(ValidationError::new("weekly.close", "must differ from open (a close before open runs past midnight)"));
            }
        }
        if holidays.len() > MAX_HOLIDAYS {
            return Err(ValidationError::new("holidays", "must have at most 400 dates"));
        }
        for (i, h) in holidays.iter().enumerate() {
            if h.name.chars().count() > 100 {
                return Err(ValidationError::new("holidays.name", "must be at most 100 characters"));
            }
            if holidays[..i].iter().any(|o| o.date == h.date) {
                return Err(ValidationError::new("holidays.date", "lists a date twice"));
            }
        }
        Ok(Self { time_zone, zone, weekly, holidays })
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    pub fn weekly(&self) -> &[WeeklyRange] {
        &self.weekly
    }

    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    fn holiday(&self, date: Date) -> bool {
        self.holidays.iter().any(|h| h.date == date)
    }

    /// The ranges that open on `date` (none on a holiday).
    fn opening_on(&self, date: Date) -> impl Iterator<Item = &WeeklyRange> {
        let day = date.weekday().to_monday_one_offset() as u8;
        let closed = self.holiday(date);
        self.weekly.iter().filter(move |r| !closed && r.day == day)
    }

    /// Whether the schedule is open at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let Ok(instant) = Instant::from_millisecond(at.0) else { return false };
        let local = instant.to_zoned(self.zone.clone()).datetime();
        let (today, minute) = (local.date(), (local.hour() as u16) * 60 + local.minute() as u16);
        let open_today =
            self.opening_on(today).any(|r| if r.open < r.close { r.open <= minute && minute < r.close } else { minute >= r.open });
        let from_yesterday = || match today.yesterday() {
            Ok(yesterday) => self.opening_on(yesterday).any(|r| r.close < r.open && minute < r.close),
            Err(_) => false,
        };
        open_today || from_yesterday()
    }

    /// When the schedule next opens, if it is closed at `at`: `None` when it is open,
    /// or has no opening within a year.
    pub fn opens_at(&self, at: Timestamp) -> Option<Timestamp> {
        if self.is_open(at) {
            return None;
        }
        let instant = Instant::from_millisecond(at.0).ok()?;
        let today = instant.to_zoned(self.zone.clone()).date();
        for offset in 0..LOOKAHEAD_DAYS {
            let date = today.checked_add(offset.days()).ok()?;
            let mut opens: Vec<Minute> = self.opening_on(date).map(|r| r.open).collect();
            opens.sort_unstable();
            for open in opens {
                let time = Time::new((open / 60) as i8, (open % 60) as i8, 0, 0).ok()?;
                let when = date.to_datetime(time).to_zoned(self.zone.clone()).ok()?.timestamp();
                if when.as_millisecond() > at.0 {
                    return Some(Timestamp(when.as_millisecond()));
                }
            }
        }
        None
    }
}

/// The calendar a conversation follows: its team's when the team has hours of its own,
/// else its site's; `None` (no hours anywhere) is always open. The widget of a site
/// follows its default team's the same way.
pub fn calendar<'a>(site: Option<&'a BusinessHours>, team: Option<&'a BusinessHours>) -> Option<&'a BusinessHours> {
    team.or(site)
}

/// The automatic reply a conversation is owed at `now` under `hours`, if any: when the
/// calendar is closed, an [`EventData::OutsideHours`] saying when it reopens, unless the
/// conversation was already told about this closed period. A closed period is known by
/// its reopening instant, so `told` is the `reopens_at` of the conversation's recent
/// automatic replies.
pub fn reply_outside_hours(
    hours: Option<&BusinessHours>,
    now: Timestamp,
    told: impl IntoIterator<Item = Option<Timestamp>>,
) -> Option<crate::EventData> {
    let hours = hours?;
    if hours.is_open(now) {
        return None;
    }
    let reopens_at = hours.opens_at(now);
    if told.into_iter().any(|t| t == reopens_at) {
        return None;
    }
    Some(crate::EventData::OutsideHours { reopens_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: &str, local: &str) -> Timestamp {
        let dt: jiff::civil::DateTime = local.parse().unwrap();
        Timestamp(dt.to_zoned(jiff::tz::db().get(zone).unwrap()).unwrap().timestamp().as_millisecond())
    }

    fn range(day: u8, open: &str, close: &str) -> WeeklyRange {
        WeeklyRange { day, open: parse_minute(open, "open").unwrap(), close: parse_minute(close, "close").unwrap() }
    }

    /// Monday to Friday 09:00–17:00 in Istanbul.
    fn office() -> BusinessHours {
        BusinessHours::new(TimeZone::parse("Europe/Istanbul").unwrap(), (1..=5).map(|d| range(d, "09:00", "17:00")).collect(), vec![])
            .unwrap()
    }

    #[test]
    fn open_within_the_weekly_ranges_in_the_schedules_own_zone() {
        let h = office();
        // 2026-12-07 is a Monday.
        assert!(!h.is_open(at("Europe/Istanbul", "2026-12-07T08:59:59")));
        assert!(h.is_open(at("Europe/Istanbul", "2026-12-07T09:00")));
        assert!(h.is_open(at("Europe/Istanbul", "2026-12-07T16:59")));
        assert!(!h.is_open(at("Europe/Istanbul", "2026-12-07T17:00")), "close is exclusive");
        // 09:30 in London is 12:30 in Istanbul.
        assert!(h.is_open(at("Europe/London", "2026-12-07T09:30")));
        assert!(!h.is_open(at("Europe/London", "2026-12-07T14:30")), "17:30 in Istanbul");
    }

    #[test]
    fn the_next_opening_skips_the_weekend() {
        let h = office();
        let friday_evening = at("Europe/Istanbul", "2026-12-11T18:00");
        assert_eq!(h.opens_at(friday_evening), Some(at("Europe/Istanbul", "2026-12-14T09:00")), "Monday 09:00");
        assert_eq!(h.opens_at(at("Europe/Istanbul", "2026-12-14T06:00")), Some(at("Europe/Istanbul", "2026-12-14T09:00")), "later today");
        assert_eq!(h.opens_at(at("Europe/Istanbul", "2026-12-14T10:00")), None, "open now");
    }

    #[test]
    fn an_overnight_range_runs_past_midnight_into_the_next_day() {
        let zone = TimeZone::parse("Asia/Tehran").unwrap();
        let h = BusinessHours::new(zone, vec![range(5, "22:00", "02:00")], vec![]).unwrap();
        assert!(h.is_open(at("Asia/Tehran", "2026-12-11T23:00")), "Friday night");
        assert!(h.is_open(at("Asia/Tehran", "2026-12-12T01:59")), "Saturday small hours");
        assert!(!h.is_open(at("Asia/Tehran", "2026-12-12T02:00")));
        assert!(!h.is_open(at("Asia/Tehran", "2026-12-11T01:00")), "Friday's small hours belong to Thursday, which is closed");
        assert_eq!(h.opens_at(at("Asia/Tehran", "2026-12-12T03:00")), Some(at("Asia/Tehran", "2026-12-18T22:00")));
    }

    #[test]
    fn a_holiday_closes_the_day_and_the_next_opening_comes_after_it() {
        let mut h = office();
        let new_year = Holiday { date: parse_date("2027-01-01", "date").unwrap(), name: "Yılbaşı".into() };
        h = BusinessHours::new(h.time_zone.clone(), h.weekly.clone(), vec![new_year]).unwrap();
        // 2027-01-01 is a Friday.
        assert!(!h.is_open(at("Europe/Istanbul", "2027-01-01T10:00")));
        assert_eq!(h.opens_at(at("Europe/Istanbul", "2027-01-01T10:00")), Some(at("Europe/Istanbul", "2027-01-04T09:00")));
        assert!(h.is_open(at("Europe/Istanbul", "2026-12-31T10:00")));
    }

    #[test]
    fn daylight_saving_changes_keep_local_opening_times() {
        // New York: clocks go forward on 2027-03-14 at 02:00, back on 2027-11-07 at 02:00.
        let zone = TimeZone::parse("America/New_York").unwrap();
        let h = BusinessHours::new(zone, (1..=7).map(|d| range(d, "02:30", "09:00")).collect(), vec![]).unwrap();
        let before_spring = at("America/New_York", "2027-03-14T01:00");
        // 02:30 does not exist that day: the schedule opens at the first instant after
        // the gap, 03:30 EDT.
        assert_eq!(h.opens_at(before_spring), Some(at("America/New_York", "2027-03-14T03:30")));
        assert!(h.is_open(at("America/New_York", "2027-03-14T03:30")));
        // The day before and the autumn change: 02:30 local, whatever the UTC offset.
        assert_eq!(h.opens_at(at("America/New_York", "2027-03-13T01:00")), Some(at("America/New_York", "2027-03-13T02:30")));
        let autumn = h.opens_at(at("America/New_York", "2027-11-07T00:00")).unwrap();
        assert_eq!(autumn, at("America/New_York", "2027-11-07T02:30"));
        assert_eq!(autumn.0 - at("America/New_York", "2027-11-06T02:30").0, 25 * 3_600_000, "that day is 25 hours long");
    }

    #[test]
    fn a_teams_own_hours_win_over_its_sites() {
        let site = office();
        let team = BusinessHours::new(TimeZone::utc(), vec![range(6, "10:00", "12:00")], vec![]).unwrap();
        assert_eq!(calendar(Some(&site), Some(&team)), Some(&team));
        assert_eq!(calendar(Some(&site), None), Some(&site), "a team without hours follows its site");
        assert_eq!(calendar(None, None), None);
    }

    #[test]
    fn the_reply_outside_hours_comes_once_per_closed_period() {
        let h = office();
        let friday_evening = at("Europe/Istanbul", "2026-12-11T18:00");
        let monday = at("Europe/Istanbul", "2026-12-14T09:00");
        let reply = |now, told: &[Option<Timestamp>]| reply_outside_hours(Some(&h), now, told.iter().copied());
        assert_eq!(reply(friday_evening, &[]), Some(crate::EventData::OutsideHours { reopens_at: Some(monday) }));
        assert_eq!(reply(at("Europe/Istanbul", "2026-12-12T11:00"), &[Some(monday)]), None, "Saturday: same period");
        assert_eq!(reply(at("Europe/Istanbul", "2026-12-14T10:00"), &[]), None, "open");
        let next_friday = at("Europe/Istanbul", "2026-12-18T18:00");
        assert_eq!(
            reply(next_friday, &[Some(monday)]),
            Some(crate::EventData::OutsideHours { reopens_at: Some(at("Europe/Istanbul", "2026-12-21T09:00")) }),
            "a new closed period"
        );
        assert_eq!(reply_outside_hours(None, friday_evening, []), None, "no hours: always open");
    }

    #[test]
    fn bad_schedules_are_refused_with_the_field() {
        let utc = TimeZone::utc();
        let err = |weekly: Vec<WeeklyRange>| BusinessHours::new(utc.clone(), weekly, vec![]).unwrap_err().field;
        assert_eq!(err(vec![WeeklyRange { day: 8, open: 0, close: 60 }]), "weekly.day");
        assert_eq!(err(vec![WeeklyRange { day: 1, open: 60, close: 60 }]), "weekly.close");
        assert_eq!(BusinessHours::new(TimeZone::parse("Mars/Olympus").unwrap(), vec![], vec![]).unwrap_err().field, "time_zone");
        assert_eq!(parse_minute("9:00", "open").unwrap_err().field, "open");
        assert!(parse_minute("24:01", "close").is_err());
        assert_eq!(parse_minute("24:00", "close").unwrap(), 1440);
        assert_eq!(format_minute(parse_minute("07:05", "open").unwrap()), "07:05");
        assert!(parse_date("2027-02-30", "date").is_err());
        let always_closed = BusinessHours::new(utc, vec![], vec![]).unwrap();
        assert_eq!(always_closed.opens_at(Timestamp(0)), None, "no opening at all");
    }
}
