//! Switchboard as a library: the configuration ([`Config`]) and the builder that wires
//! the whole application from it ([`App::build`]). The binary (`main.rs`), the test
//! harness (`switchboard-testkit`) and the bench build through it, so the wiring exists once.

pub mod app;
pub mod config;

pub use app::{App, Options};
pub use config::Config;
