//! Background work: the kinds of durable job core runs, running the due ones at the
//! clock's `now`, and the worker loop that does so in the background.
//!
//! Jobs live in the store (`switchboard_store::Jobs`), so a timer survives a restart and
//! runs once even with several runners. Tests never wait for the worker: they move the
//! injected [`Clock`](crate::Clock) and call [`Core::run_pending_jobs`].

use std::future::Future;
use std::time::Duration;

use serde_json::json;
use switchboard_domain::*;
use switchboard_store::{Change, JobId, NewJob, StoreError};

use crate::{Core, Result};

/// A claimed job is another runner's to take after this long without an answer.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// Jobs claimed per round trip.
const CLAIM_BATCH: u32 = 32;
/// Tries before a job is kept as dead.
const MAX_ATTEMPTS: u32 = 5;
/// Tries of a mail before it is given up: the backoff (10 s, doubling, at most an hour)
/// then spans about five hours of a mail server's outage.
const MAIL_ATTEMPTS: u32 = 12;
/// The worker looks for due jobs at least this often, for jobs other processes enqueued.
const IDLE_POLL: Duration = Duration::from_secs(30);
/// The worker's pause after a round that failed.
const RETRY_ROUND: Duration = Duration::from_secs(1);

/// What a job does, with its arguments.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum JobKind {
    /// Reopens a conversation snoozed until `until`, if it still is.
    WakeConversation { workspace_id: WorkspaceId, conversation_id: ConversationId, until: Timestamp },
    /// Deletes what a site keeps past its retention, then runs again a day later.
    Retention { workspace_id: WorkspaceId, site_id: SiteId },
    /// Deletes the files of deleted attachments that an earlier try left queued.
    DeleteBlobs,
    /// Takes an agent offline if no socket of theirs opened again within the grace
    /// period after their last one closed.
    AgentOffline { workspace_id: WorkspaceId, agent_id: AgentId },
    /// Shows a connected agent as away if idle for the workspace's auto-away minutes.
    AutoAway { workspace_id: WorkspaceId, agent_id: AgentId },
    /// Routes a conversation again if `agent_id` still holds it without a first reply
    /// (the team's `reroute_after_seconds`).
    RerouteIfUnanswered { workspace_id: WorkspaceId, conversation_id: ConversationId, agent_id: AgentId },
    /// Ends a wait in the queue that passed the team's `max_wait_seconds`.
    MaxWait { workspace_id: WorkspaceId, conversation_id: ConversationId },
    /// The agent's last socket closed a grace period ago: if they are still offline,
    /// their open chats are routed again (teams with `reroute_when_offline`).
    RerouteOffline { workspace_id: WorkspaceId, agent_id: AgentId },
    /// The team's business hours reopen at `at`: its queue, paused while they were
    /// closed, is drained (one job per team and reopening, whichever conversation asked).
    DrainQueue { workspace_id: WorkspaceId, team_id: TeamId, at: Timestamp },
    /// Sends an invitation's mail. `link` is sealed (`sealed.rs`, the invitation's id as
    /// owner): the job table never holds a usable link in the clear.
    SendInvitation { workspace_id: WorkspaceId, invitation_id: AgentInvitationId, link: String },
}

