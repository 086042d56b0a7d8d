//! Generator processes. One process may hold at most 20,000 open files here, so the
//! scenarios that need many sockets re-run this binary as `switchboard-bench gen
//! <kind> <json config>`, several times over. A generator runs on one `current_thread`
//! runtime, takes commands as JSON lines on stdin and answers with JSON lines on
//! stdout.
//!
//! This module knows no scenario: each scenario that needs generators declares its
//! [`Generator`] beside the code it runs, and `main.rs` lists them in one table.

use std::time::Duration;

use anyhow::{Context, bail};
use futures::future::LocalBoxFuture;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::Ctx;

/// A kind of generator process: its name on the command line (`gen <kind>`) and what
/// it runs there, on a `current_thread` runtime inside a `LocalSet`.
pub struct Generator {
    pub kind: &'static str,
    pub run: fn(Value, Commands) -> LocalBoxFuture<'static, anyhow::Result<()>>,
}

/// The parent's handle on a generator process.
pub struct GenProc {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    kind: &'static str,
}

impl GenProc {
    /// Starts a `generator` process with its `config`.
    pub async fn spawn(ctx: &Ctx, generator: &Generator, config: &Value) -> anyhow::Result<Self> {
        let kind = generator.kind;
        let mut cmd = match &ctx.gen_cpus {
            Some(list) => {
                let mut c = Command::new("taskset");
                c.args(["-c", list]).arg(&ctx.bench_bin);
                c
            }
            None => Command::new(&ctx.bench_bin),
        };
        let mut child = cmd
            .args(["gen", kind, &config.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting a generator process")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        Ok(Self { child, stdin, lines, kind })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn send(&mut self, command: &Value) -> anyhow::Result<()> {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.with_context(|| format!("commanding the `{}` generator", self.kind))
    }

    /// The generator's next JSON line; an `{"error": …}` line is an error.
    pub async fn recv(&mut self, within: Duration) -> anyhow::Result<Value> {
        let line = tokio::time::timeout(within, self.lines.next_line())
            .await
            .with_context(|| format!("the `{}` generator did not answer within {within:?}", self.kind))??
            .with_context(|| format!("the `{}` generator exited", self.kind))?;
        let v: Value = serde_json::from_str(&line).with_context(|| format!("generator line is not JSON: {line}"))?;
        if let Some(e) = v.get("error") {
            bail!("`{}` generator: {e}", self.kind);
        }
        Ok(v)
    }

    pub async fn ask(&mut self, command: &Value, within: Duration) -> anyhow::Result<Value> {
        self.send(command).await?;
        self.recv(within).await
    }

    /// Asks the generator to quit and waits for it.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        let _ = self.send(&serde_json::json!({"cmd": "quit"})).await;
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        Ok(())
    }
}

/// Commands from the parent, one JSON object per line.
pub struct Commands {
    lines: Lines<BufReader<tokio::io::Stdin>>,
}

impl Commands {
    /// The next command; `None` when the parent closed stdin or said `quit`.
    pub async fn next(&mut self) -> Option<Value> {
        let line = self.lines.next_line().await.ok()??;
        let v: Value = serde_json::from_str(&line).ok()?;
        (v["cmd"] != "quit").then_some(v)
    }
}

/// Writes one answer line to the parent.
pub fn emit(v: &Value) {
    println!("{v}");
}

/// Entry point of `switchboard-bench gen <kind> <config>`: runs the generator of
/// `generators` called `kind`.
pub fn main(generators: &[Generator], kind: &str, config: &str) -> anyhow::Result<()> {
    let Some(generator) = generators.iter().find(|g| g.kind == kind) else {
        let known: Vec<&str> = generators.iter().map(|g| g.kind).collect();
        bail!("unknown generator `{kind}`; known: {}", known.join(", "));
    };
    let config: Value = serde_json::from_str(config).context("generator config is not JSON")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let commands = Commands { lines: BufReader::new(tokio::io::stdin()).lines() };
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&runtime, (generator.run)(config, commands));
    if let Err(e) = &result {
        emit(&serde_json::json!({"error": format!("{e:#}")}));
    }
    result
}

/// A small deterministic PRNG (xorshift64*) for jitter: no dependency, no locking.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}
