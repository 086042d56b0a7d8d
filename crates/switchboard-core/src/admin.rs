//! Workspace administration: workspaces, agents, teams, sites, prepared replies and
//! API tokens. Every use case here checks the caller's role itself, so no caller
//! (REST handler, socket, CLI) can skip a rule:
//!
//! | what                                   | agent | admin | owner |
//! |----------------------------------------|-------|-------|-------|
//! | read the workspace, agents, teams, sites (without identity secrets), canned responses | yes | yes | yes |
//! | edit one's own profile (not one's role) | yes  | yes   | yes   |
//! | read a site's identity secret           | no   | yes   | yes   |
//! | change agents (deactivate, reset a password), teams, sites, labels, workspace canned responses | no | yes | yes |
//! | set a site's retention, preview it; export or erase a contact (`privacy.rs`) | no | yes | yes |
//! | create, change, delete one's own personal canned responses | yes | yes | yes |
//! | list, create, delete API tokens (a token at most the creator's role) | no | yes | yes |
//! | create, change, delete an owner, promote to owner, delete an owner-role token | no | no | yes |
//!
//! A workspace never loses its last owner: demoting or deleting it fails with
//! [`Error::LastOwner`].

use tokio::sync::Mutex;

use switchboard_domain::*;

use crate::auth::{self, Principal, random_token, sha256_hex};
use crate::{Core, Error, Result};

#[derive(Clone, Debug)]
pub struct NewAgent {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub locale: Option<Locale>,
    pub max_chats: Option<u32>,
    pub avatar_url: Option<String>,
}

/// Fields to change on an agent; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct AgentPatch {
    pub email: Option<Email>,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub locale: Option<Locale>,
    /// `Some(None)` goes back to the workspace's default.
    pub max_chats: Option<Option<u32>>,
    pub avatar_url: Option<Option<String>>,
    pub password: Option<String>,
    /// `false` deactivates: the agent is signed out, cannot sign in, and their open
    /// conversations go back to their team's unassigned queue.
    pub active: Option<bool>,
}

/// Whose a canned response is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum CannedScope {
    /// Every agent of the workspace sees it; admins and owners manage it.
    #[default]
    Workspace,
    /// Only its agent sees and manages it.
    Personal,
}

#[derive(Clone, Debug, Default)]
pub struct SiteInput {
    pub name: Option<String>,
    pub allowed_origins: Option<Vec<Origin>>,
    pub appearance: Option<Appearance>,
    pub prechat_form: Option<Vec<PrechatField>>,
    /// Replace the identity-verification secret with a fresh one.
    pub rotate_identity_secret: bool,
    /// `Some(None)` keeps everything forever.
    pub retention_days: Option<Option<RetentionDays>>,
    pub banned_behaviour: Option<BannedBehaviour>,
    pub masking: Option<masking::Masking>,
    /// `Some(None)`: always open.
    pub business_hours: Option<Option<BusinessHours>>,
    /// `Some(None)`: the workspace-wide queue.
    pub default_team_id: Option<Option<TeamId>>,
    pub tracking: Option<TrackingMode>,
    /// At most 20 names of 1 to 100 characters.
    pub conversion_events: Option<Vec<String>>,
}

/// A site's conversion events: at most 20 names of 1 to 100 characters, each once.
fn conversion_events(names: Vec<String>) -> Result<Vec<String>> {
    let bad = || ValidationError::new("conversion_events", "must be at most 20 distinct event names of 1 to 100 characters");
    if names.len() > 20 {
        return Err(bad().into());
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > ContactEvent::MAX_NAME_CHARS || out.contains(&name) {
            return Err(bad().into());
        }
        out.push(name);
    }
    Ok(out)
}

/// Routing settings of a team to change; `None` leaves a field as it is (or, for a new
/// team, at its default).
#[derive(Clone, Copy, Debug, Default)]
pub struct RoutingPatch {
    pub strategy: Option<Strategy>,
    pub sticky: Option<bool>,
    pub reroute_after_seconds: Option<Option<u32>>,
    pub reroute_when_offline: Option<bool>,
    pub max_wait_seconds: Option<Option<u32>>,
}

