//! The services' promises, on real servers: each test gets its own database, a
//! dropped server is gone with its port and directory, and servers never outlive the
//! process that started them, even when it is killed with `kill -9`.

use std::ffi::OsString;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::postgres::postgres_bin_dir;
use crate::redis::redis_ping;
use crate::{EphemeralPostgres, EphemeralRedis, ServerProcess, run, temp_dir};

#[tokio::test]
async fn postgres_gives_each_test_its_own_database() -> anyhow::Result<()> {
    let pg = EphemeralPostgres::start().await?;
    let (a, b) = (pg.create_database().await?, pg.create_database().await?);
    assert_ne!(a, b);
    let (name_a, name_b) = (pg.psql(&a, "select current_database()").await?, pg.psql(&b, "select current_database()").await?);
    assert!(a.ends_with(&format!("/{name_a}")), "{a} vs {name_a}");
    assert!(b.ends_with(&format!("/{name_b}")), "{b} vs {name_b}");
    assert_ne!(name_a, name_b);

    let sql = "create table t (x int); insert into t values (42); select x from t";
    assert_eq!(pg.psql(&a, sql).await?, "42");
    let in_b = "select count(*) from pg_tables where tablename = 't'";
    assert_eq!(pg.psql(&b, in_b).await?, "0");
    assert!(pg.psql(&b, "select nonsense from nowhere").await.is_err());
    Ok(())
}

#[tokio::test]
async fn postgres_stops_and_cleans_up_on_drop() -> anyhow::Result<()> {
    let pg = EphemeralPostgres::start().await?;
    let url = pg.create_database().await?;
    assert_eq!(pg.psql(&url, "select 1").await?, "1");
    let (port, pid, dir) = gone_after_drop(&pg.process, pg.port());
    drop(pg);
    assert_gone(port, pid, &dir);
    Ok(())
}

#[tokio::test]
async fn a_durable_postgres_keeps_fsync_on_and_a_test_one_turns_it_off() -> anyhow::Result<()> {
    let durable = EphemeralPostgres::start_durable().await?;
    assert_eq!(durable.psql(durable.url(), "show fsync").await?, "on");
    assert_eq!(durable.psql(durable.url(), "show synchronous_commit").await?, "on");
    let fast = EphemeralPostgres::start().await?;
    assert_eq!(fast.psql(fast.url(), "show fsync").await?, "off");
    assert_ne!(durable.port(), fast.port());
    Ok(())
}

#[tokio::test]
async fn shared_postgres_is_one_server() -> anyhow::Result<()> {
    let (a, b) = (EphemeralPostgres::shared().await?, EphemeralPostgres::shared().await?);
    assert!(std::ptr::eq(a, b));
    let url = a.create_database().await?;
    assert_eq!(a.psql(&url, "select 2 + 2").await?, "4");
    Ok(())
}

#[tokio::test]
async fn redis_answers_ping_and_stops_on_drop() -> anyhow::Result<()> {
    let redis = EphemeralRedis::start().await?;
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}"));
    assert!(redis_ping(port).await);
    let (port, pid, dir) = gone_after_drop(redis.process.as_ref().unwrap(), port);
    drop(redis);
    assert_gone(port, pid, &dir);
    assert!(!redis_ping(port).await);
    Ok(())
}

#[tokio::test]
async fn a_server_that_dies_at_startup_fails_fast_with_its_log() -> anyhow::Result<()> {
    let dir = temp_dir("switchboard-test-", None)?;
    let path = dir.path().to_owned();
    let args: Vec<OsString> = vec!["-c".into(), "echo boom >&2; exit 3".into()];
    let mut process = ServerProcess::spawn("fake", dir, "TERM", None, Path::new("sh"), &args)?;
    let started = Instant::now();
    let err = process.wait_ready(|| async { false }).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = err.to_string();
    assert!(err.contains("fake exited with status 3") && err.contains("boom"), "{err}");
    drop(process);
    assert!(!path.exists());
    Ok(())
}

#[tokio::test]
async fn a_server_is_ready_when_its_log_says_so() -> anyhow::Result<()> {
    let dir = temp_dir("switchboard-test-", None)?;
    let args: Vec<OsString> = vec!["-c".into(), "echo starting; echo 'listening on 4242'; exec sleep 60".into()];
    let mut process = ServerProcess::spawn("fake", dir, "TERM", None, Path::new("sh"), &args)?;
    let port = process
        .wait_for_log(|log| Ok(log.lines().find_map(|l| l.strip_prefix("listening on ")).map(|p| p.parse::<u16>()).transpose()?))
        .await?;
    assert_eq!(port, 4242);
    let (pid, dir) = (process.pid().context("pid known once ready")?, process.dir().to_owned());
    assert!(pid_alive(pid));
    drop(process);
    assert!(!pid_alive(pid), "the server outlived its handle");
    assert!(!dir.exists());
    Ok(())
}

#[tokio::test]
async fn a_failed_command_reports_what_it_printed() {
    let err = run(tokio::process::Command::new("sh").args(["-c", "echo out; echo err >&2; exit 2"])).await.unwrap_err().to_string();
    assert!(err.contains("out") && err.contains("err") && err.contains("exit status: 2"), "{err}");
}

#[test]
fn missing_binaries_say_what_to_install() {
    let err = postgres_bin_dir(Path::new("/nonexistent")).unwrap_err().to_string();
    assert!(err.contains("`postgresql`"), "{err}");
    assert!(err.contains("cargo xtask test"), "{err}");
}

/// Shared servers are never dropped; they must still die with the process,
/// whether it exits normally or is killed.
#[test]
fn shared_servers_die_with_a_process_that_exits() -> anyhow::Result<()> {
    probe_leaks("exit")
}

