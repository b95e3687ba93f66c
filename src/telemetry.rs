//! Logs: human-readable in dev and testing, JSON lines in prod. `RUST_LOG` filters.

use tracing_subscriber::EnvFilter;

use crate::config::AppEnv;

pub fn init(env: AppEnv) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,nosebook_schema::pool=error"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests that build several apps) keeps the first subscriber.
    let _ = match env {
        AppEnv::Prod => builder.json().try_init(),
        AppEnv::Dev | AppEnv::Testing => builder.try_init(),
    };
}
