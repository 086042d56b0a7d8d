//! Backups with `pg_dump`: PostgreSQL has no `VACUUM INTO`, but `pg_dump` reads one
//! consistent snapshot while writers carry on, which is what [`Store::backup`] promises.
//!
//! [`Store::backup`]: switchboard_store::Store::backup

use std::path::Path;
use std::process::Stdio;

use switchboard_store::{Result, StoreError};

/// Writes a custom-format dump (restore with `pg_restore`) of the database at `url`.
pub(crate) async fn pg_dump(url: &str, dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(StoreError::Unavailable(format!("{} already exists", dest.display())));
    }
    let (url, password) = split_password(url)?;
    let mut cmd = tokio::process::Command::new("pg_dump");
    cmd.args(["--format=custom", "--no-password", "--file"])
        .arg(dest)
        .arg("--dbname")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // The password goes through the environment: a command line is visible to every
    // user of the machine.
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    let out = match cmd.output().await {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::Unavailable("backups of PostgreSQL are made with pg_dump, which is not installed".into()));
        }
        Err(e) => return Err(StoreError::Unavailable(format!("running pg_dump: {e}"))),
    };
    if out.status.success() {
        return Ok(());
    }
    // A failed dump leaves a truncated file that must not pass for a backup.
    let _ = tokio::fs::remove_file(dest).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(StoreError::Unavailable(format!("pg_dump failed ({}): {}", out.status, stderr.trim())))
}

/// The URL without its password, and the password (percent-decoded). Parameters only
/// sqlx understands are dropped, since libpq rejects parameters it does not know.
fn split_password(raw: &str) -> Result<(String, Option<String>)> {
    let mut url = url::Url::parse(raw).map_err(|e| StoreError::Unavailable(format!("the database URL is not valid: {e}")))?;
    let mut password = url.password().map(percent_decode);
    let mut kept = vec![];
    for (k, v) in url.query_pairs() {
        match &*k {
            "password" => password = Some(v.into_owned()),
            "statement-cache-capacity" => {}
            _ => kept.push((k.into_owned(), v.into_owned())),
        }
    }
    url.set_query(None);
    if !kept.is_empty() {
        url.query_pairs_mut().extend_pairs(kept);
    }
    // Fails only for URLs that cannot hold a password, which had none to remove.
    let _ = url.set_password(None);
    Ok((url.into(), password))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        let (url, password) = split_password("postgres://sb:p%40ss%3Aw@db.example:5433/switchboard?sslmode=require").unwrap();
        assert_eq!(url, "postgres://sb@db.example:5433/switchboard?sslmode=require");
        assert_eq!(password.as_deref(), Some("p@ss:w"));
    }

    #[test]
    fn sqlx_only_parameters_and_query_passwords_are_removed() {
        let (url, password) = split_password("postgres://h/db?statement-cache-capacity=10&password=x").unwrap();
        assert_eq!(url, "postgres://h/db");
        assert_eq!(password.as_deref(), Some("x"));
        let (url, password) = split_password("postgres://postgres@127.0.0.1:5/d").unwrap();
        assert_eq!((url.as_str(), password), ("postgres://postgres@127.0.0.1:5/d", None));
    }
}
