//! Bans: who a workspace refuses to chat with — an address or a range of addresses
//! (IPv4 or IPv6 CIDR), a visitor (contact), or an e-mail — and whether a ban applies
//! to a given visitor at a given time. Plain rules, so the hot path's check is a loop
//! over a workspace's list in memory.

use std::fmt;
use std::net::IpAddr;

use crate::{Actor, BanId, ContactId, Email, Timestamp, ValidationError, WorkspaceId};

/// An address range in CIDR form: `203.0.113.0/24`, `2001:db8::/32`, or one address
/// (`/32` or `/128` implied). Bits past the prefix are cleared, so `10.1.2.3/8` is
/// stored and shown as `10.0.0.0/8`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let err = |why: &str| ValidationError::new("value", why);
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (raw, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| err("is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| err("has a prefix length that is not a number"))?
            }
            Some(_) => return Err(err("has a prefix length that is not a number")),
        };
        if prefix > max {
            return Err(err(if max == 32 { "has a prefix longer than 32 bits" } else { "has a prefix longer than 128 bits" }));
        }
        // A ban of "everything" is a mistake waiting to lock every visitor out.
        if prefix == 0 {
            return Err(err("covers every address (prefix /0)"));
        }
        Ok(Self::new(addr, prefix))
    }

    /// The range of `prefix` bits around `addr` (prefix clamped to the family's width).
    pub fn new(addr: IpAddr, prefix: u8) -> Self {
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.min(max);
        let network = match addr {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask32(prefix)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask128(prefix)).into()),
        };
        Self { network, prefix }
    }

    /// Whether `addr` lies in the range. An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`,
    /// as a dual-stack socket reports it) counts as the IPv4 address.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, canonical(addr)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => u32::from(a) & mask32(self.prefix) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(a)) => u128::from(a) & mask128(self.prefix) == u128::from(net),
            _ => false,
        }
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

fn mask32(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) }
}

fn mask128(prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) }
}

/// What a ban refuses.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum BanTarget {
    /// Every visitor connecting from the range.
    Ip(IpRange),
    /// One visitor (contact), whatever their address.
    Contact(ContactId),
    /// Any contact whose e-mail is this one.
    Email(Email),
}

impl BanTarget {
    /// `ip`, `contact` or `email`: how the store and the wire name the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            BanTarget::Ip(_) => "ip",
            BanTarget::Contact(_) => "contact",
            BanTarget::Email(_) => "email",
        }
    }

    /// The target as text: the range, the contact's id or the e-mail.
    pub fn value(&self) -> String {
        match self {
            BanTarget::Ip(range) => range.to_string(),
            BanTarget::Contact(id) => id.to_string(),
            BanTarget::Email(email) => email.as_str().to_owned(),
        }
    }

    /// The target from its kind and value, as [`BanTarget::kind`] and
    /// [`BanTarget::value`] wrote them or as a person typed them.
    pub fn parse(kind: &str, value: &str) -> Result<Self, ValidationError> {
        match kind {
            "ip" => IpRange::parse(value).map(BanTarget::Ip),
            "contact" => {
                value.trim().parse::<ContactId>().map(BanTarget::Contact).map_err(|_| ValidationError::new("value", "is not a contact id"))
            }
            "email" => Email::parse(value).map(BanTarget::Email).map_err(|e| ValidationError::new("value", e.reason)),
            _ => Err(ValidationError::new("kind", "must be ip, contact or email")),
        }
    }
}

/// A ban as stored: who is refused, why, until when, and who decided it.
#[derive(Clone, PartialEq, Debug)]
pub struct Ban {
    pub id: BanId,
    pub workspace_id: WorkspaceId,
    pub target: BanTarget,
    /// Why, for the team; never shown to the visitor. At most 500 characters.
    pub reason: String,
    /// `None` bans for good.
    pub expires_at: Option<Timestamp>,
    pub created_by: Actor,
    pub created_at: Timestamp,
}

/// What is known of a visitor when a ban is checked.
#[derive(Clone, Copy, Debug, Default)]
pub struct BanSubject<'a> {
    pub contact: Option<ContactId>,
    pub email: Option<&'a Email>,
    pub ip: Option<IpAddr>,
}

impl Ban {
    /// Whether the ban is in force at `now` (an expiry is the first moment it is not).
    pub fn active_at(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }

    /// Whether the ban, in force at `now`, refuses `who`.
    pub fn refuses(&self, who: &BanSubject<'_>, now: Timestamp) -> bool {
        self.active_at(now)
            && match &self.target {
                BanTarget::Ip(range) => who.ip.is_some_and(|ip| range.contains(ip)),
                BanTarget::Contact(id) => who.contact == Some(*id),
                BanTarget::Email(email) => who.email == Some(email),
            }
    }
}

