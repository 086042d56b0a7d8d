//! switchboard-proto
