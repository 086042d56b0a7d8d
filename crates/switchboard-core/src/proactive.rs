//! Proactive rules, lead scoring and conversions (issue 15): what a live visitor's
//! moments set off. Live tracking calls [`Core::visitor_moment`] after each moment; this
//! records a conversion when the event is one of the site's, gives the points the
//! workspace's scoring rules earn, and fires the site's rules whose conditions hold
//! (domain `triggers::evaluate`). Rules and scores that wait on time (on the page, on the
//! site, a cap's days) are asked again when due: a per-node timer per contact
//! ([`Rechecks`]), which re-reads the visitor's facts from live tracking and is dropped
//! when the visitor leaves. Rules never fire while the visitor is chatting, so their
//! labels and priority always wait for the visitor's next conversation
//! ([`Core::pending_for_new_conversation`]).
//!
//! Invariant: a visitor's moments take turns on a node (`Rechecks::turns`). A rule's cap
//! is read (`last_firings`) before it fires and written (`record_firing`) after, and a
//! visitor clicking fast sends pages whose moments would otherwise overlap and all fire it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_domain::scoring::{self, Scoring};
use switchboard_domain::triggers::{self, Action, Conversion, InvitationAction, PendingActions, SiteState, Trigger, TriggerDraft, Verdict};
use switchboard_domain::*;
use switchboard_store::{ConversionCursor, FiringRecord, InvitationOutcome};

use crate::auth::Principal;
use crate::{ContactPatch, Core, Error, Result, Visitor};

/// When to ask a visitor's rules and scores again, per contact, on this node.
#[derive(Default)]
pub(crate) struct Rechecks {
    due: Mutex<HashMap<ContactId, (WorkspaceId, Timestamp)>>,
    changed: tokio::sync::Notify,
    /// The contacts with a moment running, each moment waiting its turn; an entry goes
    /// when its last moment ends.
    turns: Mutex<HashMap<ContactId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Rechecks {
    /// Runs `moment` once no other moment of the contact runs on this node.
    async fn in_turn<T>(&self, contact: ContactId, moment: impl Future<Output = T>) -> T {
        let turn = self.turns.lock().expect("turns lock").entry(contact).or_default().clone();
        let held = turn.clone().lock_owned().await;
        let done = moment.await;
        drop(held);
        drop(turn);
        let mut turns = self.turns.lock().expect("turns lock");
        // Only the map's reference left: nobody waits.
        if turns.get(&contact).is_some_and(|t| Arc::strong_count(t) == 1) {
            turns.remove(&contact);
        }
        done
    }
}

/// How often the background re-check wakes when nothing is due sooner.
const RECHECK_IDLE: Duration = Duration::from_secs(1);

/// A page of a site's conversions.
#[derive(Clone, Debug)]
pub struct ConversionPage {
    pub conversions: Vec<Conversion>,
    pub next: Option<ConversionCursor>,
}

impl Core {
    /// Live tracking calls this after each moment of a visitor's (arrival, page, event,
    /// exit intent, profile change, departure) with their facts as they are now. Off the
    /// visitor's path: failures are logged, never returned.
    pub async fn visitor_moment(&self, facts: &VisitorFacts, moment: &Moment) {
        if *moment == Moment::Left {
            self.rechecks.due.lock().expect("rechecks lock").remove(&facts.contact_id);
            return;
        }
        if let Err(e) = self.rules_moment(facts, Some(moment)).await {
            tracing::warn!(contact.id = %facts.contact_id, error = %e, "proactive rules failed");
        }
    }

    /// Asks the rules and scores of every visitor whose re-check is due, with their
    /// facts as live tracking has them now (a visitor no longer live is forgotten).
    /// The background task runs it; tests call it after moving the clock.
    pub async fn run_due_rule_checks(&self) -> usize {
        let now = self.now();
        let due: Vec<(ContactId, WorkspaceId)> = {
            let mut map = self.rechecks.due.lock().expect("rechecks lock");
            let ready: Vec<_> = map.iter().filter(|(_, (_, at))| *at <= now).map(|(c, (ws, _))| (*c, *ws)).collect();
            for (c, _) in &ready {
                map.remove(c);
            }
            ready
        };
        for (contact, ws) in &due {
            let Some(facts) = self.live_facts(*ws, *contact).await else { continue };
            if let Err(e) = self.rules_moment(&facts, None).await {
                tracing::warn!(contact.id = %contact, error = %e, "proactive re-check failed");
            }
        }
        due.len()
    }

