//! System tests: the real server on a random port, driven over HTTP and WebSockets.

mod account;
mod accounts;
mod admission;
mod bad_input;
mod bans;
mod chat;
mod headers;
mod heartbeat;
mod idempotency;
mod identity;
mod inbox;
mod inboxes;
mod masking;
mod paging;
mod permissions;
mod presence;
mod privacy;
mod rest;
mod resume;
mod shutdown;
mod support;
mod tenancy;
mod timeline;
mod timers;
mod widget;
