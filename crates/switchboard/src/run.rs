//! What each command does, on parts built by the library's builder (`switchboard::app`):
//! serving, seeding the demo, migrating, backing up, administering.

use std::path::Path;

use anyhow::Context;
use switchboard::app::{self, App};
use switchboard::config::{Config, LogFormat, LogSection};
use switchboard_core::{Core, NewAgent, Principal, auth};
use switchboard_domain::*;
use switchboard_server::raise_open_file_limit;

use crate::Admin;

pub fn init_tracing(log: &LogSection) {
    let filter = std::env::var("RUST_LOG").ok().and_then(|f| f.parse().ok()).unwrap_or_else(|| {
        log.level.parse::<tracing_subscriber::EnvFilter>().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// The runtime that runs sockets and requests: `workers` threads (0: one per core); with
/// one, a single-threaded runtime, whose tasks never wake one another across threads.
/// (On 2 cores, one and two workers cost the same CPU per message within 5%: see
/// docs/benchmarks.md.)
pub fn runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = match workers {
        1 => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    if workers > 1 {
        builder.worker_threads(workers);
    }
    builder.enable_all().build()
}

pub async fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    match raise_open_file_limit() {
        Ok((before, after)) if after > before => tracing::info!(before, after, "raised the open-file limit to the hard limit"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
    let app = App::build(config).await?;
    let base = format!("http://{}", app.addr());
    if demo {
        let key = crate::demo::seed(&app.core, &base).await?;
        let shop = crate::demo::shop(&base, &key, app.addr().ip()).await?;
        println!("  Demo shop:  {shop}   (another origin, embedding the widget)");
        println!("  Chat page:  {base}/chat/{key}");
        println!();
    }
    tracing::info!(addr = %app.addr(), data = %config.storage.data_dir.display(), max_sockets = config.server_config().max_sockets, "switchboard is listening");
    println!("Switchboard is listening on {base}");
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = app::open_store(config, None).await?;
    store.close().await;
    println!("The database schema is up to date.");
    Ok(())
}

pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<()> {
    let store = app::open_store(config, None).await?;
    store.backup(file).await.with_context(|| format!("writing backup to {}", file.display()))?;
    store.close().await;
    println!("Backup written to {}", file.display());
    Ok(())
}

fn password_or_generated(given: Option<String>) -> (String, bool) {
    match given {
        Some(p) => (p, false),
        None => (auth::random_token(12), true),
    }
}

pub async fn admin(config: &Config, command: Admin) -> anyhow::Result<()> {
    let core = app::core(config).await?;
    let result = admin_command(&core, command).await;
    core.store.close().await;
    result
}

async fn admin_command(core: &Core, command: Admin) -> anyhow::Result<()> {
    match command {
        Admin::CreateWorkspace { name, owner_email, owner_name, password } => {
            let (password, generated) = password_or_generated(password);
            let owner = NewAgent {
                email: Email::parse(&owner_email)?,
                name: owner_name,
                role: Role::Owner,
                password: password.clone(),
                locale: None,
                max_chats: None,
                avatar_url: None,
            };
            let (ws, owner) = core.create_workspace(&name, owner).await?;
            println!("Workspace {} ({}) created with owner {}.", ws.name, ws.id, owner.email.as_str());
            if generated {
                println!("Password: {password}");
            }
        }
        Admin::CreateAgent { workspace, email, name, role, password } => {
            let (ws, who) = workspace_owner(core, &workspace).await?;
            let (password, generated) = password_or_generated(password);
            let agent = NewAgent {
                email: Email::parse(&email)?,
                name,
                role: Role::parse(&role)?,
                password: password.clone(),
                locale: None,
                max_chats: None,
                avatar_url: None,
            };
            let agent = core.create_agent(&who, agent).await?;
            println!("Agent {} ({}) added to {}.", agent.email.as_str(), agent.role.as_str(), ws.name);
            if generated {
                println!("Password: {password}");
            }
        }
        Admin::CreateToken { workspace, name, role } => {
            let (ws, who) = workspace_owner(core, &workspace).await?;
            let created = core.create_api_token(&who, &name, Role::parse(&role)?, None).await?;
            println!("API token {} ({}) created in {}.", created.token.name, created.token.role.as_str(), ws.name);
            println!("Secret: {}", created.secret);
        }
        Admin::ResetPassword { email, password } => {
            let (password, generated) = password_or_generated(password);
            let agent = core.reset_password(&Email::parse(&email)?, &password).await?;
            println!("Password of {} reset; their sessions were signed out.", agent.email.as_str());
            if generated {
                println!("Password: {password}");
            }
        }
        Admin::ListWorkspaces => {
            for ws in core.store.workspaces().await? {
                println!("{}  {}", ws.id, ws.name);
            }
        }
    }
    Ok(())
}

/// The workspace named by id or name, and the authority the CLI acts with in it: the
/// owner's, since whoever runs the CLI owns the machine.
async fn workspace_owner(core: &Core, workspace: &str) -> anyhow::Result<(Workspace, Principal)> {
    let ws = core
        .store
        .workspaces()
        .await?
        .into_iter()
        .find(|w| w.id.to_string() == workspace || w.name == workspace)
        .with_context(|| format!("no workspace has the id or name {workspace:?}"))?;
    let who = Principal { workspace_id: ws.id, actor: Actor::System, role: Role::Owner };
    Ok((ws, who))
}

#[cfg(test)]
mod tests {
    use tokio::runtime::RuntimeFlavor;

    use super::*;

    #[test]
    fn workers_choose_the_runtime() {
        assert_eq!(runtime(1).unwrap().handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
        let three = runtime(3).unwrap();
        assert_eq!(three.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
        assert_eq!(three.metrics().num_workers(), 3);
        let per_core = runtime(0).unwrap();
        assert_eq!(per_core.metrics().num_workers(), std::thread::available_parallelism().unwrap().get());
    }
}
