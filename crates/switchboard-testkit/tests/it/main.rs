//! System tests: the real server on a random port, driven over HTTP and WebSockets.

mod chat;
