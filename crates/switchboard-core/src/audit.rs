//! The audit log: use cases write an entry as they act (never the handlers), and owners
//! read it, filtered and paged, or as CSV. Reads of transcripts and contacts are
//! coalesced: one entry per reader and target per [`READ_COALESCE_MS`], remembered in
//! memory first so a busy reader costs no write per request.
//!
//! Invariant: entries carry ids and short machine values only: no message text,
//! e-mails or tokens.

use std::collections::HashMap;
use std::sync::Mutex;

use switchboard_domain::*;
use switchboard_store::{AuditCursor, AuditFilter};

use crate::auth::Principal;
use crate::{Core, Error, Result};

/// What an owner asks of the log; times are Unix milliseconds.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor: Option<Actor>,
    pub action: Option<AuditAction>,
    pub target: Option<AuditTarget>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub before: Option<AuditCursor>,
    pub limit: Option<u32>,
}

/// A page of entries, newest first, and where the next one starts.
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<AuditCursor>,
}

/// The most rows one CSV export holds.
pub const MAX_CSV_ROWS: usize = 100_000;

/// Reads recorded lately by this process: `(actor, target) → at`. Bounded: it is
/// cleared when it grows past this many, which costs at most one store round trip
/// per reader and target (the store coalesces too).
#[derive(Default)]
pub(crate) struct RecentReads(Mutex<HashMap<(Actor, AuditTarget), Timestamp>>);

const RECENT_READS_MAX: usize = 50_000;

impl Core {
    /// Records an administrative act of `who`.
    pub(crate) async fn audit(
        &self,
        who: &Principal,
        action: AuditAction,
        target: Option<AuditTarget>,
        detail: Option<&str>,
    ) -> Result<()> {
        self.audit_as(who.workspace_id, who.actor, action, target, detail).await
    }

    pub(crate) async fn audit_as(
        &self,
        ws: WorkspaceId,
        actor: Actor,
        action: AuditAction,
        target: Option<AuditTarget>,
        detail: Option<&str>,
    ) -> Result<()> {
        let entry = AuditEntry {
            id: AuditEntryId::new(),
            workspace_id: ws,
            at: self.now(),
            actor,
            action,
            target,
            detail: detail.map(str::to_owned),
        };
        Ok(self.store.record_audit(&entry).await?)
    }

    /// Records that `who` read a conversation or a contact, unless they already did
    /// within the window.
    pub(crate) async fn audit_read(&self, who: &Principal, action: AuditAction, target: AuditTarget) -> Result<()> {
        let now = self.now();
        let key = (who.actor, target);
        {
            let recent = self.recent_reads.0.lock().expect("recent reads lock");
            if recent.get(&key).is_some_and(|at| now.0 - at.0 < READ_COALESCE_MS) {
                return Ok(());
            }
        }
        let entry = AuditEntry {
            id: AuditEntryId::new(),
            workspace_id: who.workspace_id,
            at: now,
            actor: who.actor,
            action,
            target: Some(target),
            detail: None,
        };
        // An entry exactly one window old no longer covers this read.
        self.store.record_read(&entry, Timestamp(now.0 - READ_COALESCE_MS + 1)).await?;
        let mut recent = self.recent_reads.0.lock().expect("recent reads lock");
        if recent.len() >= RECENT_READS_MAX {
            recent.clear();
        }
        recent.insert(key, now);
        Ok(())
    }

    /// Owners only (people or owner-role tokens): the log of administrative acts and reads.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn audit_log(&self, who: &Principal, q: AuditQuery) -> Result<AuditPage> {
        require_owner(who)?;
        let limit = self.page(q.limit, 50);
        let filter = AuditFilter { actor: q.actor, action: q.action, target: q.target, from: q.from, to: q.to, before: q.before, limit };
        let entries = self.store.audit_log(who.workspace_id, &filter).await?;
        let next = (entries.len() as u32 == limit).then(|| entries.last().map(|e| AuditCursor { at: e.at, id: e.id })).flatten();
        Ok(AuditPage { entries, next })
    }

    /// Owners only: every entry matching `q` (at most [`MAX_CSV_ROWS`]), newest first.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn audit_export(&self, who: &Principal, q: AuditQuery) -> Result<Vec<AuditEntry>> {
        require_owner(who)?;
        let mut filter =
            AuditFilter { actor: q.actor, action: q.action, target: q.target, from: q.from, to: q.to, before: q.before, limit: 1000 };
        let mut all = Vec::new();
        loop {
            let page = self.store.audit_log(who.workspace_id, &filter).await?;
            let full = page.len() as u32 == filter.limit;
            filter.before = page.last().map(|e| AuditCursor { at: e.at, id: e.id });
            all.extend(page);
            if !full || all.len() >= MAX_CSV_ROWS {
                break;
            }
        }
        all.truncate(MAX_CSV_ROWS);
        Ok(all)
    }
}

fn require_owner(who: &Principal) -> Result<()> {
    if who.role == Role::Owner { Ok(()) } else { Err(Error::Forbidden) }
}

/// One CSV field: quoted when it holds a separator, a quote or a line break, and
/// neutralised when a spreadsheet would run it as a formula (a leading `=`, `+`, `-`,
/// `@`, tab or carriage return gets a `'` in front, as OWASP recommends).
pub fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

/// One CSV line (CRLF-terminated, RFC 4180) of fields.
pub fn csv_line(fields: &[&str]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_line(&["a", "b,c", ""]), "a,\"b,c\",\r\n");
    }
}