impl JobKind {
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::WakeConversation { .. } => "wake_conversation",
            JobKind::Retention { .. } => "retention",
            JobKind::DeleteBlobs => "delete_blobs",
            JobKind::AgentOffline { .. } => "agent_offline",
            JobKind::AutoAway { .. } => "auto_away",
            JobKind::RerouteIfUnanswered { .. } => "reroute_if_unanswered",
            JobKind::MaxWait { .. } => "max_wait",
            JobKind::RerouteOffline { .. } => "reroute_offline",
            JobKind::DrainQueue { .. } => "drain_queue",
            JobKind::SendInvitation { .. } => "send_invitation",
        }
    }

    fn payload(&self) -> String {
        match self {
            JobKind::WakeConversation { workspace_id, conversation_id, until } => {
                json!({ "workspace_id": workspace_id.to_string(), "conversation_id": conversation_id.to_string(), "until": until.0 })
                    .to_string()
            }
            JobKind::Retention { workspace_id, site_id } => {
                json!({ "workspace_id": workspace_id.to_string(), "site_id": site_id.to_string() }).to_string()
            }
            JobKind::DeleteBlobs => "{}".into(),
            JobKind::AgentOffline { workspace_id, agent_id } | JobKind::AutoAway { workspace_id, agent_id } => {
                json!({ "workspace_id": workspace_id.to_string(), "agent_id": agent_id.to_string() }).to_string()
            }
            JobKind::RerouteIfUnanswered { workspace_id, conversation_id, agent_id } => json!({
                "workspace_id": workspace_id.to_string(), "conversation_id": conversation_id.to_string(), "agent_id": agent_id.to_string()
            })
            .to_string(),
            JobKind::MaxWait { workspace_id, conversation_id } => {
                json!({ "workspace_id": workspace_id.to_string(), "conversation_id": conversation_id.to_string() }).to_string()
            }
            JobKind::RerouteOffline { workspace_id, agent_id } => {
                json!({ "workspace_id": workspace_id.to_string(), "agent_id": agent_id.to_string() }).to_string()
            }
            JobKind::DrainQueue { workspace_id, team_id, at } => {
                json!({ "workspace_id": workspace_id.to_string(), "team_id": team_id.to_string(), "at": at.0 }).to_string()
            }
            JobKind::SendInvitation { workspace_id, invitation_id, link } => {
                json!({ "workspace_id": workspace_id.to_string(), "invitation_id": invitation_id.to_string(), "link": link }).to_string()
            }
        }
    }

    /// At most one pending job per key: a conversation has one wake-up timer, an agent
    /// one offline timer and one auto-away timer.
    fn dedupe_key(&self) -> Option<String> {
        match self {
            JobKind::WakeConversation { conversation_id, .. } => Some(format!("wake_conversation:{conversation_id}")),
            // One run pending per site: saving the setting again moves it.
            JobKind::Retention { site_id, .. } => Some(format!("retention:{site_id}")),
            JobKind::DeleteBlobs => Some("delete_blobs".into()),
            JobKind::AgentOffline { agent_id, .. } => Some(format!("agent_offline:{agent_id}")),
            JobKind::AutoAway { agent_id, .. } => Some(format!("auto_away:{agent_id}")),
            // One first-reply timer per conversation: a new assignment moves it.
            JobKind::RerouteIfUnanswered { conversation_id, .. } => Some(format!("reroute_if_unanswered:{conversation_id}")),
            JobKind::MaxWait { conversation_id, .. } => Some(format!("max_wait:{conversation_id}")),
            JobKind::RerouteOffline { agent_id, .. } => Some(format!("reroute_offline:{agent_id}")),
            // One drain per team and reopening: conversations paused in the same closed
            // period share it; another reopening (a site's other hours) keeps its own.
            JobKind::DrainQueue { team_id, at, .. } => Some(format!("drain_queue:{team_id}:{}", at.0)),
            // A resend replaces the pending mail of the old link.
            JobKind::SendInvitation { invitation_id, .. } => Some(format!("send_invitation:{invitation_id}")),
        }
    }

    /// Reads a stored job back; `Err` says what is wrong with it.
    pub fn parse(kind: &str, payload: &str) -> std::result::Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(payload).map_err(|e| format!("payload is not JSON: {e}"))?;
        let id = |field: &str| -> std::result::Result<uuid::Uuid, String> {
            value[field].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| format!("{field} is not an id"))
        };
        match kind {
            "wake_conversation" => Ok(JobKind::WakeConversation {
                workspace_id: WorkspaceId(id("workspace_id")?),
                conversation_id: ConversationId(id("conversation_id")?),
                until: Timestamp(value["until"].as_i64().ok_or("until is not a time")?),
            }),
            "retention" => Ok(JobKind::Retention { workspace_id: WorkspaceId(id("workspace_id")?), site_id: SiteId(id("site_id")?) }),
            "delete_blobs" => Ok(JobKind::DeleteBlobs),
            "agent_offline" => {
                Ok(JobKind::AgentOffline { workspace_id: WorkspaceId(id("workspace_id")?), agent_id: AgentId(id("agent_id")?) })
            }
            "auto_away" => Ok(JobKind::AutoAway { workspace_id: WorkspaceId(id("workspace_id")?), agent_id: AgentId(id("agent_id")?) }),
            "reroute_if_unanswered" => Ok(JobKind::RerouteIfUnanswered {
                workspace_id: WorkspaceId(id("workspace_id")?),
                conversation_id: ConversationId(id("conversation_id")?),
                agent_id: AgentId(id("agent_id")?),
            }),
            "max_wait" => Ok(JobKind::MaxWait {
                workspace_id: WorkspaceId(id("workspace_id")?),
                conversation_id: ConversationId(id("conversation_id")?),
            }),
            "reroute_offline" => {
                Ok(JobKind::RerouteOffline { workspace_id: WorkspaceId(id("workspace_id")?), agent_id: AgentId(id("agent_id")?) })
            }
            "drain_queue" => Ok(JobKind::DrainQueue {
                workspace_id: WorkspaceId(id("workspace_id")?),
                team_id: TeamId(id("team_id")?),
                at: Timestamp(value["at"].as_i64().ok_or("at is not a time")?),
            }),
            "send_invitation" => Ok(JobKind::SendInvitation {
                workspace_id: WorkspaceId(id("workspace_id")?),
                invitation_id: AgentInvitationId(id("invitation_id")?),
                link: value["link"].as_str().ok_or("link is not text")?.to_owned(),
            }),
            other => Err(format!("unknown job kind {other:?}")),
        }
    }
}