/// What a banned visitor's widget does, per site.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum BannedBehaviour {
    /// The launcher removes itself; the visitor sees nothing.
    #[default]
    Hide,
    /// The chat shows a polite sentence in the visitor's language.
    Message,
}

impl BannedBehaviour {
    pub fn as_str(self) -> &'static str {
        match self {
            BannedBehaviour::Hide => "hide",
            BannedBehaviour::Message => "message",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "hide" => Some(Self::Hide),
            "message" => Some(Self::Message),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn ban(target: BanTarget, expires_at: Option<i64>) -> Ban {
        Ban {
            id: BanId::new(),
            workspace_id: WorkspaceId::new(),
            target,
            reason: "spam".into(),
            expires_at: expires_at.map(Timestamp),
            created_by: Actor::System,
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn a_range_holds_its_first_and_last_address_and_nothing_either_side() {
        let r = IpRange::parse("203.0.113.0/24").unwrap();
        assert!(r.contains(ip("203.0.113.0")) && r.contains(ip("203.0.113.255")));
        assert!(!r.contains(ip("203.0.112.255")) && !r.contains(ip("203.0.114.0")));
        let v6 = IpRange::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8::")) && v6.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!v6.contains(ip("2001:db9::")) && !v6.contains(ip("2001:db7:ffff::1")));
        assert!(!v6.contains(ip("203.0.113.1")), "families never mix");
    }

    #[test]
    fn one_address_is_a_full_length_range_and_host_bits_are_cleared() {
        assert_eq!(IpRange::parse("198.51.100.7").unwrap().to_string(), "198.51.100.7/32");
        assert_eq!(IpRange::parse("2001:db8::1").unwrap().to_string(), "2001:db8::1/128");
        assert_eq!(IpRange::parse(" 10.1.2.3/8 ").unwrap().to_string(), "10.0.0.0/8");
        let host = IpRange::parse("198.51.100.7/32").unwrap();
        assert!(host.contains(ip("198.51.100.7")) && !host.contains(ip("198.51.100.6")) && !host.contains(ip("198.51.100.8")));
        assert!(IpRange::parse("2001:db8::8/127").unwrap().contains(ip("2001:db8::9")));
        assert!(!IpRange::parse("2001:db8::8/127").unwrap().contains(ip("2001:db8::a")));
    }

    #[test]
    fn an_ipv4_address_seen_through_a_dual_stack_socket_is_still_banned() {
        let r = IpRange::parse("192.0.2.0/24").unwrap();
        assert!(r.contains(ip("::ffff:192.0.2.9")));
        assert_eq!(IpRange::parse("::ffff:192.0.2.9").unwrap().to_string(), "192.0.2.9/32");
    }

    #[test]
    fn nonsense_and_ranges_that_cover_everything_are_refused() {
        for bad in
            ["", "banana", "300.1.1.1", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "0.0.0.0/0", "::/0"]
        {
            assert!(IpRange::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_ban_refuses_only_its_own_kind_of_subject_until_it_expires() {
        let contact = ContactId::new();
        let email = Email::parse("troll@example.com").unwrap();
        let by_contact = ban(BanTarget::Contact(contact), Some(1_000));
        let by_email = ban(BanTarget::Email(email.clone()), None);
        let by_ip = ban(BanTarget::Ip(IpRange::parse("192.0.2.0/24").unwrap()), None);
        let troll = BanSubject { contact: Some(contact), email: Some(&email), ip: Some(ip("192.0.2.1")) };
        let stranger = BanSubject { contact: Some(ContactId::new()), email: None, ip: Some(ip("192.0.3.1")) };
        for b in [&by_contact, &by_email, &by_ip] {
            assert!(b.refuses(&troll, Timestamp(999)), "{:?}", b.target);
            assert!(!b.refuses(&stranger, Timestamp(999)), "{:?}", b.target);
        }
        assert!(!by_contact.refuses(&troll, Timestamp(1_000)), "the expiry is the first moment it no longer applies");
        assert!(by_email.refuses(&troll, Timestamp(i64::MAX)), "no expiry bans for good");
    }

    #[test]
    fn targets_parse_from_what_they_print() {
        for target in [
            BanTarget::Ip(IpRange::parse("2001:db8::/48").unwrap()),
            BanTarget::Contact(ContactId::new()),
            BanTarget::Email(Email::parse("A@Example.com").unwrap()),
        ] {
            assert_eq!(BanTarget::parse(target.kind(), &target.value()).unwrap(), target);
        }
        assert_eq!(BanTarget::parse("phone", "1").unwrap_err().field, "kind");
        assert_eq!(BanTarget::parse("contact", "nope").unwrap_err().field, "value");
    }
}
