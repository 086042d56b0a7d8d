//! Small validated values. Each is parsed once at the edge and trusted inside.

use crate::{Timestamp, ValidationError};

/// An IANA time zone name such as `Europe/Istanbul`, `Asia/Tehran` or `UTC`.
///
/// `parse` checks the form of a name only: the zone database is too large for this
/// crate, so the edge checks that the database knows the name (and spells it as the
/// database does) before it builds one. Stores read back what was checked when written.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TimeZone(String);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.split('/').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+')));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new("time_zone", "must be an IANA time zone name such as Europe/Istanbul"))
        }
    }

    pub fn utc() -> Self {
        Self("UTC".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::utc()
    }
}

/// How many days a site keeps conversations, attachments and page views: 1 to 3650
/// (ten years). Data whose last activity is older than that is deleted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RetentionDays(u16);

impl RetentionDays {
    pub const MAX: i64 = 3650;
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;

    pub fn new(days: i64) -> Result<Self, ValidationError> {
        if (1..=Self::MAX).contains(&days) {
            Ok(Self(days as u16))
        } else {
            Err(ValidationError::new("retention_days", "must be a number of days from 1 to 3650, or null to keep everything"))
        }
    }

    pub fn days(self) -> u16 {
        self.0
    }

    /// What is older than this at `now` is past retention: exactly `days` old is kept.
    pub fn cutoff(self, now: Timestamp) -> Timestamp {
        now.plus_millis(-i64::from(self.0) * Self::DAY_MS)
    }
}

/// A lower-cased, syntactically plausible e-mail address.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let err = |why: &str| ValidationError::new("email", why);
        if s.len() > 254 {
            return Err(err("is longer than 254 characters"));
        }
        let (local, domain) = s.split_once('@').ok_or_else(|| err("has no @"))?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(err("is not an e-mail address"));
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(err("has no valid domain"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("contains spaces or control characters"));
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trimmed free text with a length limit in characters; empty is rejected. The limit
/// counts what was sent, spaces around it included, as the API's schema says.
pub fn non_empty(field: &'static str, raw: &str, max_chars: usize) -> Result<String, ValidationError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if raw.chars().count() > max_chars {
        return Err(ValidationError::new(field, format!("must be at most {max_chars} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

/// A conversation label: lower-case letters, digits, `-` and `_`, in any script.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Label(String);

impl Label {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_lowercase();
        let err = |why: &str| ValidationError::new("labels", why);
        if s.is_empty() || s.chars().count() > 64 {
            return Err(err("each label must have 1 to 64 characters"));
        }
        if !s.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
            return Err(err("labels may contain only letters, digits, '-' and '_'"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses, de-duplicates and sorts a set of labels.
pub fn parse_labels<S: AsRef<str>>(raw: &[S]) -> Result<Vec<Label>, ValidationError> {
    if raw.len() > 50 {
        return Err(ValidationError::new("labels", "at most 50 labels"));
    }
    let mut labels = raw.iter().map(|l| Label::parse(l.as_ref())).collect::<Result<Vec<_>, _>>()?;
    labels.sort();
    labels.dedup();
    Ok(labels)
}

/// What an agent may do in a workspace.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Role {
    Agent,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "agent" => Ok(Role::Agent),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(ValidationError::new("role", "must be one of owner, admin, agent")),
        }
    }

    /// Admins and owners manage the workspace's settings, sites, agents and tokens.
    pub fn can_administer(self) -> bool {
        self >= Role::Admin
    }
}

/// Where a conversation stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Open,
    Pending,
    Snoozed { until: Timestamp },
    Resolved,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Snoozed { .. } => "snoozed",
            Status::Resolved => "resolved",
        }
    }

    /// Builds a status from its stored name and optional snooze deadline.
    pub fn from_parts(name: &str, snoozed_until: Option<Timestamp>) -> Result<Self, ValidationError> {
        match (name, snoozed_until) {
            ("open", _) => Ok(Status::Open),
            ("pending", _) => Ok(Status::Pending),
            ("resolved", _) => Ok(Status::Resolved),
            ("snoozed", Some(until)) => Ok(Status::Snoozed { until }),
            ("snoozed", None) => Err(ValidationError::new("snoozed_until", "is required when snoozing")),
            _ => Err(ValidationError::new("status", "must be one of open, pending, snoozed, resolved")),
        }
    }

    pub fn snoozed_until(self) -> Option<Timestamp> {
        match self {
            Status::Snoozed { until } => Some(until),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::None => "none",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Ok(match raw {
            "none" => Priority::None,
            "low" => Priority::Low,
            "medium" => Priority::Medium,
            "high" => Priority::High,
            "urgent" => Priority::Urgent,
            _ => return Err(ValidationError::new("priority", "must be one of none, low, medium, high, urgent")),
        })
    }
}

/// How a message body is to be rendered. Never raw HTML.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum MessageFormat {
    #[default]
    Text,
    Markdown,
}

impl MessageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageFormat::Text => "text",
            MessageFormat::Markdown => "markdown",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "text" => Ok(MessageFormat::Text),
            "markdown" => Ok(MessageFormat::Markdown),
            _ => Err(ValidationError::new("format", "must be text or markdown")),
        }
    }
}