/// A job [`Core::run_pending_jobs`] ran, and how it went.
#[derive(Clone, PartialEq, Debug)]
pub struct RanJob {
    pub id: JobId,
    /// `None` when the stored job could not be read (it is kept as failed).
    pub kind: Option<JobKind>,
    pub outcome: JobOutcome,
}

#[derive(Clone, PartialEq, Debug)]
pub enum JobOutcome {
    /// Did what it had to, or found nothing left to do.
    Done,
    /// Failed; retried later or, after its last attempt, kept as dead.
    Failed(String),
    /// Finished after its lease ran out and another runner took it over: its result was
    /// not recorded.
    LeaseLost,
}

/// Wakes the background worker when a job is enqueued, so it need not poll.
#[derive(Default)]
pub(crate) struct JobSignal(tokio::sync::Notify);

impl Core {
    /// Stores `job` to run at `due_at` and tells the worker.
    pub(crate) async fn schedule(&self, job: JobKind, due_at: Timestamp) -> Result<JobId> {
        let attempts = if matches!(job, JobKind::SendInvitation { .. }) { MAIL_ATTEMPTS } else { MAX_ATTEMPTS };
        let id = self
            .store
            .enqueue_job(&NewJob {
                kind: job.name().into(),
                payload: job.payload(),
                due_at,
                dedupe_key: job.dedupe_key(),
                max_attempts: attempts,
            })
            .await?;
        self.job_signal.0.notify_one();
        Ok(id)
    }

