//! Account security over REST: signing in with a second factor, enrolling one, an
//! agent's sessions, and the audit log (owners).

use reqwest::Method;
use serde::Serialize;
use switchboard_proto::*;
use uuid::Uuid;

use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

/// What the first step of signing in gave.
#[derive(Clone, Debug)]
pub enum SignedIn {
    Me(Box<Me>),
    /// A second factor is needed: [`Client::login_two_factor`] with this challenge.
    TwoFactor(TwoFactorChallenge),
}

/// Filters of `GET /audit` and `GET /audit.csv`; absent ones do not filter.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AuditFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_kind: Option<ActorKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<AuditAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_kind: Option<AuditTargetKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

impl Client {
    /// The first step of signing in: a session (as [`Client::login`]) or a challenge.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Result<SignedIn> {
        let req = self.request(Method::POST, "/sessions").json(&LoginRequest { email: email.to_owned(), password: password.to_owned() });
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        let unexpected = |e: serde_json::Error| ClientError::Unexpected { status, text: text.clone(), error: e.to_string() };
        match status {
            202 => Ok(SignedIn::TwoFactor(serde_json::from_str(&text).map_err(unexpected)?)),
            200 => {
                let me: Me = serde_json::from_str(&text).map_err(unexpected)?;
                self.csrf = me.csrf_token.clone();
                Ok(SignedIn::Me(Box::new(me)))
            }
            _ => match serde_json::from_str::<ErrorBody>(&text) {
                Ok(body) => Err(ClientError::Api { status, body }),
                Err(e) => Err(unexpected(e)),
            },
        }
    }

    /// The second step: the challenge and a code from the app (or a recovery code).
    pub async fn login_two_factor(&mut self, challenge: &str, code: &str) -> Result<Me> {
        let me: Me = self.post("/sessions/two-factor", &TwoFactorLogin { challenge: challenge.to_owned(), code: code.to_owned() }).await?;
        self.csrf = me.csrf_token.clone();
        Ok(me)
    }

    pub async fn two_factor_status(&self) -> Result<TwoFactorStatus> {
        self.get("/me/two-factor").await
    }

    pub async fn begin_two_factor(&self) -> Result<TwoFactorSetup> {
        self.send(self.request(Method::POST, "/me/two-factor/setup")).await
    }

    /// Confirms enrolment; the recovery codes.
    pub async fn enable_two_factor(&self, code: &str) -> Result<RecoveryCodes> {
        self.post("/me/two-factor/enable", &TwoFactorCode { code: code.to_owned() }).await
    }

    pub async fn disable_two_factor(&self, code: &str) -> Result<()> {
        self.post("/me/two-factor/disable", &TwoFactorCode { code: code.to_owned() }).await
    }

    pub async fn my_sessions(&self) -> Result<Vec<SessionInfo>> {
        self.get("/me/sessions").await
    }

    pub async fn end_my_session(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/me/sessions/{id}")).await
    }

    pub async fn agent_sessions(&self, agent: Uuid) -> Result<Vec<SessionInfo>> {
        self.get(&format!("/agents/{agent}/sessions")).await
    }

    pub async fn end_agent_session(&self, agent: Uuid, id: Uuid) -> Result<()> {
        self.delete(&format!("/agents/{agent}/sessions/{id}")).await
    }

    pub async fn audit(&self, filter: &AuditFilter) -> Result<AuditPage> {
        self.send(self.request(Method::GET, "/audit").query(filter)).await
    }

    /// The audit log as CSV: its content type and the text.
    pub async fn audit_csv(&self, filter: &AuditFilter) -> Result<(String, String)> {
        let res = self.request(Method::GET, "/audit.csv").query(filter).send().await?;
        let status = res.status().as_u16();
        let content_type = res.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let text = res.text().await?;
        if (200..300).contains(&status) {
            return Ok((content_type, text));
        }
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => Err(ClientError::Api { status, body }),
            Err(e) => Err(ClientError::Unexpected { status, text, error: e.to_string() }),
        }
    }
}
