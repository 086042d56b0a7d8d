//! Wire types of account security (issue 17): the second step of signing in, enrolling
//! a second factor, an agent's sessions, and the audit log.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::Actor;

macro_rules! snake_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, ToSchema, strum::VariantArray)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }
    };
}

snake_enum! {
    /// What an audit entry records: administrative acts, and reads of transcripts
    /// (`conversation_read`) and contacts (`contact_read`), one per reader and target
    /// per 10 minutes.
    AuditAction {
        AgentInvited,
        AgentChanged,
        AgentRoleChanged,
        AgentDeactivated,
        AgentReactivated,
        AgentDeleted,
        PasswordReset,
        TeamCreated,
        TeamChanged,
        TeamDeleted,
        SiteCreated,
        SiteChanged,
        SiteDeleted,
        WorkspaceChanged,
        TokenCreated,
        TokenRevoked,
        BanCreated,
        BanRemoved,
        TwoFactorEnabled,
        TwoFactorDisabled,
        TwoFactorRequired,
        TwoFactorNotRequired,
        SessionRevoked,
        ConversationRead,
        ContactRead,
        InvitationResent,
        InvitationRevoked,
        InvitationAccepted,
    }
}

snake_enum! {
    /// What an audit entry is about.
    AuditTargetKind { Agent, Team, Site, Workspace, ApiToken, Session, Conversation, Contact, Ban, Invitation }
}

/// `202` from `POST /sessions` when the agent has two-factor sign-in: send a code with
/// this challenge to `POST /sessions/two-factor` within five minutes.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorChallenge {
    pub challenge: String,
    pub expires_at: i64,
}

/// The second step of signing in.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorLogin {
    #[schema(max_length = 512)]
    pub challenge: String,
    /// Six digits from the authenticator app, or a recovery code.
    #[schema(max_length = 64)]
    pub code: String,
}

/// A code from the authenticator app (or, to turn it off, a recovery code).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorCode {
    #[schema(max_length = 64)]
    pub code: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// The workspace requires it of every agent.
    pub required: bool,
    /// Unused recovery codes (0 while it is off).
    pub recovery_codes_left: u32,
}

/// Enrolment: shown once. Add the secret to an authenticator app (scan the QR code or
/// type the secret), then confirm with a code.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorSetup {
    /// Base32, as apps take it typed.
    pub secret: String,
    pub otpauth_uri: String,
    /// The `otpauth_uri` as an SVG QR code.
    pub qr_svg: String,
}

/// One-time recovery codes, shown only in this response.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// A signed-in session of an agent.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    pub id: Uuid,
    /// Read from the browser's user agent at sign-in.
    pub browser: Option<String>,
    pub os: Option<String>,
    /// `desktop`, `mobile` or `tablet`.
    pub device: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    /// Recorded at most once a minute.
    pub last_used_at: i64,
    pub expires_at: i64,
    /// The session of this request.
    pub current: bool,
}

/// One line of the audit log.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: i64,
    pub actor: Actor,
    pub action: AuditAction,
    pub target_kind: Option<AuditTargetKind>,
    pub target_id: Option<Uuid>,
    /// A short machine value, such as the new role.
    pub detail: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}