/// A web origin such as `https://shop.example`, normalised to lower case with no trailing slash.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Origin(String);

impl Origin {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().trim_end_matches('/').to_lowercase();
        let err = || ValidationError::new("allowed_origins", format!("'{raw}' is not an origin like https://example.com"));
        let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).ok_or_else(err)?;
        if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('#') || rest.contains(' ') {
            return Err(err());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A hex colour like `#1f6feb`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Color(String);

impl Color {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_lowercase();
        let hex = s.strip_prefix('#').unwrap_or("");
        if (hex.len() == 6 || hex.len() == 3) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Self(s))
        } else {
            Err(ValidationError::new("color", "must be a hex colour like #1f6feb"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BCP 47-ish language tag such as `en`, `fa-IR`, `ar`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Locale(String);

impl Locale {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && raw.len() <= 35
            && s.split('-').all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if ok { Ok(Self(s.to_owned())) } else { Err(ValidationError::new("locale", "must be a language tag such as en, ar or fa-IR")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Languages written right to left, for layout decisions.
    pub fn is_rtl(&self) -> bool {
        let lang = self.0.split('-').next().unwrap_or("").to_ascii_lowercase();
        matches!(lang.as_str(), "ar" | "fa" | "he" | "ur" | "ps" | "ckb" | "yi" | "dv")
    }
}

impl Default for Locale {
    fn default() -> Self {
        Self("en".into())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn retention_days_are_one_day_to_ten_years_and_keep_what_is_exactly_that_old() {
        use super::{RetentionDays, Timestamp};
        assert!(RetentionDays::new(0).is_err());
        assert!(RetentionDays::new(-3).is_err());
        assert!(RetentionDays::new(3651).is_err());
        assert_eq!(RetentionDays::new(3650).unwrap().days(), 3650);
        let week = RetentionDays::new(7).unwrap();
        assert_eq!(week.cutoff(Timestamp(8 * 86_400_000)), Timestamp(86_400_000));
    }

    use super::*;

    /// The API's schema gives lengths of what is sent; a value that only fits once its
    /// spaces are trimmed would be one the schema calls invalid yet the server accepts.
    #[test]
    fn limits_count_what_was_sent_and_the_value_is_trimmed() {
        assert_eq!(non_empty("name", "  Ana ", 6).unwrap(), "Ana");
        assert!(non_empty("name", "  Ana  ", 6).is_err());
        assert!(non_empty("name", "   ", 10).is_err());
        assert!(Locale::parse(&format!(" en{}", " ".repeat(33))).is_err());
        assert_eq!(Locale::parse(" fa-IR ").unwrap().as_str(), "fa-IR");
    }

    #[test]
    fn a_time_zone_name_has_the_form_of_an_iana_name() {
        assert_eq!(TimeZone::parse(" Asia/Tehran ").unwrap().as_str(), "Asia/Tehran");
        assert_eq!(TimeZone::parse("America/Argentina/Buenos_Aires").unwrap().as_str(), "America/Argentina/Buenos_Aires");
        assert_eq!(TimeZone::parse("Etc/GMT+3").unwrap().as_str(), "Etc/GMT+3");
        assert_eq!(TimeZone::default().as_str(), "UTC");
        for bad in ["", "Europe/", "/UTC", "Europe//Paris", "Europe/Par is", "../etc/passwd", &"A".repeat(65)] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn email_is_trimmed_lowercased_and_checked() {
        assert_eq!(Email::parse("  Ana@Shop.Example ").unwrap().as_str(), "ana@shop.example");
        assert!(Email::parse("ana").is_err());
        assert!(Email::parse("ana@localhost").is_err());
        assert!(Email::parse("a b@x.io").is_err());
    }

    #[test]
    fn labels_accept_any_script_and_are_deduplicated() {
        let labels = parse_labels(&["VIP", "vip", "فوری", "billing-2"]).unwrap();
        let names: Vec<_> = labels.iter().map(Label::as_str).collect();
        assert_eq!(names, ["billing-2", "vip", "فوری"]);
        assert!(Label::parse("no spaces").is_err());
    }

    #[test]
    fn snoozing_needs_a_deadline() {
        assert!(Status::from_parts("snoozed", None).is_err());
        assert_eq!(Status::from_parts("snoozed", Some(Timestamp(5))).unwrap(), Status::Snoozed { until: Timestamp(5) });
        assert!(Status::from_parts("closed", None).is_err());
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(Origin::parse("HTTPS://Shop.example/").unwrap().as_str(), "https://shop.example");
        assert!(Origin::parse("shop.example").is_err());
        assert!(Origin::parse("https://shop.example/path").is_err());
    }

    #[test]
    fn rtl_locales_are_known() {
        assert!(Locale::parse("fa-IR").unwrap().is_rtl());
        assert!(Locale::parse("he").unwrap().is_rtl());
        assert!(!Locale::parse("tr").unwrap().is_rtl());
        assert!(Locale::parse("en_US!").is_err());
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Owner.can_administer());
        assert!(Role::Admin.can_administer());
        assert!(!Role::Agent.can_administer());
    }
}
