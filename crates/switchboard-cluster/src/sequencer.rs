//! Which events of each workspace this node has delivered to its sockets, by
//! `feed_seq`, so an event that comes twice (a late copy after a timed-out publish, a
//! repair that overlaps the live stream, this node's own echo) reaches the sockets once,
//! and a hole (a lost or late event) is noticed and read from the store.
//!
//! Pure bookkeeping, no I/O: the Redis bus holds one behind a lock and does the reads.
//!
//! Invariant: `feed_seq` is gapless per workspace (the store hands it out under a lock),
//! so "delivered up to N" plus the few delivered above a hole describe everything
//! delivered; nothing at or below the watermark is ever delivered again.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use switchboard_domain::WorkspaceId;

/// One workspace's delivered events.
#[derive(Debug)]
struct Track {
    /// Every `feed_seq` at or below it was delivered (or came before this node knew the
    /// workspace).
    watermark: i64,
    /// Delivered above a hole.
    above: BTreeSet<i64>,
    /// Since when the lowest hole has been open.
    hole_since: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Sequencer {
    workspaces: HashMap<WorkspaceId, Track>,
}

impl Sequencer {
    /// Whether the event `feed_seq` of `ws` is new here: if so it counts as delivered
    /// from now on. The first event of a workspace this node sees sets its base: this
    /// node's sockets of it read everything before from the store when they opened.
    pub fn offer(&mut self, ws: WorkspaceId, feed_seq: i64, now: Instant) -> bool {
        let track =
            self.workspaces.entry(ws).or_insert_with(|| Track { watermark: feed_seq - 1, above: BTreeSet::new(), hole_since: None });
        if feed_seq <= track.watermark || !track.above.insert(feed_seq) {
            return false;
        }
        while track.above.first() == Some(&(track.watermark + 1)) {
            track.watermark += 1;
            track.above.pop_first();
        }
        track.hole_since = if track.above.is_empty() { None } else { track.hole_since.or(Some(now)) };
        true
    }

    /// Starts following a workspace whose feed is at `head` (a socket of this node
    /// subscribed to it), unless it is followed already.
    pub fn follow(&mut self, ws: WorkspaceId, head: i64) {
        self.workspaces.entry(ws).or_insert(Track { watermark: head, above: BTreeSet::new(), hole_since: None });
    }

    /// Workspaces with a hole open for longer than `window`, and where to read from.
    pub fn holes_older_than(&self, window: Duration, now: Instant) -> Vec<(WorkspaceId, i64)> {
        self.workspaces
            .iter()
            .filter(|(_, t)| t.hole_since.is_some_and(|since| now.duration_since(since) >= window))
            .map(|(ws, t)| (*ws, t.watermark))
            .collect()
    }

    /// Every followed workspace, and where to read from to find what it may have missed.
    pub fn followed(&self) -> Vec<(WorkspaceId, i64)> {
        self.workspaces.iter().map(|(ws, t)| (*ws, t.watermark)).collect()
    }

    pub fn watermark(&self, ws: WorkspaceId) -> Option<i64> {
        self.workspaces.get(&ws).map(|t| t.watermark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_in_order_are_delivered_once() {
        let (mut s, ws, now) = (Sequencer::default(), WorkspaceId::new(), Instant::now());
        assert!(s.offer(ws, 5, now), "the first event sets the base");
        assert!(s.offer(ws, 6, now));
        assert!(!s.offer(ws, 6, now), "a late copy");
        assert!(!s.offer(ws, 3, now), "before the base: the sockets read it from the store when they opened");
        assert_eq!(s.watermark(ws), Some(6));
        assert!(s.holes_older_than(Duration::ZERO, now).is_empty());
    }

    #[test]
    fn a_hole_is_reported_after_the_window_and_closes_when_filled() {
        let (mut s, ws, t0) = (Sequencer::default(), WorkspaceId::new(), Instant::now());
        s.follow(ws, 40);
        assert!(s.offer(ws, 42, t0), "delivered at once; the sockets see the hole themselves");
        assert!(s.holes_older_than(Duration::from_millis(100), t0).is_empty(), "within the reorder window");
        let later = t0 + Duration::from_millis(150);
        assert_eq!(s.holes_older_than(Duration::from_millis(100), later), [(ws, 40)], "read after 40");
        assert!(s.offer(ws, 41, later), "the late one is still new");
        assert!(!s.offer(ws, 42, later), "and the one above it is not");
        assert_eq!(s.watermark(ws), Some(42));
        assert!(s.holes_older_than(Duration::ZERO, later).is_empty());
    }

    #[test]
    fn following_twice_keeps_the_first_base() {
        let (mut s, ws) = (Sequencer::default(), WorkspaceId::new());
        s.follow(ws, 10);
        s.follow(ws, 20);
        assert_eq!(s.followed(), [(ws, 10)]);
    }
}
