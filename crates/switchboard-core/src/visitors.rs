//! The visitor side: a browser on a business's site becomes a contact with a signed
//! token, starts conversations, sends messages, reads receipts, types, is tracked
//! across pages, and may be identified by the business with an HMAC.

use std::net::IpAddr;
use std::sync::Arc;

use switchboard_bus::{BusMessage, Receiver, Topic};
use switchboard_domain::*;
use switchboard_store::{Audience, Change, Committed, ConversationFilter, EventQuery};

use crate::auth::{VisitorClaims, verify_identity};
use crate::conversations::{ContactPatch, Draft, apply_contact_patch};
use crate::{AuthFailure, Core, Error, LimitKey, LimitKind, Result};

/// How precisely a contact's `last_seen` is kept.
const LAST_SEEN_RESOLUTION_MS: i64 = 60_000;

/// What a browser presents when it opens the widget.
#[derive(Clone, Debug, Default)]
pub struct VisitorHello {
    pub site_key: String,
    /// Where the request comes from; another site's page is checked against the site's
    /// allowed origins.
    pub origin: PageOrigin,
    /// The token from an earlier visit, if the browser kept one.
    pub token: Option<String>,
    pub device: DeviceInfo,
    /// The client's address, as the edge trusts it: bans by address, and a hello without
    /// a token (a new contact) counts against this address's [`LimitKind::NewSessionPerIp`].
    pub ip: Option<IpAddr>,
}

/// Where a visitor's request comes from, as the edge saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageOrigin {
    /// A page of this server: the widget's chat frame or the chat page. Which sites may
    /// embed the frame is the frame's own `frame-ancestors` (the site's allowed origins,
    /// [`Core::widget_frame_ancestors`]); the chat page is the site's public link.
    Ours,
    /// Another site's page, by its `Origin` header (absent for clients that are not
    /// browsers, and for `<img src>`).
    Page(Option<String>),
}

impl Default for PageOrigin {
    fn default() -> Self {
        Self::Page(None)
    }
}

/// An authenticated visitor.
#[derive(Clone, Debug)]
pub struct Visitor {
    /// Shared, not copied: a session keeps its visitor for as long as the socket is open.
    pub site: Arc<Site>,
    pub contact: Contact,
    /// A fresh token to keep for next time.
    pub token: String,
    /// The address the visitor connected from, when the edge knows it.
    pub ip: Option<IpAddr>,
    /// Conversations known to be this contact's (from [`Core::visitor_inbox`] and the
    /// conversations it started), so rules such as typing ownership need no store read.
    /// Only core fills it: an id missing here is checked against the store instead.
    conversations: Vec<ConversationId>,
}

impl Visitor {
    pub fn actor(&self) -> Actor {
        Actor::Contact(self.contact.id)
    }

    pub fn workspace_id(&self) -> WorkspaceId {
        self.site.workspace_id
    }

    /// Whether the conversation is known to be this visitor's without asking the store.
    pub fn knows(&self, id: ConversationId) -> bool {
        self.conversations.contains(&id)
    }

    /// Remembers the conversation a committed change of this visitor's belongs to (a
    /// `send` that started one); a conversation of anyone else is ignored.
    pub fn committed(&mut self, done: &Committed) {
        let id = done.conversation.id;
        if done.conversation.contact_id == self.contact.id && !self.knows(id) {
            self.conversations.push(id);
        }
    }
}

/// What only a `send` that starts a conversation may carry.
#[derive(Clone, Copy, Debug, Default)]
pub struct SendOptions<'a> {
    pub pow: Option<&'a crate::pow::PowSolution>,
    /// The team chosen in the pre-chat form: one of the options of the site's `team` field.
    pub team: Option<TeamId>,
}

