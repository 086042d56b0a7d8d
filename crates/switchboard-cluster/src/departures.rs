//! Noticing that another node's visitors left without a word (issue 16). A node killed
//! with `kill -9` sends no `VisitorLeft`: its rows in Redis simply expire. For each
//! workspace with a watching socket on this node, the live list's heartbeat reads the
//! other nodes' rows, and [`Departures`] compares them with what it knew: a visitor who
//! was on node N is gone when N's rows are no longer current (expired, or never
//! rewritten after Redis restarted) and no other node, nor this one, holds them.
//!
//! Pure: no Redis, no clock (the caller passes `now_ms`), so the cases are unit tests.
//!
//! Invariants:
//! - only a successful read is compared: a read that failed changes nothing;
//! - a visitor whose node is still current but no longer lists them left (or moved) by
//!   that node's own account, which the bus already carried: not reported again;
//! - a visitor now on this node or on another node has not left;
//! - a node must stay missing for `confirm_ms` before its visitors are reported, so a
//!   Redis that restarted empty (every node rewrites within a heartbeat) is no departure.

use std::collections::{HashMap, HashSet};

use switchboard_domain::{ContactId, LiveVisitor, SiteId};

/// One visitor on one site: the live list's row key.
pub(crate) type Key = (SiteId, ContactId);

/// What one successful read found in a workspace: each other node whose rows are
/// current, with those rows.
pub(crate) type Read = HashMap<String, Vec<LiveVisitor>>;

/// A visitor last seen on another node.
#[derive(Debug)]
struct Known {
    node: String,
    /// When a read first found neither them nor their node.
    missing_since: Option<i64>,
}

/// The visitors of one workspace known to be on other nodes.
#[derive(Default, Debug)]
pub(crate) struct Departures {
    known: HashMap<Key, Known>,
}

impl Departures {
    /// Takes a successful read; returns the visitors who left with their node. `here`
    /// is this node's own visitors of the workspace.
    pub(crate) fn update(&mut self, read: &Read, here: &HashSet<Key>, now_ms: i64, confirm_ms: i64) -> Vec<Key> {
        let mut current: HashMap<Key, &str> = HashMap::new();
        for (node, rows) in read {
            for row in rows {
                current.insert((row.site_id, row.contact_id), node);
            }
        }
        let mut left = vec![];
        let mut next: HashMap<Key, Known> = HashMap::new();
        for (key, mut known) in self.known.drain() {
            // Still elsewhere (taken again below), moved here, or their node said they left.
            if current.contains_key(&key) || here.contains(&key) || read.contains_key(&known.node) {
                continue;
            }
            let since = *known.missing_since.get_or_insert(now_ms);
            if now_ms - since >= confirm_ms {
                left.push(key);
            } else {
                next.insert(key, known);
            }
        }
        for (key, node) in current {
            // One on this node is this node's to report when they leave.
            if !here.contains(&key) {
                next.insert(key, Known { node: node.to_owned(), missing_since: None });
            }
        }
        self.known = next;
        left.sort();
        left
    }
}

#[cfg(test)]
mod tests {
    use switchboard_domain::*;

    use super::*;

    fn row(site: SiteId, contact: ContactId) -> LiveVisitor {
        LiveVisitor {
            workspace_id: WorkspaceId::new(),
            site_id: site,
            contact_id: contact,
            visit_id: VisitId::new(),
            url: "https://shop.example/".into(),
            title: None,
            page_since: Timestamp(0),
            visit_started_at: Timestamp(0),
            pages_this_visit: 1,
            referrer: None,
            utm: Utm::default(),
            visit_number: 1,
            device: DeviceInfo::default(),
            country: None,
            name: None,
            email: None,
            lead_score: 0,
            chat: LiveChat::default(),
            tabs: 1,
        }
    }

    fn read(nodes: &[(&str, &[Key])]) -> Read {
        nodes.iter().map(|(n, keys)| (n.to_string(), keys.iter().map(|(s, c)| row(*s, *c)).collect())).collect()
    }

    fn key() -> Key {
        (SiteId::new(), ContactId::new())
    }

    const CONFIRM: i64 = 500;

