//! Cluster mode: what lets several identical nodes share one PostgreSQL database and
//! one Redis. The Redis bus (`bus.rs`) carries committed events and ephemeral messages
//! between nodes and repairs from the store whatever it lost; the Redis presence
//! (`presence.rs`) makes agents, viewers and their sockets cluster-wide, each node
//! owning its share under a TTL so a dead node is forgotten within seconds; the Redis
//! limiter (`limiter.rs`) makes core's token buckets cluster-wide; the Redis live list
//! (`live.rs`) shows every node's live visitors in each node's snapshots, and tells
//! watching agents who left with a dead node (`departures.rs`). What crosses
//! between nodes, and how a node skips what a newer version sends, is `wire.rs`.
//!
//! Invariant: Redis holds no truth. Events are in the database before they are
//! published, and presence and live rows are rewritten whole by each node at every heartbeat, so a
//! Redis that restarts empty loses nothing a node cannot put back. Knows no SQL: it
//! reads the store through core's `FeedSource`.

mod bus;
mod departures;
mod limiter;
mod live;
mod presence;
mod sequencer;
mod settings;
mod wire;

pub use bus::RedisBus;
pub use limiter::RedisLimiter;
pub use live::RedisLive;
pub use presence::RedisPresence;
pub use settings::{RedisSettings, redact};
