//! The `switchboard` binary: `serve`, `demo`, `migrate`, `backup`, `db-copy`, `admin …`,
//! `config print-default`, `openapi`. The wiring itself is the library's builder
//! (`switchboard::App`), shared with the test harness and the bench.

mod demo;
mod run;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use switchboard::config::{self, Config, Overrides};

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Self-hosted live chat for customer support")]
struct Cli {
    /// TOML configuration file (see `switchboard config print-default`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (database and uploads). Default: ./data
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Address to listen on. Default: 127.0.0.1:8080
    #[arg(long, global = true)]
    listen: Option<SocketAddr>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Run the server with a demo workspace, site and owner account.
    Demo,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Write a consistent copy of the database to FILE while the server may be running,
    /// and copy the uploaded files to FILE.blobs (with S3 blobs: say how to copy the bucket).
    Backup { file: PathBuf },
    /// Copy this SQLite installation (database and uploads) into an empty PostgreSQL
    /// database, in one transaction, and verify every table's row count. Stop the node first.
    DbCopy {
        /// The target, `postgres://user:password@host/database`; it must be empty.
        #[arg(long)]
        to: String,
        /// The SQLite node's upload directory. Default: DATA/blobs.
        #[arg(long)]
        blobs_from: Option<PathBuf>,
    },
    /// Manage workspaces and agents.
    #[command(subcommand)]
    Admin(Admin),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the OpenAPI document of the REST API and the socket frames (JSON).
    Openapi,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration with every default.
    PrintDefault,
}

#[derive(Subcommand)]
pub enum Admin {
    /// Create a workspace and its owner; prints the owner's password if generated.
    CreateWorkspace {
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long, default_value = "Owner")]
        owner_name: String,
        /// Generated when omitted.
        #[arg(long)]
        password: Option<String>,
    },
    /// Add an agent to a workspace (by id or name).
    CreateAgent {
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// owner, admin or agent.
        #[arg(long, default_value = "agent")]
        role: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Create an API token for integrations (by workspace id or name); prints its secret once.
    CreateToken {
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        name: String,
        /// owner, admin or agent.
        #[arg(long, default_value = "agent")]
        role: String,
    },
    /// Set a new password for an agent and sign them out everywhere.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// List workspaces.
    ListWorkspaces,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Config(ConfigCommand::PrintDefault)) => {
            print!("{}", config::DEFAULT_TOML);
            return std::process::ExitCode::SUCCESS;
        }
        Some(Command::Openapi) => {
            println!("{}", switchboard_server::openapi().to_pretty_json().expect("the OpenAPI document serialises"));
            return std::process::ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match Config::load(cli.config.as_deref(), Overrides { data: cli.data, listen: cli.listen }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    run::init_tracing(&config.log);
    let runtime = run::runtime(config.server.workers).expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => run::serve(&config, false).await,
            Command::Demo => run::serve(&config, true).await,
            Command::Migrate => run::migrate(&config).await,
            Command::Backup { file } => run::backup(&config, &file).await,
            Command::DbCopy { to, blobs_from } => run::db_copy(&config, &to, blobs_from.as_deref()).await,
            Command::Admin(admin) => run::admin(&config, admin).await,
            Command::Config(_) | Command::Openapi => Ok(()),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
