//! switchboard-server
