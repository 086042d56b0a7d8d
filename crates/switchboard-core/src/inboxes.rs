//! Inboxes and workspace settings: where conversations come in, and the workspace's
//! settings (name, time zone, auto-away, inbox visibility). Core checks the caller's role here, as in `admin.rs`:
//!
//! | what                                     | agent | admin | owner |
//! |------------------------------------------|-------|-------|-------|
//! | list the inboxes                         | yes   | yes   | yes   |
//! | create an inbox (a website, today)       | no    | yes   | yes   |
//! | change the workspace's settings          | no    | yes   | yes   |
//! | require two-factor sign-in of every agent | no    | no    | yes   |

use switchboard_domain::*;

use crate::auth::Principal;
use crate::{Core, Error, Result, SiteInput};

/// Fields to change on the workspace; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct WorkspacePatch {
    pub name: Option<String>,
    /// Checked against the IANA database by the caller (see [`TimeZone`]).
    pub time_zone: Option<TimeZone>,
    /// Owners only.
    pub require_two_factor: Option<bool>,
    /// `Some(None)`: agents never go away by themselves.
    pub auto_away_minutes: Option<Option<u32>>,
    pub inbox_visibility: Option<InboxVisibility>,
    /// Open chats routing gives an agent without a limit of their own (1 to 100).
    pub default_max_chats: Option<u32>,
}

impl Core {
    /// Every role may list the inboxes: the dashboard filters conversations by them.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn inboxes(&self, who: &Principal) -> Result<Vec<Inbox>> {
        Ok(self.store.inboxes(who.workspace_id).await?)
    }

    /// Admins and owners only. A website inbox is a site with default settings (set
    /// them through the site); the other kinds cannot take conversations yet, so they
    /// are refused rather than created half-working.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, inbox.kind = kind.name()), err(level = "info"))]
    pub async fn create_inbox(&self, who: &Principal, name: &str, kind: InboxKind) -> Result<Inbox> {
        who.require_admin()?;
        if kind != InboxKind::Website {
            return Err(Error::InboxKindUnsupported(kind));
        }
        let site = self.create_site(who, SiteInput { name: Some(name.to_owned()), ..Default::default() }).await?;
        Ok(Inbox { id: site.id.into(), workspace_id: site.workspace_id, name: site.name, kind, created_at: site.created_at })
    }

    /// Admins and owners only; requiring two-factor sign-in, owners only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn update_workspace(&self, who: &Principal, patch: WorkspacePatch) -> Result<Workspace> {
        who.require_admin()?;
        let mut ws = self.store.workspace(who.workspace_id).await?;
        let before = ws.clone();
        if let Some(name) = &patch.name {
            ws.name = non_empty("name", name, 100)?;
        }
        if let Some(tz) = patch.time_zone {
            ws.time_zone = tz;
        }
        if let Some(required) = patch.require_two_factor
            && required != ws.require_two_factor
        {
            if who.role != Role::Owner {
                return Err(Error::Forbidden);
            }
            ws.require_two_factor = required;
        }
        if let Some(minutes) = patch.auto_away_minutes {
            if minutes.is_some_and(|m| !(1..=Workspace::MAX_AUTO_AWAY_MINUTES).contains(&m)) {
                return Err(ValidationError::new("auto_away_minutes", "must be from 1 to 1440 minutes, or null for never").into());
            }
            ws.auto_away_minutes = minutes;
        }
        if let Some(visibility) = patch.inbox_visibility {
            ws.inbox_visibility = visibility;
        }
        let raised = patch.default_max_chats.is_some_and(|n| n > ws.default_max_chats);
        if let Some(n) = patch.default_max_chats {
            ws.default_max_chats = crate::admin::check_max_chats_in("default_max_chats", n)?;
        }
        self.store.update_workspace(&ws).await?;
        self.workspace_changed(ws.id);
        let target = Some(AuditTarget::new(AuditTargetKind::Workspace, ws.id));
        if ws.name != before.name || ws.time_zone != before.time_zone {
            self.audit(who, AuditAction::WorkspaceChanged, target, None).await?;
        }
        if ws.require_two_factor != before.require_two_factor {
            let action = if ws.require_two_factor { AuditAction::TwoFactorRequired } else { AuditAction::TwoFactorNotRequired };
            self.audit(who, action, target, None).await?;
        }
        if raised {
            // More places for everyone on the default: fill them from the queues.
            self.fill_soon(ws.id, None);
        }
        Ok(ws)
    }
}