#[test]
fn shared_servers_die_with_a_process_that_is_killed() -> anyhow::Result<()> {
    probe_leaks("kill")
}

/// Runs [`leak_probe`] in a child test process and checks that the servers
/// it reports are gone once the child is.
fn probe_leaks(how: &str) -> anyhow::Result<()> {
    use std::io::BufRead;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["tests::leak_probe", "--exact", "--ignored"])
        .args(["--nocapture", "--test-threads=1"])
        .env("SWITCHBOARD_SERVICES_LEAK_PROBE", how)
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut lines = stdout.lines();
    let mut servers = Vec::new();
    for line in lines.by_ref() {
        let line = line?;
        // libtest may print `test … ... ` on the same line first.
        if let Some((_, fields)) = line.split_once("LEAK_PROBE ") {
            let f: Vec<&str> = fields.split(' ').collect();
            servers.push((f[0].parse::<u16>()?, f[1].parse::<u32>()?, PathBuf::from(f[2])));
            if servers.len() == 2 {
                break;
            }
        }
    }
    assert_eq!(servers.len(), 2, "the probe did not report its servers");
    if how == "kill" {
        child.kill()?;
    }
    lines.for_each(drop); // let it print its summary
    let status = child.wait()?;
    assert!(how == "kill" || status.success(), "probe failed: {status}");
    for (port, pid, dir) in servers {
        // Nobody waits for an orphaned watchdog, so poll for it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && (pid_alive(pid) || dir.exists()) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_gone(port, Some(pid), &dir);
    }
    Ok(())
}

/// Started by [`probe_leaks`]: reports its shared servers, then exits
/// without dropping them (or waits to be killed).
#[tokio::test]
#[ignore = "helper run in a child process by probe_leaks"]
async fn leak_probe() -> anyhow::Result<()> {
    let pg = EphemeralPostgres::shared().await?;
    let redis = EphemeralRedis::shared().await?;
    for (process, port) in [(&pg.process, pg.port()), (redis.process.as_ref().unwrap(), redis.port())] {
        let pid = process.pid().context("pid known once ready")?;
        println!("LEAK_PROBE {port} {pid} {}", process.dir().display());
    }
    if std::env::var("SWITCHBOARD_SERVICES_LEAK_PROBE").as_deref() == Ok("kill") {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    Ok(())
}

fn gone_after_drop(process: &ServerProcess, port: u16) -> (u16, Option<u32>, PathBuf) {
    assert!(process.pid().is_some_and(pid_alive));
    assert!(process.dir().exists());
    (port, process.pid(), process.dir().to_owned())
}

fn assert_gone(port: u16, pid: Option<u32>, dir: &Path) {
    let pid = pid.expect("server pid");
    assert!(!pid_alive(pid), "server {pid} still running");
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "port {port} still accepts connections");
}

/// Zombies count as dead: in a container nobody may reap an orphan.
fn pid_alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

#[tokio::test]
async fn an_s3_server_creates_buckets_and_is_gone_when_dropped() -> anyhow::Result<()> {
    let s3 = crate::EphemeralS3::start().await?;
    let port: u16 = s3.endpoint().rsplit(':').next().unwrap().parse()?;
    s3.create_bucket("uploads").await?;
    drop(s3);
    assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "the port is free once the server is dropped");
    Ok(())
}

/// One SMTP dialogue over a raw socket: the server's answer to each line, the message
/// sent if every answer was a 2xx or 3xx.
async fn smtp_send(port: u16, rcpt: &str, body: &str) -> anyhow::Result<Vec<String>> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut answers = vec![];
    // The greeting, then each command's last answer line (EHLO answers several).
    let answer = async |lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>| -> anyhow::Result<String> {
        loop {
            let line = lines.next_line().await?.context("the server hung up")?;
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(line);
            }
        }
    };
    answers.push(answer(&mut lines).await?);
    for command in ["EHLO test".to_owned(), "MAIL FROM:<a@example.com>".into(), format!("RCPT TO:<{rcpt}>"), "DATA".into()] {
        write.write_all(format!("{command}\r\n").as_bytes()).await?;
        let reply = answer(&mut lines).await?;
        let failed = reply.starts_with('4') || reply.starts_with('5');
        answers.push(reply);
        if failed {
            return Ok(answers);
        }
    }
    write.write_all(format!("{body}\r\n.\r\nQUIT\r\n").as_bytes()).await?;
    answers.push(answer(&mut lines).await?);
    Ok(answers)
}

#[tokio::test]
async fn the_smtp_receiver_keeps_each_message_and_refuses_when_told() -> anyhow::Result<()> {
    let smtp = crate::EphemeralSmtp::start().await?;
    assert!(smtp.messages()?.is_empty());
    let answers = smtp_send(smtp.port(), "b@example.com", "Subject: one\r\n\r\nhello").await?;
    assert!(answers.last().is_some_and(|a| a.starts_with("250")), "{answers:?}");
    let got = smtp.wait_for_messages(1, Duration::from_secs(5)).await?;
    assert!(got[0].contains("Subject: one") && got[0].contains("hello"), "{got:?}");

    smtp.refuse(true)?;
    let answers = smtp_send(smtp.port(), "b@example.com", "Subject: two\r\n\r\nagain").await?;
    assert!(answers.last().is_some_and(|a| a.starts_with("451")), "a temporary refusal: {answers:?}");
    smtp.refuse(false)?;
    smtp_send(smtp.port(), "b@example.com", "Subject: three\r\n\r\nlater").await?;
    let got = smtp.wait_for_messages(2, Duration::from_secs(5)).await?;
    assert_eq!(got.len(), 2, "the refused one was never kept");
    assert!(got[1].contains("Subject: three"));
    Ok(())
}
