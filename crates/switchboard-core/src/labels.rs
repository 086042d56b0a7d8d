//! Labels the workspace manages: a name, a colour and a description the dashboard
//! shows and offers. Every role lists them; admins and owners change them.
//! Conversations carry label names (`set_labels`); a name there need not be managed,
//! and renaming or deleting a managed label leaves conversations as they are.

use switchboard_domain::*;

use crate::auth::Principal;
use crate::{Core, Result};

/// Fields of a label; `None` leaves a field as it is (`name` is required to create).
#[derive(Clone, Debug, Default)]
pub struct LabelInput {
    pub name: Option<Label>,
    pub color: Option<Color>,
    pub description: Option<String>,
}

const DEFAULT_COLOR: &str = "#6e7781";

fn description(raw: &str) -> Result<String> {
    let d = raw.trim();
    if d.chars().count() > 500 {
        return Err(ValidationError::new("description", "must have at most 500 characters").into());
    }
    Ok(d.to_owned())
}

impl Core {
    /// Every role may list the managed labels, by name.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn labels(&self, who: &Principal) -> Result<Vec<ManagedLabel>> {
        Ok(self.store.labels(who.workspace_id).await?)
    }

    /// Admins and owners only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn create_label(&self, who: &Principal, input: LabelInput) -> Result<ManagedLabel> {
        who.require_admin()?;
        let label = ManagedLabel {
            workspace_id: who.workspace_id,
            name: input.name.ok_or_else(|| ValidationError::new("name", "is required"))?,
            color: match input.color {
                Some(c) => c,
                None => Color::parse(DEFAULT_COLOR)?,
            },
            description: description(input.description.as_deref().unwrap_or(""))?,
            created_at: self.now(),
        };
        self.store.create_label(&label).await?;
        Ok(label)
    }

    /// Admins and owners only; may rename.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn update_label(&self, who: &Principal, name: &Label, input: LabelInput) -> Result<ManagedLabel> {
        who.require_admin()?;
        let mut label = self.store.label(who.workspace_id, name).await?;
        if let Some(n) = input.name {
            label.name = n;
        }
        if let Some(c) = input.color {
            label.color = c;
        }
        if let Some(d) = input.description {
            label.description = description(&d)?;
        }
        self.store.update_label(name, &label).await?;
        Ok(label)
    }

    /// Admins and owners only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn delete_label(&self, who: &Principal, name: &Label) -> Result<()> {
        who.require_admin()?;
        Ok(self.store.delete_label(who.workspace_id, name).await?)
    }
}