/// Whether the site's pre-chat form offers `team`.
fn offers_team(site: &Site, team: TeamId) -> bool {
    site.prechat_form
        .iter()
        .filter(|f| f.kind == PrechatFieldKind::Team)
        .any(|f| f.options.iter().any(|o| o.parse::<TeamId>().ok() == Some(team)))
}

/// A page the visitor opened, as they report it; core stamps the time.
#[derive(Clone, Debug, Default)]
pub struct NewPageView {
    pub url: String,
    pub title: Option<String>,
    pub referrer: Option<String>,
    /// The client says it reported this same page view on an earlier socket of the same
    /// page load (a reconnect): the socket is counted as a tab, nothing is recorded.
    pub again: bool,
}

/// Identity claims from the business's page (`Switchboard.identify`).
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub external_id: String,
    /// hex HMAC-SHA256 of `external_id` with the site's identity secret. Without it
    /// the claims are unverified: see [`Core::identify`].
    pub user_hash: Option<String>,
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<String>,
}

impl Core {
    /// Authenticates a visitor by site key, origin and (optional) token; a browser
    /// without a token becomes a new anonymous contact.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn visitor(&self, hello: VisitorHello) -> Result<Visitor> {
        let site = self.visitor_site(&hello.site_key, &hello.origin).await?;
        self.visitor_on(site, hello.token.as_deref(), hello.device, hello.ip).await
    }

    /// The site a page opens the chat on, if the page's origin may use it.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn visitor_site(&self, site_key: &str, origin: &PageOrigin) -> Result<Site> {
        let site = self.store.site_by_key(site_key).await?;
        match origin {
            PageOrigin::Ours => Ok(site),
            PageOrigin::Page(origin) if site.allows_origin(origin.as_deref()) => Ok(site),
            PageOrigin::Page(_) => Err(Error::OriginNotAllowed),
        }
    }

    /// The pages that may embed a site's chat frame: its allowed origins, or `None` when
    /// any page may (an empty list). An unknown site is `site_not_found`.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn widget_frame_ancestors(&self, site_key: &str) -> Result<Option<Vec<Origin>>> {
        let site = self.store.site_by_key(site_key).await?;
        Ok((!site.allowed_origins.is_empty()).then_some(site.allowed_origins))
    }

    /// [`Core::visitor`] on a site already checked by [`Core::visitor_site`]. The visitor
    /// socket checks the site when it upgrades and says hello a moment later; passing the
    /// site on reads it once per connection instead of twice.
    ///
    /// A banned visitor (by address, contact or e-mail) is refused with [`Error::Banned`]
    /// before anything is written: no contact is created, `last_seen` does not move.
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %site.id), err(level = "debug"))]
    pub async fn visitor_on(&self, site: Site, token: Option<&str>, device: DeviceInfo, ip: Option<IpAddr>) -> Result<Visitor> {
        if let (None, Some(ip)) = (token, ip) {
            self.limit(LimitKind::NewSessionPerIp, LimitKey::Ip(ip)).await?;
        }
        let now = self.now();
        let ws = site.workspace_id;
        self.refuse_banned(ws, &BanSubject { ip, ..BanSubject::default() }).await?;
        // Recorded like the device: the latest known, never forgotten for an unknown address.
        let country = self.country_of(ip);
        let contact = match token {
            Some(token) => {
                let claims = self.visitor_claims(token)?;
                if claims.site_id != site.id {
                    return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
                }
                let mut contact = self.store.contact(site.workspace_id, claims.contact_id).await.map_err(|e| match e {
                    switchboard_store::StoreError::NotFound(_) => Error::Unauthenticated(AuthFailure::InvalidToken),
                    e => e.into(),
                })?;
                self.refuse_banned(ws, &BanSubject { contact: Some(contact.id), email: contact.email.as_ref(), ip }).await?;
                // Reconnects are frequent (page loads, network changes, a server restart
                // bringing everyone back at once): `last_seen` is kept to the minute, so a
                // returning visitor costs a write only when something actually changed.
                let stale = now.0 - contact.last_seen.0 >= LAST_SEEN_RESOLUTION_MS;
                let moved = device != DeviceInfo::default() && device != contact.device;
                let travelled = country.is_some() && country != contact.country;
                if stale || moved || travelled {
                    contact.last_seen = now;
                    if moved {
                        contact.device = device;
                    }
                    if travelled {
                        contact.country = country;
                    }
                    self.store.update_contact(&contact).await?;
                }
                contact
            }
            None => {
                let contact = Contact {
                    id: ContactId::new(),
                    workspace_id: site.workspace_id,
                    site_id: Some(site.id),
                    external_id: None,
                    name: None,
                    email: None,
                    phone: None,
                    attributes: Attributes::new(),
                    device,
                    country,
                    first_seen: now,
                    last_seen: now,
                    lead_score: Default::default(),
                };
                self.store.create_contact(&contact).await?;
                contact
            }
        };
        let token = self.visitor_token(&VisitorClaims {
            site_id: site.id,
            contact_id: contact.id,
            expires_at: now.plus_millis(self.limits.visitor_token_ttl_ms),
        });
        self.saw_address(contact.id, ip);
        Ok(Visitor { site: self.share_site(site), contact, token, ip, conversations: vec![] })
    }

    /// A returning visitor proven by token alone, without the origin check: for
    /// downloads by `<img src>`, which browsers send without an `Origin` header. The
    /// token is bound to its site, so it opens nothing the visitor could not already see.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn visitor_from_token(&self, site_key: &str, token: &str, ip: Option<IpAddr>) -> Result<Visitor> {
        let site = self.store.site_by_key(site_key).await?;
        let claims = self.visitor_claims(token)?;
        if claims.site_id != site.id {
            return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
        }
        let contact = self.store.contact(site.workspace_id, claims.contact_id).await.map_err(|e| match e {
            switchboard_store::StoreError::NotFound(_) => Error::Unauthenticated(AuthFailure::InvalidToken),
            e => e.into(),
        })?;
        let v = Visitor { site: Arc::new(site), contact, token: token.to_owned(), ip, conversations: vec![] };
        self.refuse_visitor(&v).await?;
        Ok(v)
    }

    /// The visitor's conversations, most recent first.
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id), err(level = "debug"))]
    pub async fn visitor_conversations(&self, v: &Visitor) -> Result<Vec<Conversation>> {
        let filter = ConversationFilter { contact_id: Some(v.contact.id), limit: 20, ..Default::default() };
        Ok(self.store.conversations(v.workspace_id(), &filter).await?)
    }

    /// [`Core::visitor_conversations`], remembered on `v` so that later checks of
    /// ownership (typing, following) need no store read.
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id), err(level = "debug"))]
    pub async fn visitor_inbox(&self, v: &mut Visitor) -> Result<Vec<Conversation>> {
        let list = self.visitor_conversations(v).await?;
        for c in &list {
            if !v.knows(c.id) {
                v.conversations.push(c.id);
            }
        }
        Ok(list)
    }

    /// Checks that the conversation is the visitor's: free when `v` knows it, a store
    /// read otherwise. Anyone else's is "not found".
    async fn visitor_owns(&self, v: &Visitor, id: ConversationId) -> Result<()> {
        if v.knows(id) {
            return Ok(());
        }
        self.visitor_conversation(v, id).await.map(drop)
    }

    /// Follows one of the visitor's conversations live. Subscribe first, then read
    /// what was missed with [`Core::visitor_history`]: nothing committed in between is
    /// lost (live events at or below the delivered `seq` are duplicates to drop).
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id, conversation.id = %id), err(level = "debug"))]
    pub async fn follow_conversation(&self, v: &Visitor, id: ConversationId) -> Result<Receiver> {
        self.visitor_owns(v, id).await?;
        Ok(self.bus.subscribe(Topic::Conversation(id)))
    }

    /// The conversation if it is this visitor's; anyone else's is "not found".
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id, conversation.id = %id), err(level = "debug"))]
    pub async fn visitor_conversation(&self, v: &Visitor, id: ConversationId) -> Result<Conversation> {
        let conv = self.store.conversation(v.workspace_id(), id).await?;
        if conv.contact_id != v.contact.id {
            return Err(Error::NotFound(Entity::Conversation));
        }
        Ok(conv)
    }

    /// Sends a message; without a conversation id it starts a new conversation.
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id, conversation.id = ?conversation), err(level = "debug"))]
    pub async fn visitor_send(&self, v: &Visitor, conversation: Option<ConversationId>, draft: Draft) -> Result<Committed> {
        self.visitor_send_with(v, conversation, draft, SendOptions::default()).await
    }

    /// [`Core::visitor_send`] with what only a `send` that starts a conversation says: the
    /// proof of work a site with `appearance.proof_of_work` requires ([`crate::pow`]), and
    /// the team the visitor chose in the pre-chat form, which must be one the site offers.
    ///
    /// Outside the conversation's business hours the visitor's message is followed by
    /// the automatic reply ([`Core::reply_outside_hours`]), once per closed period.
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id, conversation.id = ?conversation), err(level = "debug"))]
    pub async fn visitor_send_with(
        &self,
        v: &Visitor,
        conversation: Option<ConversationId>,
        draft: Draft,
        options: SendOptions<'_>,
    ) -> Result<Committed> {
        self.refuse_visitor(v).await?;
        self.limit_each(&message_limits(v, conversation.is_none())).await?;
        if let Some(team) = options.team {
            if conversation.is_some() {
                return Err(ValidationError::new("team_id", "is only chosen by the send that starts a conversation").into());
            }
            if !offers_team(&v.site, team) {
                return Err(ValidationError::new("team_id", "is not a team this site offers in its pre-chat form").into());
            }
        }
        if conversation.is_none() && v.site.appearance.proof_of_work {
            self.check_pow(v, options.pow)?;
        }

        let message = self.message(v.workspace_id(), v.actor(), MessageKind::Text, draft, v.site.masking).await?;
        let change = match conversation {
            None => {
                let mut new = Conversation::new(v.workspace_id(), v.site.id, v.contact.id, self.now());
                new.team_id = match options.team {
                    Some(team) => Some(team),
                    None => {
                        // The pre-chat answers may have come after `hello`: read them
                        // afresh, only on sites that ask for a team.
                        let asks_team = v.site.prechat_form.iter().any(|f| f.kind == PrechatFieldKind::Team);
                        let contact = if asks_team { self.store.contact(v.workspace_id(), v.contact.id).await? } else { v.contact.clone() };
                        self.team_for(&v.site, &contact)
                    }
                };
                // What proactive rules left for it, and the lead score's priority.
                let pending = self.pending_for_new_conversation(v.workspace_id(), v.contact.id).await?;
                new.labels = pending.labels;
                new.priority = pending.priority.unwrap_or(new.priority);
                Change::Start { conversation: new, first_message: Some(message) }
            }
            // The log refuses a contact's change to anyone else's conversation.
            Some(id) => Change::Post { conversation_id: id, message, at: self.now() },
        };
        let done = self.commit(v.workspace_id(), change).await?;
        // A new conversation, or one the message reopened with nobody on it, needs an
        // agent: routed right after the commit, off the visitor's path.
        let started = done.events.iter().any(|e| matches!(e.data, EventData::ConversationStarted));
        let reopened = done.events.iter().any(|e| matches!(e.data, EventData::StatusChanged { status: Status::Open }));
        if !done.replayed && (started || reopened) && done.conversation.assignee_id.is_none() && done.conversation.team_id.is_some() {
            self.route_soon(v.workspace_id(), done.conversation.id);
        }
        if !done.replayed {
            // The message is stored whatever happens here: a failed reply is logged, and
            // the visitor's next message owes it again.
            if let Err(e) = self.reply_outside_hours(&v.site, &done.conversation).await {
                tracing::warn!(conversation.id = %done.conversation.id, error = %e, "the automatic reply outside business hours failed");
            }
        }
        Ok(done)
    }

    /// Events of one of the visitor's conversations after `after_seq` (notes left out).
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id, conversation.id = %id, after_seq), err(level = "debug"))]
    pub async fn visitor_history(&self, v: &Visitor, id: ConversationId, after_seq: i64, limit: u32) -> Result<Vec<Event>> {
        self.visitor_conversation(v, id).await?;
        let query = EventQuery::replay(after_seq, limit.clamp(1, 1000), Audience::Contact);
        Ok(self.store.conversation_events(v.workspace_id(), id, &query).await?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id, conversation.id = %id, up_to_seq), err(level = "debug"))]
    pub async fn visitor_receipt(&self, v: &Visitor, id: ConversationId, kind: ReceiptKind, up_to_seq: i64) -> Result<Committed> {
        self.refuse_visitor(v).await?;
        let data = EventData::Receipt { side: Side::Visitor, kind, up_to_seq };
        let change = Change::Record { conversation_id: id, actor: v.actor(), data, at: self.now() };
        self.commit(v.workspace_id(), change).await
    }

    /// Typing is ephemeral: published, never stored. Only into the visitor's own
    /// conversations (checked without a store read when `v` knows the conversation).
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id, conversation.id = %id), err(level = "debug"))]
    pub async fn visitor_typing(&self, v: &Visitor, id: ConversationId, typing: bool) -> Result<()> {
        self.limit(LimitKind::TypingPerVisitor, LimitKey::Contact(v.contact.id)).await?;
        self.visitor_owns(v, id).await?;
        let msg = Arc::new(BusMessage::typing(id, v.actor(), typing));
        self.bus.publish(Topic::Workspace(v.workspace_id()), msg);
        Ok(())
    }

    /// Lets a visitor fill in their own name, e-mail, phone and attributes (the
    /// pre-chat form, `setAttributes`). The external id is only set by [`Core::identify`].
    #[tracing::instrument(skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id), err(level = "info"))]
    pub async fn visitor_update(&self, v: &Visitor, mut patch: ContactPatch) -> Result<Contact> {
        self.refuse_visitor(v).await?;
        patch.external_id = None;
        let mut contact = self.store.contact(v.workspace_id(), v.contact.id).await?;
        apply_contact_patch(&mut contact, patch, v.site.masking)?;
        // An e-mail given now may be a banned one: refused before it is written.
        self.refuse_banned(v.workspace_id(), &BanSubject { contact: Some(contact.id), email: contact.email.as_ref(), ip: v.ip }).await?;
        self.store.update_contact(&contact).await?;
        Ok(contact)
    }

    /// Identifies the visitor as the business's user `external_id`, proven by an HMAC
    /// with the site's secret. If that user already has a contact, the browser becomes
    /// that contact (and sees their history); otherwise this contact takes the id.
    ///
    /// Without a hash nothing is proven: a site that requires identity refuses it
    /// ([`Error::IdentityRequired`]); any other sets only this contact's name, e-mail
    /// and phone. It never links `external_id`, which would let anyone who knows a
    /// user's id read that user's history.
    #[tracing::instrument(skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id), err(level = "info"))]
    pub async fn identify(&self, v: &Visitor, identity: Identity) -> Result<Visitor> {
        self.refuse_visitor(v).await?;
        let external_id = non_empty("external_id", &identity.external_id, 200)?;
        let Some(user_hash) = identity.user_hash.as_deref() else {
            if v.site.appearance.require_identity {
                return Err(Error::IdentityRequired);
            }
            let patch = ContactPatch {
                name: identity.name.map(Some),
                email: identity.email.map(Some),
                phone: identity.phone.map(Some),
                ..ContactPatch::default()
            };
            let contact = self.visitor_update(v, patch).await?;
            let token = self.visitor_token(&VisitorClaims {
                site_id: v.site.id,
                contact_id: contact.id,
                expires_at: self.now().plus_millis(self.limits.visitor_token_ttl_ms),
            });
            return Ok(Visitor { site: v.site.clone(), contact, token, ip: v.ip, conversations: v.conversations.clone() });
        };
        if !verify_identity(&v.site.identity_secret, &external_id, user_hash) {
            return Err(ValidationError::new("user_hash", "does not match the user id").into());
        }
        let ws = v.workspace_id();
        let mut contact = match self.store.contact_by_external_id(ws, &external_id).await? {
            Some(existing) => existing,
            None => {
                let mut c = self.store.contact(ws, v.contact.id).await?;
                c.external_id = Some(external_id);
                c
            }
        };
        if let Some(name) = identity.name {
            contact.name = Some(non_empty("name", &name, 200)?);
        }
        if let Some(email) = identity.email {
            contact.email = (!v.site.masking.emails).then_some(email);
        }
        apply_contact_patch(&mut contact, ContactPatch { phone: identity.phone.map(Some), ..ContactPatch::default() }, v.site.masking)?;
        contact.name = contact.name.map(|n| masking::mask(&n, v.site.masking).into_owned());
        self.refuse_banned(ws, &BanSubject { contact: Some(contact.id), email: contact.email.as_ref(), ip: v.ip }).await?;
        contact.last_seen = self.now();
        self.store.update_contact(&contact).await?;
        let token = self.visitor_token(&VisitorClaims {
            site_id: v.site.id,
            contact_id: contact.id,
            expires_at: self.now().plus_millis(self.limits.visitor_token_ttl_ms),
        });
        // The same contact keeps what it knew; a different one starts afresh.
        let conversations = if contact.id == v.contact.id { v.conversations.clone() } else { vec![] };
        Ok(Visitor { site: v.site.clone(), contact, token, ip: v.ip, conversations })
    }

    /// A fresh proof-of-work challenge for this visitor (`pow_required` hands one out).
    pub fn pow_challenge(&self, v: &Visitor) -> crate::pow::PowChallenge {
        crate::pow::challenge(&self.keys.visitor, v.contact.id, self.now(), self.limits.pow_difficulty)
    }

    fn check_pow(&self, v: &Visitor, pow: Option<&crate::pow::PowSolution>) -> Result<()> {
        let Some(solution) = pow else { return Err(Error::PowRequired(self.pow_challenge(v))) };
        crate::pow::verify(&self.keys.visitor, &self.spent_pow, v.contact.id, self.now(), self.limits.pow_difficulty, solution)
            .map_err(|refusal| Error::PowInvalid { refusal, challenge: self.pow_challenge(v) })
    }
}

/// The buckets a visitor's message is counted against, the narrowest first, so a flood
/// refused by its visitor's or its address's bucket never spends the site's tokens:
/// the visitor, their address, then (for a new conversation) the address's and the
/// site's new conversations, then the site's messages.
fn message_limits(v: &Visitor, starts: bool) -> Vec<(LimitKind, LimitKey)> {
    let site = LimitKey::Site(v.site.id);
    let ip = v.ip.map(LimitKey::Ip);
    let mut checks = Vec::with_capacity(5);
    checks.push((LimitKind::MessagePerVisitor, LimitKey::Contact(v.contact.id)));
    checks.extend(ip.map(|ip| (LimitKind::MessagePerIp, ip)));
    if starts {
        checks.extend(ip.map(|ip| (LimitKind::NewConversationPerIp, ip)));
        checks.push((LimitKind::NewConversationPerSite, site));
    }
    checks.push((LimitKind::MessagePerSite, site));
    checks
}