    /// When the next re-check on this node is due, if any.
    pub fn next_rule_check(&self) -> Option<Timestamp> {
        self.rechecks.due.lock().expect("rechecks lock").values().map(|(_, at)| *at).min()
    }

    /// Runs due re-checks in the background until `shutdown` resolves.
    pub fn spawn_rule_checks(&self, shutdown: impl Future<Output = ()> + Send + 'static) -> tokio::task::JoinHandle<()> {
        let core = self.clone();
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            loop {
                core.run_due_rule_checks().await;
                let wait = core
                    .next_rule_check()
                    .map(|at| Duration::from_millis(at.0.saturating_sub(core.now().0).max(0) as u64).min(RECHECK_IDLE))
                    .unwrap_or(RECHECK_IDLE);
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = core.rechecks.changed.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        })
    }

    async fn rules_moment(&self, facts: &VisitorFacts, moment: Option<&Moment>) -> Result<()> {
        self.rechecks.in_turn(facts.contact_id, self.rules_moment_in_turn(facts, moment)).await
    }

    async fn rules_moment_in_turn(&self, facts: &VisitorFacts, moment: Option<&Moment>) -> Result<()> {
        let now = self.now();
        let ws = facts.workspace_id;
        // Site, scoring and rules come from this node's copies (`rules_cache.rs`).
        let site = self.moment_site(ws, facts.site_id).await?;
        if let Some(Moment::Event { name, data }) = moment
            && site.conversion_events.iter().any(|e| e == name)
        {
            self.record_conversion(facts, name, data, now).await?;
        }

        let mut facts = facts.clone();
        let scoring = self.moment_scoring(ws).await?;
        let earned = scoring::earnings(&scoring, &facts, moment, now);
        if !earned.is_empty() {
            let score = self.store.earn_points(ws, facts.contact_id, &earned, scoring.half_life_days, now).await?;
            facts.lead_score = score.shown_at(now);
            self.live_scored(ws, facts.contact_id, facts.lead_score);
        }
        let mut next = scoring::next_due(&scoring, &facts, now);

        let rules = self.moment_triggers(ws, facts.site_id).await?;
        if !rules.is_empty() && !facts.chatting {
            let last: HashMap<TriggerId, triggers::Firing> = self.store.last_firings(ws, facts.contact_id).await?.into_iter().collect();
            let state = SiteState {
                agents_online: !self.agents_available(ws).is_empty(),
                open: site.business_hours.as_ref().is_none_or(|h| h.is_open(now)),
            };
            for rule in rules.iter() {
                match triggers::evaluate(rule, &facts, state, last.get(&rule.id).copied(), now) {
                    Verdict::Fire => self.fire(rule, &facts, now).await?,
                    Verdict::At(at) => next = next.min(Some(at)).or(Some(at)),
                    Verdict::No => {}
                }
            }
        }
        self.schedule_recheck(ws, facts.contact_id, next);
        Ok(())
    }

    fn schedule_recheck(&self, ws: WorkspaceId, contact: ContactId, at: Option<Timestamp>) {
        let mut map = self.rechecks.due.lock().expect("rechecks lock");
        match at {
            Some(at) => {
                map.insert(contact, (ws, at));
                self.rechecks.changed.notify_one();
            }
            None => {
                map.remove(&contact);
            }
        }
    }

