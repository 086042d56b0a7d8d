//! Test harness shared by every tier.
pub mod services;
