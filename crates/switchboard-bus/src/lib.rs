//! switchboard-bus
