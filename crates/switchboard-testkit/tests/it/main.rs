//! System tests: the real server on a random port, driven over HTTP and WebSockets.

mod account;
mod admission;
mod bad_input;
mod bodies;
mod chat;
mod heartbeat;
mod idempotency;
mod identity;
mod inbox;
mod inboxes;
mod limits;
mod paging;
mod permissions;
mod pow;
mod presence;
mod rest;
mod resume;
mod shutdown;
mod support;
mod tenancy;
mod timeline;
mod timers;
mod widget;
