//! What each command does, on parts built by the library's builder (`switchboard::app`):
//! serving, seeding the demo, migrating, backing up (the database and the uploads),
//! copying a SQLite installation to PostgreSQL, administering.

use std::path::Path;

use anyhow::Context;
use switchboard::app::{self, App};
use switchboard::config::{Backend, BlobBackend, Config, LogFormat, LogSection, redact_password};
use switchboard_core::{Core, NewAgent, Principal, auth};
use switchboard_domain::*;
use switchboard_server::raise_open_file_limit;
use switchboard_store::BlobStore;
use switchboard_store_postgres::PgStore;
use switchboard_store_sqlite::SqliteSource;

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

/// The database to `file`, then the uploads: with `blobs.backend = "fs"` copied to the
/// directory `FILE.blobs` beside it; with S3, how to copy the bucket. The database goes
/// first: an attachment's file is stored before its row, so every row in the dump has its
/// file in the copy made after it (files uploaded in between are copied too, harmlessly).
pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<()> {
    let blobs_to = blobs_backup_dir(file);
    if config.blobs.backend == BlobBackend::Fs {
        anyhow::ensure!(!blobs_to.exists(), "{} already exists: a backup never overwrites", blobs_to.display());
    }
    let store = app::open_store(config, None).await?;
    store.backup(file).await.with_context(|| format!("writing backup to {}", file.display()))?;
    store.close().await;
    println!("Backup written to {}", file.display());
    match config.blobs.backend {
        BlobBackend::Fs => {
            let from = config.blobs_dir();
            let (files, bytes) = tokio::task::spawn_blocking({
                let (from, to) = (from.clone(), blobs_to.clone());
                move || copy_blobs(&from, &to)
            })
            .await
            .context("copying the uploads")??;
            println!("Uploaded files ({files}, {bytes} bytes) copied from {} to {}", from.display(), blobs_to.display());
            println!("To restore: the database file as switchboard.db in the data directory, and that directory as blobs.dir.");
        }
        BlobBackend::S3 => println!("{}", s3_backup_advice(config)),
    }
    Ok(())
}

/// Where `backup FILE` copies the uploads: `FILE.blobs`, beside the dump.
pub fn blobs_backup_dir(file: &Path) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".blobs");
    name.into()
}

/// What `backup` says when uploads are in a bucket: it does not copy them, so it says
/// exactly how.
fn s3_backup_advice(config: &Config) -> String {
    let bucket = config.blobs.bucket.as_deref().unwrap_or("BUCKET");
    let endpoint = config.blobs.endpoint.as_deref().map(|e| format!(" --endpoint-url {e}")).unwrap_or_default();
    format!(
        "Uploaded files were NOT copied: they are in the S3 bucket {bucket}, which this command does not read.\n\
         Copy them with the storage's own tools after this dump, for example:\n  \
         aws s3 sync s3://{bucket} /backups/switchboard-blobs{endpoint}\n\
         (or `rclone sync`, or `mc mirror` for MinIO), or turn on the bucket's versioning or replication.\n\
         Copy after the database dump: every file its rows name is then in the copy."
    )
}

/// Copies the tree of blob files `from` into a new directory `to`, leaving out files
/// still being written (`*.partial`); returns the files and bytes copied. A missing
/// `from` (nothing uploaded yet) copies nothing.
fn copy_blobs(from: &Path, to: &Path) -> anyhow::Result<(u64, u64)> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let (mut files, mut bytes) = (0, 0);
    let mut dirs = vec![from.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir == from => return Ok((0, 0)),
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let path = entry.path();
            let target = to.join(path.strip_prefix(from).expect("under the root"));
            if entry.file_type()?.is_dir() {
                std::fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
                dirs.push(path);
            } else if path.extension().is_none_or(|e| e != "partial") {
                bytes += std::fs::copy(&path, &target).with_context(|| format!("copying {}", path.display()))?;
                files += 1;
            }
        }
    }
    Ok((files, bytes))
}

/// `db-copy --to postgres://…`: this SQLite installation (its database, then its uploads)
/// into an empty PostgreSQL database and the configured blob store. The data directory is
/// locked first, so no node writes while it is read. The database copy is one
/// transaction: interrupted or failed, it leaves the target empty, and running the
/// command again starts over. Uploads are copied after it commits, each file put under
/// its key (a put replaces, so a rerun copies them again harmlessly).
pub async fn db_copy(config: &Config, to: &str, blobs_from: Option<&Path>) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.storage.backend == Backend::Sqlite,
        "db-copy copies a SQLite installation: run it with the configuration (or --data) of the SQLite node, storage.backend = \"sqlite\""
    );
    anyhow::ensure!(
        to.starts_with("postgres://") || to.starts_with("postgresql://"),
        "--to must be a postgres:// URL of an empty database"
    );
    let _lock = app::lock_data_dir(config).context("db-copy needs the node stopped")?;
    let source =
        SqliteSource::open(&config.database_path()).await.with_context(|| format!("reading {}", config.database_path().display()))?;
    println!("Copying {} to {} in one transaction…", config.database_path().display(), redact_password(to));
    let report = PgStore::copy_from(to, &source).await.context("copying the database")?;
    for (table, rows) in &report.tables {
        println!("  {table:<28} {rows:>10} rows (same as the source)");
    }
    println!("Row counts verified for {} tables; search index rebuilt for {} messages.", report.tables.len(), report.indexed_messages);

    let from = blobs_from.map(Path::to_path_buf).unwrap_or_else(|| config.storage.data_dir.join("blobs"));
    let same_dir = config.blobs.backend == BlobBackend::Fs && config.blobs_dir() == from;
    if same_dir {
        println!("Uploaded files stay where they are ({}): blobs are configured in that directory.", from.display());
    } else {
        let (files, bytes) = copy_blobs_to(&from, app::blob_store(config)?.as_ref()).await?;
        println!("Uploaded files: {files} ({bytes} bytes) copied from {} to the configured blob store.", from.display());
    }
    println!("Done. Start the nodes with storage.backend = \"postgres\" and storage.postgres_url = the --to URL.");
    Ok(())
}

/// Puts every file under `from` (a blob directory) into `blobs` under its relative path.
async fn copy_blobs_to(from: &Path, blobs: &dyn BlobStore) -> anyhow::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut dirs = vec![from.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir == from => return Ok((0, 0)),
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        while let Some(entry) = entries.next_entry().await.with_context(|| format!("reading {}", dir.display()))? {
            let path = entry.path();
            if entry.file_type().await?.is_dir() {
                dirs.push(path);
            } else if path.extension().is_none_or(|e| e != "partial") {
                let key = path.strip_prefix(from).expect("under the root").to_string_lossy().into_owned();
                let data = tokio::fs::read(&path).await.with_context(|| format!("reading {}", path.display()))?;
                bytes += data.len() as u64;
                blobs.put(&key, data.into()).await.with_context(|| format!("copying blob {key}"))?;
                files += 1;
            }
        }
    }
    Ok((files, bytes))
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