impl RoutingPatch {
    /// `routing` with the patch applied, its timers checked.
    pub fn apply(self, mut routing: TeamRouting) -> Result<TeamRouting> {
        if let Some(s) = self.strategy {
            routing.strategy = s;
        }
        if let Some(s) = self.sticky {
            routing.sticky = s;
        }
        if let Some(r) = self.reroute_after_seconds {
            routing.reroute_after_seconds = r;
        }
        if let Some(r) = self.reroute_when_offline {
            routing.reroute_when_offline = r;
        }
        if let Some(m) = self.max_wait_seconds {
            routing.max_wait_seconds = m;
        }
        Ok(routing.check()?)
    }
}

/// A freshly created API token: the secret is shown once and never stored.
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// Changes that may remove an owner take turns, so two of them cannot both see
/// "another owner remains" and together leave none. This holds within one server
/// process, which is how Switchboard runs today (one process per database).
static OWNER_CHANGES: Mutex<()> = Mutex::const_new(());

fn check_max_chats(n: u32) -> Result<u32> {
    check_max_chats_in("max_chats", n)
}

pub(crate) fn check_max_chats_in(field: &'static str, n: u32) -> Result<u32> {
    if (1..=100).contains(&n) { Ok(n) } else { Err(ValidationError::new(field, "must be between 1 and 100").into()) }
}

fn check_avatar(url: Option<String>) -> Result<Option<String>> {
    match url {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2000 => {
            Err(ValidationError::new("avatar_url", "must be an http(s) URL").into())
        }
        other => Ok(other),
    }
}

/// The same complaint about another field (a password checked as `new_password`).
pub(crate) fn renamed(e: Error, field: &'static str) -> Error {
    match e {
        Error::Invalid(v) => Error::Invalid(ValidationError::new(field, v.reason)),
        other => other,
    }
}

fn agent_target(id: AgentId) -> AuditTarget {
    AuditTarget::new(AuditTargetKind::Agent, id)
}

fn check_shortcut(raw: &str) -> Result<String> {
    let s = non_empty("shortcut", raw, 32)?.to_lowercase();
    if s.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
        Ok(s)
    } else {
        Err(ValidationError::new("shortcut", "may contain only letters, digits, '-' and '_'").into())
    }
}