    /// Runs every job due at the clock's `now`, until none is left, and says what ran.
    pub async fn run_pending_jobs(&self) -> Result<Vec<RanJob>> {
        let mut ran = vec![];
        loop {
            let now = self.now();
            let claimed = self.store.claim_jobs(now, LEASE_MS, CLAIM_BATCH).await?;
            if claimed.is_empty() {
                return Ok(ran);
            }
            for job in claimed {
                if job.attempts > 1 && job.last_error.is_none() {
                    // Claimed before, yet no run recorded a failure: its runner never
                    // answered (killed, or paused past its lease).
                    self.lease_takeovers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(job.id = %job.id, job.kind = %job.kind, attempt = job.attempts, "took over a job whose lease ran out");
                }
                let kind = JobKind::parse(&job.kind, &job.payload);
                let result = match &kind {
                    Ok(kind) => self.run_job(kind.clone()).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                let recorded = match &result {
                    Ok(()) => self.store.complete_job(&job).await?,
                    Err(e) => {
                        tracing::warn!(job.id = %job.id, job.kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
                        self.store.fail_job(&job, e, self.now()).await?
                    }
                };
                let outcome = match (recorded, result) {
                    (false, _) => JobOutcome::LeaseLost,
                    (true, Ok(())) => JobOutcome::Done,
                    (true, Err(e)) => JobOutcome::Failed(e),
                };
                ran.push(RanJob { id: job.id, kind: kind.ok(), outcome });
            }
        }
    }

    async fn run_job(&self, job: JobKind) -> Result<()> {
        match job {
            JobKind::WakeConversation { workspace_id, conversation_id, .. } => self.wake(workspace_id, conversation_id).await,
            JobKind::Retention { workspace_id, site_id } => self.run_retention(workspace_id, site_id).await,
            JobKind::DeleteBlobs => self.delete_queued_blobs().await,
            JobKind::AgentOffline { workspace_id, agent_id } => {
                self.offline_timer(workspace_id, agent_id);
                Ok(())
            }
            JobKind::AutoAway { workspace_id, agent_id } => self.auto_away_timer(workspace_id, agent_id).await,
            JobKind::RerouteIfUnanswered { workspace_id, conversation_id, agent_id } => {
                self.reroute_if_unanswered(workspace_id, conversation_id, agent_id).await
            }
            JobKind::MaxWait { workspace_id, conversation_id } => self.end_wait(workspace_id, conversation_id).await,
            JobKind::RerouteOffline { workspace_id, agent_id } => self.reroute_offline(workspace_id, agent_id).await,
            JobKind::DrainQueue { workspace_id, team_id, .. } => self.drain(workspace_id, Some(team_id)).await.map(drop),
            JobKind::SendInvitation { workspace_id, invitation_id, link } => self.send_invitation(workspace_id, invitation_id, &link).await,
        }
    }

    /// Reopens a conversation whose snooze has run out, as the system. A conversation
    /// reopened meanwhile is left alone; one snoozed again until later gets (keeps) a
    /// timer for then, so a wake-up is never lost to a failed re-snooze.
    async fn wake(&self, ws: WorkspaceId, id: ConversationId) -> Result<()> {
        let conversation = match self.store.conversation(ws, id).await {
            Ok(c) => c,
            // Gone with its workspace: nothing to wake.
            Err(StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        match conversation.status {
            Status::Snoozed { until } if until <= self.now() => {
                let change = Change::Record {
                    conversation_id: id,
                    actor: Actor::System,
                    data: EventData::StatusChanged { status: Status::Open },
                    at: self.now(),
                };
                let done = self.commit(ws, change).await?;
                // A reopened conversation with no agent needs one.
                if done.conversation.assignee_id.is_none() {
                    self.route(ws, id, AssignReason::Routed).await?;
                }
            }
            Status::Snoozed { until } => {
                self.schedule(JobKind::WakeConversation { workspace_id: ws, conversation_id: id, until }, until).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Runs due jobs in the background until `shutdown` resolves: after each round it
    /// sleeps until the next job falls due, a job is enqueued, or [`IDLE_POLL`] passes.
    /// A round under way finishes before it stops.
    pub fn spawn_job_worker(&self, shutdown: impl Future<Output = ()> + Send + 'static) -> tokio::task::JoinHandle<()> {
        let core = self.clone();
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            loop {
                // After a failed round (the store unreachable), wait before the next one
                // even if jobs are due, rather than spinning.
                let least = match core.run_pending_jobs().await {
                    Ok(_) => Duration::ZERO,
                    Err(e) => {
                        tracing::warn!(error = %e, "running jobs failed; retrying");
                        RETRY_ROUND
                    }
                };
                let wait = match core.store.next_job_at().await {
                    Ok(Some(at)) => Duration::from_millis(at.0.saturating_sub(core.now().0).max(0) as u64).min(IDLE_POLL),
                    Ok(None) => IDLE_POLL,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the next job's time failed; retrying");
                        IDLE_POLL
                    }
                };
                let wait = wait.max(least);
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = core.job_signal.0.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        })
    }
}
