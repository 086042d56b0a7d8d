//! switchboard-store-postgres