    #[test]
    fn a_dead_nodes_visitor_is_reported_once_its_node_stays_missing() {
        let (ana, ben) = (key(), key());
        let mut d = Departures::default();
        assert!(d.update(&read(&[("a", &[ana]), ("c", &[ben])]), &HashSet::new(), 0, CONFIRM).is_empty());
        // A's rows expired: not yet, it may be a Redis that restarted empty.
        assert!(d.update(&read(&[("c", &[ben])]), &HashSet::new(), 200, CONFIRM).is_empty());
        assert_eq!(d.update(&read(&[("c", &[ben])]), &HashSet::new(), 700, CONFIRM), [ana]);
        // Said once.
        assert!(d.update(&read(&[("c", &[ben])]), &HashSet::new(), 900, CONFIRM).is_empty());
    }

    #[test]
    fn a_node_that_writes_again_in_time_loses_nobody() {
        let ana = key();
        let mut d = Departures::default();
        d.update(&read(&[("a", &[ana])]), &HashSet::new(), 0, CONFIRM);
        // Redis restarted empty; A rewrites its rows at its next heartbeat.
        assert!(d.update(&read(&[]), &HashSet::new(), 200, CONFIRM).is_empty());
        assert!(d.update(&read(&[("a", &[ana])]), &HashSet::new(), 400, CONFIRM).is_empty());
        assert!(d.update(&read(&[]), &HashSet::new(), 800, CONFIRM).is_empty(), "missing counts again from here");
        assert_eq!(d.update(&read(&[]), &HashSet::new(), 1_300, CONFIRM), [ana]);
    }

    #[test]
    fn a_visitor_who_left_a_live_node_was_reported_by_that_node() {
        let (ana, ben) = (key(), key());
        let mut d = Departures::default();
        d.update(&read(&[("a", &[ana, ben])]), &HashSet::new(), 0, CONFIRM);
        assert!(d.update(&read(&[("a", &[ben])]), &HashSet::new(), 1_000, CONFIRM).is_empty());
        // A's last visitor leaves too and A writes an empty list: still A's own account.
        assert!(d.update(&read(&[("a", &[])]), &HashSet::new(), 2_000, CONFIRM).is_empty());
        // Then A dies: nobody of A's is left to report.
        assert!(d.update(&read(&[]), &HashSet::new(), 3_000, CONFIRM).is_empty());
        assert!(d.update(&read(&[]), &HashSet::new(), 4_000, CONFIRM).is_empty());
    }

    #[test]
    fn a_visitor_who_moved_to_this_node_or_another_has_not_left() {
        let (ana, ben) = (key(), key());
        let mut d = Departures::default();
        d.update(&read(&[("a", &[ana, ben])]), &HashSet::new(), 0, CONFIRM);
        // A dies; Ana reconnected here, Ben to C.
        let here = HashSet::from([ana]);
        assert!(d.update(&read(&[("c", &[ben])]), &here, 1_000, CONFIRM).is_empty());
        assert!(d.update(&read(&[("c", &[ben])]), &here, 2_000, CONFIRM).is_empty());
        // Ana is this node's now: when she leaves, this node says so, not the diff.
        assert!(d.update(&read(&[("c", &[ben])]), &HashSet::new(), 3_000, CONFIRM).is_empty());
        // C dies: Ben has left, with C.
        assert!(d.update(&read(&[]), &HashSet::new(), 4_000, CONFIRM).is_empty());
        assert_eq!(d.update(&read(&[]), &HashSet::new(), 4_500, CONFIRM), [ben]);
    }

    #[test]
    fn a_visitor_who_moved_before_their_old_node_died_is_followed_to_the_new_one() {
        let ana = key();
        let mut d = Departures::default();
        d.update(&read(&[("a", &[ana])]), &HashSet::new(), 0, CONFIRM);
        // Both copies for a moment (two tabs), then A dies: Ana is on C.
        d.update(&read(&[("a", &[ana]), ("c", &[ana])]), &HashSet::new(), 200, CONFIRM);
        assert!(d.update(&read(&[("c", &[ana])]), &HashSet::new(), 400, CONFIRM).is_empty());
        assert!(d.update(&read(&[("c", &[ana])]), &HashSet::new(), 2_000, CONFIRM).is_empty());
    }
}
