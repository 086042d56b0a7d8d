//! `TEST_LOG=1` shows the server's logs in tests. Without it tests stay quiet; the
//! subscriber is installed once per test process, however many apps it spawns.

use std::sync::LazyLock;

use tracing_subscriber::EnvFilter;

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some_and(|v| !v.is_empty() && v != "0") {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        // Another harness in the same process may have installed one first; theirs then wins.
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
});

/// Installs the test subscriber if `TEST_LOG` asks for one (`RUST_LOG` picks the levels).
pub fn init() {
    LazyLock::force(&TRACING);
}