    /// Does what the rule says. A rule that shows something counts (and spends its cap)
    /// only when the visitor was shown it.
    async fn fire(&self, rule: &Trigger, facts: &VisitorFacts, now: Timestamp) -> Result<()> {
        let ws = facts.workspace_id;
        let message = rule.actions.iter().find_map(|a| match a {
            Action::Message { body, agent_id, typing_seconds } => Some((body.clone(), *agent_id, *typing_seconds)),
            _ => None,
        });
        let open = rule.actions.contains(&Action::OpenWidget);
        let mut invitation_id = None;
        if message.is_some() || open {
            let (body, agent_id, typing) = message.map_or((None, None, 0), |(b, a, t)| (Some(b), a, t));
            let shown = self
                .show_invitation(
                    ws,
                    NewInvitation {
                        site_id: facts.site_id,
                        contact_id: facts.contact_id,
                        body,
                        agent_id,
                        trigger_id: Some(rule.id),
                        open,
                        typing_ms: u32::from(typing) * 1000,
                    },
                )
                .await;
            match shown {
                Ok(invitation) => invitation_id = Some(invitation.id),
                // Gone between the moment and now: nothing fired.
                Err(Error::VisitorNotLive) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        let mut pending = PendingActions::default();
        for action in &rule.actions {
            match action {
                Action::SetAttributes(attrs) => {
                    let patch = ContactPatch {
                        attributes: attrs.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect(),
                        ..Default::default()
                    };
                    let mut contact = self.store.contact(ws, facts.contact_id).await?;
                    crate::conversations::apply_contact_patch(&mut contact, patch, masking::Masking::default())?;
                    self.store.update_contact(&contact).await?;
                }
                Action::AddLabels(labels) => pending.merge(PendingActions { labels: labels.clone(), priority: None }),
                Action::SetPriority(p) => pending.merge(PendingActions { labels: vec![], priority: Some(*p) }),
                Action::Message { .. } | Action::OpenWidget => {}
            }
        }
        if !pending.is_empty() {
            self.store.add_pending(ws, facts.contact_id, &pending).await?;
        }
        let firing = FiringRecord { trigger_id: rule.id, contact_id: facts.contact_id, visit_id: facts.visit_id, at: now, invitation_id };
        self.store.record_firing(ws, &firing).await?;
        tracing::debug!(trigger.id = %rule.id, contact.id = %facts.contact_id, "proactive rule fired");
        Ok(())
    }

    async fn record_conversion(&self, facts: &VisitorFacts, name: &str, data: &Attributes, now: Timestamp) -> Result<()> {
        let ws = facts.workspace_id;
        let conversation = self.store.latest_conversation(ws, facts.site_id, facts.contact_id, now).await?;
        let shown = self.store.latest_shown_rule(ws, facts.site_id, facts.contact_id, now).await?;
        let (conversation_id, trigger_id) = scoring::attribute(now, conversation, shown);
        let value = match data.get("value") {
            Some(AttributeValue::Number(n)) if n.is_finite() => Some(*n),
            _ => None,
        };
        let conversion = Conversion {
            id: ConversionId::new(),
            workspace_id: ws,
            site_id: facts.site_id,
            contact_id: facts.contact_id,
            event: name.to_owned(),
            value,
            at: now,
            conversation_id,
            trigger_id,
        };
        Ok(self.store.record_conversion(&conversion).await?)
    }

    /// The widget said what the visitor did with a rule's invitation: `opened` is
    /// counted once per invitation for its rule (agents' invites have no rule).
    pub async fn invitation_action(&self, v: &Visitor, id: InvitationId, action: InvitationAction) -> Result<()> {
        if action == InvitationAction::Opened {
            self.store.count_invitation(v.workspace_id(), id, InvitationOutcome::Opened, self.now()).await?;
        }
        Ok(())
    }

    /// The visitor answered an invitation and `conversation` started from it: counted
    /// once for the rule that showed it.
    pub async fn invitation_answered(&self, ws: WorkspaceId, invitation: &Invitation, conversation: ConversationId) -> Result<()> {
        if invitation.trigger_id.is_some() {
            self.store.count_invitation(ws, invitation.id, InvitationOutcome::Answered, self.now()).await?;
            tracing::debug!(invitation.id = %invitation.id, conversation.id = %conversation, "rule's invitation answered");
        }
        Ok(())
    }

    /// What a conversation the contact starts now begins with: the labels and priority
    /// rules left for it (taken, so once), and `high` priority at least when the
    /// contact's score reaches the workspace's `priority_at`.
    pub async fn pending_for_new_conversation(&self, ws: WorkspaceId, contact: ContactId) -> Result<PendingActions> {
        let mut pending = self.store.take_pending(ws, contact).await?;
        let scoring = self.moment_scoring(ws).await?;
        if let Some(at) = scoring.priority_at {
            let score = self.store.contact(ws, contact).await?.lead_score.shown_at(self.now());
            if score >= at && pending.priority.is_none_or(|p| p < Priority::High) {
                pending.priority = Some(Priority::High);
            }
        }
        Ok(pending)
    }

    /// The contact with its score restated at this moment (scores decay).
    pub(crate) fn fresh_score(&self, mut contact: Contact) -> Contact {
        contact.lead_score = contact.lead_score.decayed_to(self.now());
        contact
    }

    /// Any role: a site's rules with their counts.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, site.id = %site), err(level = "debug"))]
    pub async fn triggers(&self, who: &Principal, site: SiteId) -> Result<Vec<Trigger>> {
        self.store.site(who.workspace_id, site).await?;
        Ok(self.store.triggers(who.workspace_id, site).await?)
    }

    /// Any role.
    pub async fn trigger(&self, who: &Principal, id: TriggerId) -> Result<Trigger> {
        Ok(self.store.trigger(who.workspace_id, id).await?)
    }

    /// Owners and admins: a new rule on the site.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, site.id = %site), err(level = "info"))]
    pub async fn create_trigger(&self, who: &Principal, site: SiteId, draft: TriggerDraft) -> Result<Trigger> {
        who.require_admin()?;
        self.store.site(who.workspace_id, site).await?;
        let draft = self.checked_draft(who.workspace_id, draft).await?;
        let now = self.now();
        let trigger = Trigger {
            id: TriggerId::new(),
            workspace_id: who.workspace_id,
            site_id: site,
            name: draft.name,
            enabled: draft.enabled,
            conditions: draft.conditions,
            actions: draft.actions,
            frequency: draft.frequency,
            stats: Default::default(),
            created_at: now,
            updated_at: now,
        };
        self.store.create_trigger(&trigger).await?;
        self.rules_changed(who.workspace_id);
        Ok(trigger)
    }

    /// Owners and admins: replaces what the rule says; its counts stay.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, trigger.id = %id), err(level = "info"))]
    pub async fn update_trigger(&self, who: &Principal, id: TriggerId, draft: TriggerDraft) -> Result<Trigger> {
        who.require_admin()?;
        self.store.trigger(who.workspace_id, id).await?;
        let draft = self.checked_draft(who.workspace_id, draft).await?;
        let updated = self.store.update_trigger(who.workspace_id, id, &draft, self.now()).await?;
        self.rules_changed(who.workspace_id);
        Ok(updated)
    }

    /// Owners and admins.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, trigger.id = %id), err(level = "info"))]
    pub async fn delete_trigger(&self, who: &Principal, id: TriggerId) -> Result<()> {
        who.require_admin()?;
        self.store.delete_trigger(who.workspace_id, id).await?;
        self.rules_changed(who.workspace_id);
        Ok(())
    }

    /// The draft's own rules, and a message's agent being one of the workspace's.
    async fn checked_draft(&self, ws: WorkspaceId, draft: TriggerDraft) -> Result<TriggerDraft> {
        let draft = draft.check()?;
        for action in &draft.actions {
            if let Action::Message { agent_id: Some(agent), .. } = action {
                self.store
                    .agent(ws, *agent)
                    .await
                    .map_err(|_| ValidationError::new("actions.agent_id", "is not an agent of this workspace"))?;
            }
        }
        Ok(draft)
    }

    /// Any role: the workspace's scoring rules.
    pub async fn scoring(&self, who: &Principal) -> Result<Scoring> {
        Ok(self.store.scoring(who.workspace_id).await?)
    }

    /// Owners and admins: replaces the scoring rules. Scores already earned stay.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn set_scoring(&self, who: &Principal, scoring: Scoring) -> Result<Scoring> {
        who.require_admin()?;
        let scoring = scoring.check()?;
        self.store.set_scoring(who.workspace_id, &scoring).await?;
        self.rules_changed(who.workspace_id);
        Ok(scoring)
    }

    /// Any role: a site's conversions, newest first.
    pub async fn conversions(
        &self,
        who: &Principal,
        site: SiteId,
        before: Option<ConversionCursor>,
        limit: Option<u32>,
    ) -> Result<ConversionPage> {
        self.store.site(who.workspace_id, site).await?;
        let limit = self.page(limit, 50);
        let conversions = self.store.conversions(who.workspace_id, site, before, limit).await?;
        let next =
            (conversions.len() == limit as usize).then(|| conversions.last().map(|c| ConversionCursor { at: c.at, id: c.id })).flatten();
        Ok(ConversionPage { conversions, next })
    }
}