impl Core {
    /// Creates a workspace with its owner; used by `switchboard admin` and the demo,
    /// whose callers hold the server itself.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn create_workspace(&self, name: &str, owner: NewAgent) -> Result<(Workspace, Agent)> {
        let ws = Workspace::new(WorkspaceId::new(), non_empty("name", name, 100)?, self.now());
        let hash = auth::hash_password(&owner.password).await?;
        self.store.create_workspace(&ws).await?;
        let agent = self.build_agent(ws.id, NewAgent { role: Role::Owner, ..owner })?;
        self.store.create_agent(&agent, &hash).await?;
        Ok((ws, agent))
    }

    pub(crate) fn build_agent(&self, ws: WorkspaceId, new: NewAgent) -> Result<Agent> {
        Ok(Agent {
            id: AgentId::new(),
            workspace_id: ws,
            email: new.email,
            name: non_empty("name", &new.name, 100)?,
            role: new.role,
            avatar_url: check_avatar(new.avatar_url)?,
            locale: new.locale.unwrap_or_default(),
            max_chats: new.max_chats.map(check_max_chats).transpose()?,
            status: AgentStatus::Online,
            notifications: NotificationPrefs::default(),
            active: true,
            created_at: self.now(),
        })
    }

    /// Fails with [`Error::LastOwner`] unless `ws` has an owner besides `id`.
    async fn ensure_another_owner(&self, ws: WorkspaceId, id: AgentId) -> Result<()> {
        let agents = self.store.agents(ws).await?;
        if agents.iter().any(|a| a.role == Role::Owner && a.active && a.id != id) { Ok(()) } else { Err(Error::LastOwner) }
    }

    /// Every role may read the workspace.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn workspace(&self, who: &Principal) -> Result<Workspace> {
        Ok(self.store.workspace(who.workspace_id).await?)
    }

    /// Every role may list the agents: the dashboard shows who is on the team.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn agents(&self, who: &Principal) -> Result<Vec<Agent>> {
        Ok(self.store.agents(who.workspace_id).await?)
    }

    /// Every role may read an agent.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, agent.id = %id), err(level = "info"))]
    pub async fn agent(&self, who: &Principal, id: AgentId) -> Result<Agent> {
        Ok(self.store.agent(who.workspace_id, id).await?)
    }

    /// Admins and owners add agents; only an owner may add another owner.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, role = new.role.as_str()), err(level = "info"))]
    pub async fn create_agent(&self, who: &Principal, new: NewAgent) -> Result<Agent> {
        who.require_admin()?;
        if new.role == Role::Owner && who.role != Role::Owner {
            return Err(Error::Forbidden);
        }
        let hash = auth::hash_password(&new.password).await?;
        let agent = self.build_agent(who.workspace_id, new)?;
        self.store.create_agent(&agent, &hash).await?;
        self.roster.forget(who.workspace_id);
        self.audit(who, AuditAction::AgentInvited, Some(agent_target(agent.id)), Some(agent.role.as_str())).await?;
        Ok(agent)
    }

    /// Agents may edit their own profile (not their role); admins may edit other
    /// agents and admins; only owners may change an owner (profile, password or
    /// role) or promote someone to owner. The last owner cannot be demoted.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, agent.id = %id), err(level = "info"))]
    pub async fn update_agent(&self, who: &Principal, id: AgentId, patch: AgentPatch) -> Result<Agent> {
        self.update_agent_as(who, id, patch, true).await
    }

    /// [`Core::update_agent`]; `audited` off for an agent's own profile (`update_me`),
    /// which is not an administrative act.
    pub(crate) async fn update_agent_as(&self, who: &Principal, id: AgentId, patch: AgentPatch, audited: bool) -> Result<Agent> {
        let is_self = who.agent_id() == Some(id);
        if !is_self {
            who.require_admin()?;
        }
        let _turn = OWNER_CHANGES.lock().await;
        let mut agent = self.store.agent(who.workspace_id, id).await?;
        let before = agent.clone();
        if !is_self && agent.role == Role::Owner && who.role != Role::Owner {
            return Err(Error::Forbidden);
        }
        if let Some(role) = patch.role {
            if is_self && role != agent.role {
                return Err(Error::Forbidden);
            }
            if role == Role::Owner && who.role != Role::Owner {
                return Err(Error::Forbidden);
            }
            if agent.role == Role::Owner && role != Role::Owner {
                self.ensure_another_owner(who.workspace_id, id).await?;
            }
            agent.role = role;
        }
        if let Some(email) = patch.email {
            agent.email = email;
        }
        if let Some(name) = patch.name {
            agent.name = non_empty("name", &name, 100)?;
        }
        if let Some(locale) = patch.locale {
            agent.locale = locale;
        }
        // A limit is the team's to set: an agent does not raise (or lower) their own.
        if patch.max_chats.is_some() && !who.role.can_administer() {
            return Err(Error::Forbidden);
        }
        let raised = patch.max_chats.is_some();
        if let Some(n) = patch.max_chats {
            agent.max_chats = n.map(check_max_chats).transpose()?;
        }
        if let Some(url) = patch.avatar_url {
            agent.avatar_url = check_avatar(url)?;
        }
        let deactivating = patch.active == Some(false) && agent.active;
        if let Some(active) = patch.active {
            if is_self && !active {
                return Err(Error::Forbidden);
            }
            if deactivating && agent.role == Role::Owner {
                self.ensure_another_owner(who.workspace_id, id).await?;
            }
            agent.active = active;
        }
        let hash = match &patch.password {
            Some(p) => Some(auth::hash_password(p).await?),
            None => None,
        };
        self.store.update_agent(&agent).await?;
        self.roster.forget(who.workspace_id);
        let password_changed = hash.is_some();
        if let Some(hash) = hash {
            self.store.set_password(who.workspace_id, id, &hash).await?;
            let ended = self.store.delete_agent_sessions(id).await?;
            self.sessions_ended(who.workspace_id, id, ended);
        }
        if deactivating {
            let ended = self.store.delete_agent_sessions(id).await?;
            self.sessions_ended(who.workspace_id, id, ended);
            self.release_conversations(who.workspace_id, id).await?;
        }
        if audited {
            self.audit_agent_change(who, &before, &agent, password_changed).await?;
        }
        if raised || patch.active == Some(true) {
            // A new limit or a returning agent may make room for waiting chats.
            self.fill_soon(who.workspace_id, Some(id));
        }
        Ok(agent)
    }

    /// One entry per kind of change, so an owner can filter role changes or
    /// deactivations; the e-mail and name are never written, only that they changed.
    async fn audit_agent_change(&self, who: &Principal, before: &Agent, after: &Agent, password_changed: bool) -> Result<()> {
        let target = Some(agent_target(after.id));
        if before.role != after.role {
            self.audit(who, AuditAction::AgentRoleChanged, target, Some(after.role.as_str())).await?;
        }
        if before.active != after.active {
            let action = if after.active { AuditAction::AgentReactivated } else { AuditAction::AgentDeactivated };
            self.audit(who, action, target, None).await?;
        }
        if password_changed {
            self.audit(who, AuditAction::PasswordReset, target, None).await?;
        }
        let profile = |a: &Agent| (a.email.clone(), a.name.clone(), a.locale.clone(), a.max_chats, a.avatar_url.clone());
        if profile(before) != profile(after) {
            self.audit(who, AuditAction::AgentChanged, target, None).await?;
        }
        Ok(())
    }

    /// An admin sets a new password for an agent (the rules of [`Core::update_agent`]:
    /// only owners for an owner), which signs that agent out everywhere.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, agent.id = %id), err(level = "info"))]
    pub async fn reset_agent_password(&self, who: &Principal, id: AgentId, new_password: &str) -> Result<Agent> {
        who.require_admin()?;
        auth::validate_password(new_password).map_err(|e| renamed(e, "new_password"))?;
        self.update_agent(who, id, AgentPatch { password: Some(new_password.to_owned()), ..Default::default() }).await
    }

    /// Sends every conversation the agent holds that is not resolved back to their
    /// team's unassigned queue, each with a system `assigned` event, so none is left
    /// with an agent who cannot answer. Resolved ones keep their assignee for history.
    pub(crate) async fn release_conversations(&self, ws: WorkspaceId, agent: AgentId) -> Result<()> {
        for status in ["open", "pending", "snoozed"] {
            loop {
                let filter = switchboard_store::ConversationFilter {
                    status: Some(status),
                    assignee: Some(switchboard_store::AssigneeFilter::Agent(agent)),
                    limit: 100,
                    ..Default::default()
                };
                // Each release takes a conversation out of the filter: read the first page again.
                let held = self.store.conversations(ws, &filter).await?;
                if held.is_empty() {
                    break;
                }
                for c in held {
                    let data = EventData::Assigned { agent_id: None, team_id: c.team_id, reason: AssignReason::Released, note: None };
                    let change = switchboard_store::Change::Record { conversation_id: c.id, actor: Actor::System, data, at: self.now() };
                    self.commit(ws, change).await?;
                    // Back to routing: another agent of the team, or its queue.
                    if !matches!(c.status, Status::Snoozed { .. }) {
                        self.route(ws, c.id, AssignReason::Routed).await?;
                    }
                }
            }
        }
        tracing::info!(agent.id = %agent, "conversations released");
        Ok(())
    }

    /// Admins and owners remove agents, never themselves; only owners remove an
    /// owner, and never the last one.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, agent.id = %id), err(level = "info"))]
    pub async fn delete_agent(&self, who: &Principal, id: AgentId) -> Result<()> {
        who.require_admin()?;
        let _turn = OWNER_CHANGES.lock().await;
        let agent = self.store.agent(who.workspace_id, id).await?;
        if agent.role == Role::Owner && who.role != Role::Owner || who.agent_id() == Some(id) {
            return Err(Error::Forbidden);
        }
        if agent.role == Role::Owner {
            self.ensure_another_owner(who.workspace_id, id).await?;
        }
        self.release_conversations(who.workspace_id, id).await?;
        let ended = self.store.delete_agent_sessions(id).await?;
        self.sessions_ended(who.workspace_id, id, ended);
        self.store.delete_agent(who.workspace_id, id).await?;
        self.roster.forget(who.workspace_id);
        self.audit(who, AuditAction::AgentDeleted, Some(agent_target(id)), None).await
    }

    /// Sets a new password by e-mail (the `switchboard admin reset-password` command)
    /// and signs the agent out everywhere. Whoever runs the command holds the server.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn reset_password(&self, email: &Email, password: &str) -> Result<Agent> {
        let (agent, _) = self.store.agent_credentials(email).await?.ok_or(Error::NotFound(Entity::Agent))?;
        let hash = auth::hash_password(password).await?;
        self.store.set_password(agent.workspace_id, agent.id, &hash).await?;
        let ended = self.store.delete_agent_sessions(agent.id).await?;
        self.sessions_ended(agent.workspace_id, agent.id, ended);
        self.audit_as(agent.workspace_id, Actor::System, AuditAction::PasswordReset, Some(agent_target(agent.id)), None).await?;
        Ok(agent)
    }

    /// Every role may list teams.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn teams(&self, who: &Principal) -> Result<Vec<Team>> {
        Ok(self.store.teams(who.workspace_id).await?)
    }

    /// Every role may read a team.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, team.id = %id), err(level = "info"))]
    pub async fn team(&self, who: &Principal, id: TeamId) -> Result<Team> {
        Ok(self.store.team(who.workspace_id, id).await?)
    }

    /// Admins and owners only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn create_team(
        &self,
        who: &Principal,
        name: &str,
        agent_ids: Vec<AgentId>,
        business_hours: Option<BusinessHours>,
        routing: RoutingPatch,
    ) -> Result<Team> {
        who.require_admin()?;
        let team = Team {
            id: TeamId::new(),
            workspace_id: who.workspace_id,
            name: non_empty("name", name, 100)?,
            agent_ids,
            business_hours,
            routing: routing.apply(TeamRouting::default())?,
            created_at: self.now(),
        };
        self.store.create_team(&team).await?;
        self.audit(who, AuditAction::TeamCreated, Some(AuditTarget::new(AuditTargetKind::Team, team.id)), None).await?;
        Ok(team)
    }

    /// Admins and owners only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, team.id = %id), err(level = "info"))]
    /// `business_hours`: `Some(None)` makes the team always open; `None` leaves them.
    pub async fn update_team(
        &self,
        who: &Principal,
        id: TeamId,
        name: Option<&str>,
        agent_ids: Option<Vec<AgentId>>,
        business_hours: Option<Option<BusinessHours>>,
        routing: RoutingPatch,
    ) -> Result<Team> {
        who.require_admin()?;
        let mut team = self.store.team(who.workspace_id, id).await?;
        if let Some(name) = name {
            team.name = non_empty("name", name, 100)?;
        }
        if let Some(ids) = agent_ids {
            team.agent_ids = ids;
        }
        if let Some(hours) = business_hours {
            team.business_hours = hours;
        }
        team.routing = routing.apply(team.routing)?;
        self.store.update_team(&team).await?;
        self.audit(who, AuditAction::TeamChanged, Some(AuditTarget::new(AuditTargetKind::Team, team.id)), None).await?;
        // New members or a strategy that is no longer manual may take waiting chats.
        self.fill_soon(who.workspace_id, None);
        Ok(team)
    }

    /// A site's routing settings refer only to the workspace's teams: its default team,
    /// and the options of a pre-chat `team` field.
    async fn check_site_teams(&self, ws: WorkspaceId, site: &Site) -> Result<()> {
        if let Some(t) = site.default_team_id {
            self.store.team(ws, t).await.map_err(|_| ValidationError::new("default_team_id", "is not a team of this workspace"))?;
        }
        let teams = self.store.teams(ws).await?;
        for field in site.prechat_form.iter().filter(|f| f.kind == PrechatFieldKind::Team) {
            if field.options.is_empty() || field.options.iter().any(|o| !teams.iter().any(|t| t.id.to_string() == *o)) {
                return Err(ValidationError::new("prechat_form", "a team field's options must be team ids of this workspace").into());
            }
        }
        Ok(())
    }

    /// Admins and owners only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, team.id = %id), err(level = "info"))]
    pub async fn delete_team(&self, who: &Principal, id: TeamId) -> Result<()> {
        who.require_admin()?;
        self.store.delete_team(who.workspace_id, id).await?;
        self.audit(who, AuditAction::TeamDeleted, Some(AuditTarget::new(AuditTargetKind::Team, id)), None).await
    }

    /// A site as `who` may see it: the identity secret for owners and admins only.
    fn site_view(who: &Principal, site: Site) -> SiteView {
        if who.role.can_administer() { SiteView::with_secret(site) } else { SiteView::without_secret(site) }
    }

    /// Every role may list sites (the dashboard names them); only owners and
    /// admins get their identity secrets.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn sites(&self, who: &Principal) -> Result<Vec<SiteView>> {
        Ok(self.store.sites(who.workspace_id).await?.into_iter().map(|s| Self::site_view(who, s)).collect())
    }

    /// Every role may read a site; only owners and admins get its identity secret.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, site.id = %id), err(level = "info"))]
    pub async fn site(&self, who: &Principal, id: SiteId) -> Result<SiteView> {
        Ok(Self::site_view(who, self.store.site(who.workspace_id, id).await?))
    }

    /// Admins and owners only; the whole site (secret included) is theirs to see.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn create_site(&self, who: &Principal, input: SiteInput) -> Result<Site> {
        who.require_admin()?;
        let name = input.name.as_deref().ok_or_else(|| ValidationError::new("name", "is required"))?;
        let site = Site {
            id: SiteId::new(),
            workspace_id: who.workspace_id,
            name: non_empty("name", name, 100)?,
            public_key: format!("pk_{}", random_token(12).replace(['-', '_'], "x")),
            allowed_origins: input.allowed_origins.unwrap_or_default(),
            appearance: input.appearance.unwrap_or_default(),
            prechat_form: input.prechat_form.unwrap_or_default(),
            identity_secret: random_token(24),
            retention_days: input.retention_days.flatten(),
            banned_behaviour: input.banned_behaviour.unwrap_or_default(),
            masking: input.masking.unwrap_or_default(),
            business_hours: input.business_hours.flatten(),
            default_team_id: input.default_team_id.flatten(),
            tracking: input.tracking.unwrap_or_default(),
            conversion_events: conversion_events(input.conversion_events.unwrap_or_default())?,
            created_at: self.now(),
        };
        self.check_site_teams(who.workspace_id, &site).await?;
        self.store.create_site(&site).await?;
        self.audit(who, AuditAction::SiteCreated, Some(AuditTarget::new(AuditTargetKind::Site, site.id)), None).await?;
        self.schedule_retention(&site).await?;
        self.guard_changed(who.workspace_id);
        self.rules_changed(who.workspace_id);
        Ok(site)
    }

    /// Admins and owners only; the whole site (secret included) is theirs to see.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, site.id = %id), err(level = "info"))]
    pub async fn update_site(&self, who: &Principal, id: SiteId, input: SiteInput) -> Result<Site> {
        who.require_admin()?;
        let mut site = self.store.site(who.workspace_id, id).await?;
        if let Some(name) = &input.name {
            site.name = non_empty("name", name, 100)?;
        }
        if let Some(origins) = input.allowed_origins {
            site.allowed_origins = origins;
        }
        if let Some(a) = input.appearance {
            site.appearance = a;
        }
        if let Some(form) = input.prechat_form {
            site.prechat_form = form;
        }
        if input.rotate_identity_secret {
            site.identity_secret = random_token(24);
        }
        let retention_changed = input.retention_days.is_some_and(|days| days != site.retention_days);
        if let Some(days) = input.retention_days {
            site.retention_days = days;
        }
        if let Some(b) = input.banned_behaviour {
            site.banned_behaviour = b;
        }
        if let Some(m) = input.masking {
            site.masking = m;
        }
        if let Some(hours) = input.business_hours {
            site.business_hours = hours;
        }
        if let Some(team) = input.default_team_id {
            site.default_team_id = team;
        }
        if let Some(tracking) = input.tracking {
            site.tracking = tracking;
        }
        if let Some(names) = input.conversion_events {
            site.conversion_events = conversion_events(names)?;
        }
        self.check_site_teams(who.workspace_id, &site).await?;
        self.store.update_site(&site).await?;
        self.audit(who, AuditAction::SiteChanged, Some(AuditTarget::new(AuditTargetKind::Site, site.id)), None).await?;
        if retention_changed {
            self.schedule_retention(&site).await?;
        }
        self.guard_changed(who.workspace_id);
        self.rules_changed(who.workspace_id);
        Ok(site)
    }

    /// Admins and owners only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, site.id = %id), err(level = "info"))]
    pub async fn delete_site(&self, who: &Principal, id: SiteId) -> Result<()> {
        who.require_admin()?;
        self.store.delete_site(who.workspace_id, id).await?;
        self.guard_changed(who.workspace_id);
        self.rules_changed(who.workspace_id);
        self.audit(who, AuditAction::SiteDeleted, Some(AuditTarget::new(AuditTargetKind::Site, id)), None).await
    }

    /// Every role may list canned responses: agents insert them into replies. An agent
    /// sees the workspace's and their own personal ones.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn canned_responses(&self, who: &Principal) -> Result<Vec<CannedResponse>> {
        Ok(self.store.canned_responses(who.workspace_id, who.agent_id()).await?)
    }

    /// Every role may read a workspace canned response; a personal one only its agent
    /// (anyone else gets "not found", as for another workspace's).
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, canned.id = %id), err(level = "info"))]
    pub async fn canned(&self, who: &Principal, id: CannedResponseId) -> Result<CannedResponse> {
        let canned = self.store.canned(who.workspace_id, id).await?;
        match canned.owner_id {
            Some(owner) if who.agent_id() != Some(owner) => Err(Error::NotFound(Entity::CannedResponse)),
            _ => Ok(canned),
        }
    }

    /// Whoever may change this canned response: its agent for a personal one, admins
    /// and owners for the workspace's.
    fn may_manage_canned(who: &Principal, canned: &CannedResponse) -> Result<()> {
        match canned.owner_id {
            Some(_) => Ok(()), // `canned` already hid other agents' personal responses.
            None => who.require_admin(),
        }
    }

    /// Workspace responses: admins and owners. Personal ones: any agent, for
    /// themselves (an API token is nobody's, so it has none).
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn create_canned(&self, who: &Principal, scope: CannedScope, shortcut: &str, body: &str) -> Result<CannedResponse> {
        let owner_id = match scope {
            CannedScope::Workspace => {
                who.require_admin()?;
                None
            }
            CannedScope::Personal => {
                Some(who.agent_id().ok_or_else(|| ValidationError::new("scope", "an API token has no personal responses"))?)
            }
        };
        let canned = CannedResponse {
            id: CannedResponseId::new(),
            workspace_id: who.workspace_id,
            shortcut: check_shortcut(shortcut)?,
            body: switchboard_domain::body::message_body(body, self.limits.max_message_chars, false)?,
            owner_id,
            created_at: self.now(),
        };
        self.store.create_canned(&canned).await?;
        Ok(canned)
    }

    /// As [`Core::create_canned`]: a personal response by its agent, a workspace one
    /// by admins and owners. The scope never changes.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, canned.id = %id), err(level = "info"))]
    pub async fn update_canned(
        &self,
        who: &Principal,
        id: CannedResponseId,
        shortcut: Option<&str>,
        body: Option<&str>,
    ) -> Result<CannedResponse> {
        let mut canned = self.canned(who, id).await?;
        Self::may_manage_canned(who, &canned)?;
        if let Some(s) = shortcut {
            canned.shortcut = check_shortcut(s)?;
        }
        if let Some(b) = body {
            canned.body = switchboard_domain::body::message_body(b, self.limits.max_message_chars, false)?;
        }
        self.store.update_canned(&canned).await?;
        Ok(canned)
    }

    /// As [`Core::update_canned`].
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, canned.id = %id), err(level = "info"))]
    pub async fn delete_canned(&self, who: &Principal, id: CannedResponseId) -> Result<()> {
        let canned = self.canned(who, id).await?;
        Self::may_manage_canned(who, &canned)?;
        Ok(self.store.delete_canned(who.workspace_id, id).await?)
    }

    /// Admins and owners only (the list has no secrets, only their prefixes).
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn api_tokens(&self, who: &Principal) -> Result<Vec<ApiToken>> {
        who.require_admin()?;
        Ok(self.store.api_tokens(who.workspace_id).await?)
    }

    /// Admins and owners only; a token can have at most the role of whoever creates it.
    /// With `expires_at` (in the future) it is refused after then (`token_expired`).
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, role = role.as_str()), err(level = "info"))]
    pub async fn create_api_token(&self, who: &Principal, name: &str, role: Role, expires_at: Option<Timestamp>) -> Result<CreatedToken> {
        who.require_admin()?;
        if role > who.role {
            return Err(Error::Forbidden);
        }
        if expires_at.is_some_and(|t| t <= self.now()) {
            return Err(ValidationError::new("expires_at", "must be in the future").into());
        }
        let secret = format!("sb_{}", random_token(32));
        let token = ApiToken {
            id: ApiTokenId::new(),
            workspace_id: who.workspace_id,
            name: non_empty("name", name, 100)?,
            role,
            prefix: secret.chars().take(10).collect(),
            created_at: self.now(),
            last_used_at: None,
            expires_at,
        };
        self.store.create_api_token(&token, &sha256_hex(&secret)).await?;
        let target = Some(AuditTarget::new(AuditTargetKind::ApiToken, token.id));
        self.audit(who, AuditAction::TokenCreated, target, Some(role.as_str())).await?;
        Ok(CreatedToken { token, secret })
    }

    /// Admins and owners only; an owner-role token only by an owner.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, token.id = %id), err(level = "info"))]
    pub async fn delete_api_token(&self, who: &Principal, id: ApiTokenId) -> Result<()> {
        who.require_admin()?;
        if who.role != Role::Owner {
            let tokens = self.store.api_tokens(who.workspace_id).await?;
            if tokens.iter().any(|t| t.id == id && t.role == Role::Owner) {
                return Err(Error::Forbidden);
            }
        }
        self.store.delete_api_token(who.workspace_id, id).await?;
        self.audit(who, AuditAction::TokenRevoked, Some(AuditTarget::new(AuditTargetKind::ApiToken, id)), None).await
    }
}
