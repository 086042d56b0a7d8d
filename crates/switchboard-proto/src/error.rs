//! Every error the server can answer: one closed set of codes, each with its HTTP
//! status and its cause, shared by the REST API and both sockets. Clients switch on
//! the code; front ends hold a sentence per code in every locale.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares the codes once: wire name, HTTP status and the cause documented for clients.
macro_rules! error_codes {
    ($($variant:ident = $wire:literal, $status:literal, $cause:literal;)+) => {
        /// A stable error code. The HTTP status is what the REST API answers with it;
        /// on a socket it arrives in an `error` frame.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, ToSchema, strum::VariantArray)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $(#[doc = $cause] $variant),+
        }

        impl ErrorCode {
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $wire),+ }
            }

            /// The HTTP status the REST API answers with this code.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),+ }
            }

            /// What causes it, as documented in docs/protocol.md.
            pub fn cause(self) -> &'static str {
                match self { $(ErrorCode::$variant => $cause),+ }
            }
        }
    };
}

error_codes! {
    InvalidJson = "invalid_json", 400, "The body is not JSON, or does not match the operation's schema (a missing or mistyped field, an unknown enum value).";
    InvalidId = "invalid_id", 400, "A path segment is not a valid id.";
    InvalidQuery = "invalid_query", 400, "A query parameter cannot be parsed.";
    InvalidMultipart = "invalid_multipart", 400, "An upload is not a well-formed multipart form with a `file` part.";
    InvalidCredentials = "invalid_credentials", 401, "Wrong e-mail or password.";
    Unauthenticated = "unauthenticated", 401, "No session or API token, or the session expired or was revoked.";
    InvalidToken = "invalid_token", 401, "A visitor token or API token is not valid.";
    TokenExpired = "token_expired", 401, "A visitor token has expired (connect without it to start afresh), an API token is past its `expires_at`, or a sign-in challenge is older than five minutes (sign in again).";
    TwoFactorCodeInvalid = "two_factor_code_invalid", 401, "The two-factor code is wrong, or was already used (each code and recovery code works once).";
    Forbidden = "forbidden", 403, "The caller's role does not allow this.";
    TwoFactorSetupRequired = "two_factor_setup_required", 403, "The workspace requires two-factor sign-in: this session may only set it up (`/me/two-factor`) or sign out.";
    IdentityRequired = "identity_required", 403, "Sockets only: an `identify` without `user_hash` on a site whose `appearance.require_identity` is on.";
    CsrfMismatch = "csrf_mismatch", 403, "Missing or wrong `X-CSRF-Token` header, or a cookie-authenticated socket from a foreign origin.";
    OriginNotAllowed = "origin_not_allowed", 403, "The page's origin is not in the site's `allowed_origins`.";
    Banned = "banned", 403, "The workspace has banned this visitor (their address, contact or e-mail); nothing was stored.";
    WorkspaceNotFound = "workspace_not_found", 404, "No such workspace.";
    AgentNotFound = "agent_not_found", 404, "No such agent in this workspace.";
    TeamNotFound = "team_not_found", 404, "No such team in this workspace.";
    SiteNotFound = "site_not_found", 404, "No such site (by id in this workspace, or by public key).";
    ContactNotFound = "contact_not_found", 404, "No such contact in this workspace.";
    ConversationNotFound = "conversation_not_found", 404, "No such conversation, or not one this caller may see.";
    MessageNotFound = "message_not_found", 404, "No such message in this workspace.";
    AttachmentNotFound = "attachment_not_found", 404, "No such attachment, or not one this caller may download.";
    CannedResponseNotFound = "canned_response_not_found", 404, "No such canned response in this workspace.";
    ApiTokenNotFound = "api_token_not_found", 404, "No such API token in this workspace.";
    LabelNotFound = "label_not_found", 404, "No such managed label in this workspace.";
    SessionNotFound = "session_not_found", 404, "No such session of this agent (it may have ended already).";
    BanNotFound = "ban_not_found", 404, "No such ban in this workspace.";
    TriggerNotFound = "trigger_not_found", 404, "No such proactive rule in this workspace.";
    InvitationNotFound = "invitation_not_found", 404, "No such invitation for this visitor.";
    AgentInvitationNotFound = "agent_invitation_not_found", 404, "No such pending invitation to join the workspace (it may have been accepted or revoked already).";
    InvitationInvalid = "invitation_invalid", 404, "The invitation link is not valid: it was revoked, replaced by a newer one, or never existed. Ask for a new invitation.";
    InvitationExpired = "invitation_expired", 410, "The invitation link is older than seven days. Ask for a new invitation.";
    InvitationUsed = "invitation_used", 410, "The invitation was already accepted: sign in instead.";
    EmailTaken = "email_taken", 409, "Another agent already signs in with this e-mail.";
    InvitationPending = "invitation_pending", 409, "This e-mail already has a pending invitation to the workspace: resend or revoke it.";
    NameTaken = "name_taken", 409, "The workspace already has a team with this name.";
    ShortcutTaken = "shortcut_taken", 409, "The workspace already has a canned response with this shortcut (or, for a personal one, you already have one).";
    LabelTaken = "label_taken", 409, "The workspace already manages a label with this name.";
    ExternalIdTaken = "external_id_taken", 409, "Another contact already has this external id.";
    SiteInUse = "site_in_use", 409, "The site still has conversations.";
    ConversationNotResolved = "conversation_not_resolved", 409, "Sockets only: a `rate` of a conversation that is not resolved (`ref` is the conversation's id).";
    VisitorNotLive = "visitor_not_live", 409, "The contact is not on the site now (no tab open, or tracking off or not consented): they cannot be invited.";
    AlreadyAssigned = "already_assigned", 409, "A claim lost: the conversation already has an assignee (someone else claimed it or routing gave it to them first).";
    AgentUnavailable = "agent_unavailable", 409, "A transfer to an agent who is not online (away or offline) or holds as many open chats as they may.";
    LastOwner = "last_owner", 409, "The change would leave the workspace without an owner: promote another agent to owner first.";
    TwoFactorEnabled = "two_factor_enabled", 409, "Two-factor sign-in is already on: turn it off first to enrol again.";
    TwoFactorNotEnabled = "two_factor_not_enabled", 409, "Two-factor sign-in is not on (or its enrolment was not started).";
    TwoFactorRequired = "two_factor_required", 409, "The workspace requires two-factor sign-in, so it cannot be turned off.";
    Conflict = "conflict", 409, "The change conflicts with the current state of what it changes.";
    PayloadTooLarge = "payload_too_large", 413, "An upload or body is above the limit (`message` says the limit).";
    UnsupportedMediaType = "unsupported_media_type", 415, "An upload's content is not an accepted type, or a JSON body was sent without `Content-Type: application/json`.";
    ValidationFailed = "validation_failed", 422, "A value is wrong: `fields` names it and says why.";
    InboxKindUnsupported = "inbox_kind_unsupported", 422, "Only `website` inboxes can be created today; `email`, `telegram` and `api` inboxes cannot yet.";
    Internal = "internal", 500, "A bug: the details are in the server's log.";
    Unavailable = "unavailable", 503, "The database cannot be reached; retry later.";
    PowRequired = "pow_required", 403, "Sockets only: the site asks for a proof of work before a conversation starts; the error frame's `pow` is the challenge to solve and send with the same `send`.";
    PowInvalid = "pow_invalid", 403, "Sockets only: the proof of work was wrong, expired, made for another visitor or already used; the error frame's `pow` is a new challenge.";
    RateLimited = "rate_limited", 429, "Too many requests of one kind from one visitor, address, session, token or account (the limits in the server's `[limits.rates]`): nothing was stored; retry after `retry_after_ms` (REST: also `Retry-After`, in seconds).";
    ServerBusy = "server_busy", 503, "The server holds all the sockets it may (an upgrade, answered with `Retry-After`), or a visitor's `hello` waited too long for its turn; retry later.";
    InvalidFrame = "invalid_frame", 400, "Sockets only: not JSON, no string `type`, missing or mistyped fields, or a binary frame.";
    UnknownFrameType = "unknown_frame_type", 400, "Sockets only: a `type` this socket does not accept.";
    FrameTooLarge = "frame_too_large", 413, "Sockets only: a frame above 64 KiB.";
    HelloRequired = "hello_required", 400, "Sockets only: the first frame was not `hello`.";
    AlreadyWelcomed = "already_welcomed", 409, "Sockets only: a second `hello`.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error: a stable code to switch on, an English sentence for logs (not for end
/// users: show the sentence your locale has for the code), and the fields at fault.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default)]
    pub fields: Vec<FieldError>,
    /// `rate_limited` only: how long to wait before the same request succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    #[test]
    fn every_code_serialises_as_its_name() {
        for code in ErrorCode::VARIANTS {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::String(code.as_str().into()));
            assert!((400..600).contains(&code.status()), "{code} has an error status");
        }
    }

    /// docs/protocol.md is the clients' reference: every code has its row, with its status.
    #[test]
    fn the_protocol_document_lists_every_code_with_its_status() {
        let doc = include_str!("../../../docs/protocol.md");
        for code in ErrorCode::VARIANTS {
            let row = format!("| `{code}` | {} |", code.status());
            assert!(doc.contains(&row), "docs/protocol.md has no row starting `{row}`");
        }
    }
}
