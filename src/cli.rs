//! `nosebook migrate | seed compat|demo|scale | serve | notifier`, and `nosebook-notifier` (the same
//! notifier node as its own binary, for deployments that scale it separately).

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Settings;
use crate::seed;
use crate::startup::{Application, connect, migrate};

#[derive(Debug, Parser)]
#[command(name = "nosebook", version, about = "Nosebook: a small realtime social network")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations to DATABASE_URL.
    Migrate,
    /// Load a data set into a migrated, empty database.
    Seed {
        #[arg(value_enum)]
        set: DataSet,
        /// Do nothing (and succeed) when the database already has users.
        #[arg(long)]
        if_empty: bool,
        /// `scale`: how many people to generate.
        #[arg(long, default_value_t = 50_000)]
        people: usize,
        /// `scale`: the seed every generated row derives from.
        #[arg(long, default_value_t = seed::scale::DEFAULT_SEED)]
        seed: u64,
    },
    /// Run the server on NOSEBOOK_LISTEN (migrating first).
    Serve,
    /// Run a notifier node alone: WebSockets fed by RabbitMQ, on NOSEBOOK_LISTEN.
    Notifier,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DataSet {
    /// The original Nosebook's seed data (fixtures/compat-seed.json).
    Compat,
    /// A few friendly people to try Nosebook with (password: nosebook-demo).
    Demo,
    /// A generated social graph of --people people for load tests (password: nosebook-scale).
    Scale,
}

pub fn main() -> ExitCode {
    execute(Cli::parse())
}

/// `nosebook-notifier`: `nosebook notifier` under its own name.
pub fn notifier_main() -> ExitCode {
    #[derive(Debug, Parser)]
    #[command(name = "nosebook-notifier", version, about = "A Nosebook notifier node: WebSockets fed by RabbitMQ")]
    struct NotifierCli {}
    NotifierCli::parse();
    execute(Cli { command: Command::Notifier })
}

fn execute(cli: Cli) -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("nosebook: configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let service = match cli.command {
        Command::Notifier => "nosebook-notifier",
        _ => "nosebook",
    };
    let telemetry = match crate::traces::init(settings.app_env, service) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("nosebook: configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = actix_web::rt::System::new().block_on(run(cli, settings));
    // Here, off the runtime: the trace exporter flushes with a blocking client.
    telemetry.shutdown();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nosebook: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command {
        Command::Migrate => {
            let applied = migrate(&settings).await?;
            println!("migrations applied: {}", applied.len());
        }
        Command::Seed { set, if_empty, people, seed: rng_seed } => {
            let db = connect(&settings).await?;
            let mut conn = db.get().await?;
            if if_empty && !seed::is_empty(&mut conn).await? {
                println!("database already has users; not seeding");
                return Ok(());
            }
            let report = match set {
                DataSet::Compat => seed::compat::load(&mut conn).await?,
                DataSet::Demo => seed::demo::load(&mut conn, settings.clock().now()).await?,
                DataSet::Scale => return seed_scale(&settings, people, rng_seed).await,
            };
            println!("seeded: {report}");
        }
        Command::Serve => Application::build(&settings).await?.run_until_signalled().await?,
        Command::Notifier => Application::notifier(&settings).await?.run_until_signalled().await?,
    }
    Ok(())
}

/// The scale data set streams its rows with `COPY` on a connection of its own.
async fn seed_scale(settings: &Settings, people: usize, rng_seed: u64) -> anyhow::Result<()> {
    let loaded = seed::scale::load(&settings.database_url, people, rng_seed).await?;
    println!(
        "seeded: {people} people; `{}` is {} (password: {})",
        seed::scale::ANNA,
        loaded.anna,
        seed::scale::PASSWORD
    );
    Ok(())
}
