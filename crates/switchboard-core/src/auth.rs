//! Who is calling: agents with argon2id passwords and session cookies (plus a CSRF
//! token), integrations with bearer API tokens, visitors with signed tokens.
//! Only hashes of session and API secrets are stored.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use switchboard_domain::*;
use switchboard_store::{Session, Store};

use crate::{AuthFailure, Core, Error, LimitKey, LimitKind, Result};

/// The authenticated caller of an agent-side use case.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Principal {
    pub workspace_id: WorkspaceId,
    /// `Actor::Agent` for people, `Actor::Integration` for API tokens.
    pub actor: Actor,
    pub role: Role,
}

impl Principal {
    /// Core's own check: permissions are decided in the use cases, never at the edge.
    pub(crate) fn require_admin(&self) -> Result<()> {
        if self.role.can_administer() { Ok(()) } else { Err(Error::Forbidden) }
    }

    pub fn agent_id(&self) -> Option<AgentId> {
        match self.actor {
            Actor::Agent(id) => Some(id),
            _ => None,
        }
    }
}

/// What a successful login hands to the browser.
pub struct LoginSession {
    pub agent: Agent,
    /// Goes into the HttpOnly cookie.
    pub token: String,
    /// Must be echoed in `X-CSRF-Token` on state-changing requests.
    pub csrf_token: String,
    pub expires_at: Timestamp,
    /// The session may only enrol a second factor (the workspace requires one).
    pub must_enrol: bool,
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// Where a sign-in comes from, kept on the session so the agent can tell their
/// sessions apart.
#[derive(Clone, Debug, Default)]
pub struct SignInFrom {
    /// The browser's `User-Agent`.
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A session's `last_used_at` is written when the recorded use is at least this old.
pub const SESSION_TOUCH_MS: i64 = 60_000;

pub(crate) struct Keys {
    pub(crate) visitor: Vec<u8>,
    /// Signs the challenge between a sign-in's password and its second factor.
    pub(crate) challenge: Vec<u8>,
    /// Seals agents' TOTP secrets at rest (`sealed.rs`).
    pub(crate) totp: crate::sealed::Sealer,
    /// Seals invitation links while their mail waits in the job table.
    pub(crate) mail: crate::sealed::Sealer,
}

impl Keys {
    pub(crate) async fn load(store: &dyn Store) -> Result<Self> {
        let visitor = store.secret("visitor-token-key", random_token(32)).await?;
        let challenge = store.secret("sign-in-challenge-key", random_token(32)).await?;
        let totp = crate::sealed::Sealer::new(&store.secret("totp-seal-key", random_token(32)).await?);
        let mail = crate::sealed::Sealer::new(&store.secret("invitation-seal-key", random_token(32)).await?);
        Ok(Self { visitor: visitor.into_bytes(), challenge: challenge.into_bytes(), totp, mail })
    }
}

pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    B64.encode(buf)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub fn validate_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < 8 {
        return Err(ValidationError::new("password", "must have at least 8 characters").into());
    }
    if n > 256 {
        return Err(ValidationError::new("password", "must have at most 256 characters").into());
    }
    Ok(())
}

/// argon2id with the crate's default (OWASP-recommended) parameters, off the async threads.
pub async fn hash_password(password: &str) -> Result<String> {
    validate_password(password)?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::thread_rng());
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(Error::internal)?
    .map_err(Error::internal)
}

pub(crate) async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn sign(key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("hmac takes any key");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

pub(crate) fn verify(key: &[u8], payload: &[u8], signature: &[u8]) -> bool {
    let mut mac = HmacSha256::new_from_slice(key).expect("hmac takes any key");
    mac.update(payload);
    mac.verify_slice(signature).is_ok()
}

/// The hex HMAC-SHA256 a business computes over its user's id with the site's
/// identity secret, proving to us that the widget really is that user.
pub fn identity_hash(secret: &str, external_id: &str) -> String {
    hex::encode(sign(secret.as_bytes(), external_id.as_bytes()))
}

pub fn verify_identity(secret: &str, external_id: &str, user_hash: &str) -> bool {
    hex::decode(user_hash.trim()).map(|sig| verify(secret.as_bytes(), external_id.as_bytes(), &sig)).unwrap_or(false)
}

/// What a visitor token proves: this browser is this contact on this site.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VisitorClaims {
    pub site_id: SiteId,
    pub contact_id: ContactId,
    pub expires_at: Timestamp,
}

impl Core {
    /// The first step of signing in: the password. With a second factor enabled it
    /// answers with a challenge for [`Core::login_two_factor`] instead of a session.
    /// When the workspace requires a second factor the agent has not set up, the
    /// session may only enrol one (`must_enrol`).
    #[tracing::instrument(skip_all, err(level = "info"))]
    ///
    /// Every attempt, right or wrong, takes from three buckets before any work: the
    /// e-mail's (five tries, then one a minute by default), the e-mail's slower one
    /// (twenty, then one every fifteen minutes: delays grow), and the client address's.
    /// An account is unlocked by time alone; nothing is sent to anyone.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn login(&self, email: &str, password: &str, from: &SignInFrom) -> Result<crate::SignIn> {
        if let Some(ip) = from.ip.as_deref().and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
            self.limit(LimitKind::SignInPerIp, LimitKey::Ip(ip)).await?;
        }
        let account = LimitKey::account(email);
        self.limit(LimitKind::SignInPerAccount, account).await?;
        self.limit(LimitKind::SignInLockoutPerAccount, account).await?;
        let email = Email::parse(email).map_err(|_| Error::Unauthenticated(AuthFailure::BadCredentials))?;
        let found = self.store.agent_credentials(&email).await?;
        let Some((agent, hash)) = found else {
            // Spend the same time as a real check, so timing does not reveal accounts.
            static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
            let dummy = DUMMY.get_or_try_init(|| hash_password("not-a-real-password")).await?;
            let _ = verify_password(password, dummy).await;
            return Err(Error::Unauthenticated(AuthFailure::BadCredentials));
        };
        // A deactivated agent is refused like a wrong password, after the same work.
        if !verify_password(password, &hash).await || !agent.active {
            self.sign_in_failed(agent.id, from, "password");
            return Err(Error::Unauthenticated(AuthFailure::BadCredentials));
        }
        match self.store.two_factor(agent.workspace_id, agent.id).await? {
            Some(tf) if tf.enabled_at.is_some() => {
                let (challenge, expires_at) = self.two_factor_challenge(&agent);
                Ok(crate::SignIn::TwoFactorRequired { challenge, expires_at })
            }
            _ => {
                let must_enrol = self.store.workspace(agent.workspace_id).await?.require_two_factor;
                Ok(crate::SignIn::Done(self.start_session(agent, from, must_enrol).await?))
            }
        }
    }

    pub(crate) async fn start_session(&self, agent: Agent, from: &SignInFrom, must_enrol: bool) -> Result<LoginSession> {
        let token = random_token(32);
        let now = self.now();
        let session = Session {
            id: SessionId::new(),
            token_hash: sha256_hex(&token),
            agent_id: agent.id,
            workspace_id: agent.workspace_id,
            csrf_token: random_token(18),
            created_at: now,
            expires_at: now.plus_millis(self.limits.session_ttl_ms),
            last_used_at: now,
            user_agent: from.user_agent.as_deref().map(|ua| cut(ua, 512)),
            ip: from.ip.clone(),
            must_enrol,
        };
        self.store.create_session(&session).await?;
        tracing::info!(agent.id = %agent.id, session.id = %session.id, "agent logged in");
        Ok(LoginSession { agent, token, csrf_token: session.csrf_token, expires_at: session.expires_at, must_enrol })
    }

    /// The session behind a cookie, with its CSRF token; fails once it has expired, and
    /// with `two_factor_setup_required` while it may only enrol a second factor.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn session(&self, token: &str) -> Result<(Principal, Session)> {
        let (who, session) = self.enrolling_session(token).await?;
        if session.must_enrol {
            return Err(Error::TwoFactorSetupRequired);
        }
        Ok((who, session))
    }

    /// As [`Core::session`], but also a session that may only enrol a second factor:
    /// for reading one's account, enrolling and signing out.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn enrolling_session(&self, token: &str) -> Result<(Principal, Session)> {
        self.limit(LimitKind::RestPerSession, LimitKey::hashed(token)).await?;
        let now = self.now();
        let session = self.store.session(&sha256_hex(token), now).await?.ok_or(Error::Unauthenticated(AuthFailure::SessionRequired))?;
        let agent = self.store.agent(session.workspace_id, session.agent_id).await.map_err(|e| match e {
            switchboard_store::StoreError::NotFound(_) => Error::Unauthenticated(AuthFailure::SessionRequired),
            e => e.into(),
        })?;
        if !agent.active {
            return Err(Error::Unauthenticated(AuthFailure::SessionRequired));
        }
        // "Last used" is worth a write once a minute, not one per request.
        if now.0 - session.last_used_at.0 >= SESSION_TOUCH_MS {
            self.store.touch_session(session.id, now).await?;
        }
        Ok((Principal { workspace_id: agent.workspace_id, actor: Actor::Agent(agent.id), role: agent.role }, session))
    }

    /// Ends the session of this cookie, and closes its sockets.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn logout(&self, token: &str) -> Result<()> {
        let hash = sha256_hex(token);
        let session = self.store.session(&hash, self.now()).await?;
        self.store.delete_session(&hash).await?;
        if let Some(s) = session {
            self.sessions_ended(s.workspace_id, s.agent_id, vec![s.id]);
        }
        Ok(())
    }

    /// The caller behind an API token; an expired one is `token_expired`.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn api_token(&self, secret: &str) -> Result<Principal> {
        self.limit(LimitKind::RestPerToken, LimitKey::hashed(secret)).await?;
        let now = self.now();
        let token = self.store.use_api_token(&sha256_hex(secret), now).await?.ok_or(Error::Unauthenticated(AuthFailure::InvalidToken))?;
        if token.expires_at.is_some_and(|t| t <= now) {
            return Err(Error::Unauthenticated(AuthFailure::TokenExpired));
        }
        Ok(Principal { workspace_id: token.workspace_id, actor: Actor::Integration(token.id), role: token.role })
    }

    pub(crate) fn visitor_token(&self, claims: &VisitorClaims) -> String {
        let payload = format!("{}.{}.{}", claims.site_id, claims.contact_id, claims.expires_at.0);
        format!("v1.{}.{}", B64.encode(&payload), B64.encode(sign(&self.keys.visitor, payload.as_bytes())))
    }

    /// Checks a visitor token's signature and expiry.
    pub fn visitor_claims(&self, token: &str) -> Result<VisitorClaims> {
        let invalid = || Error::Unauthenticated(AuthFailure::InvalidToken);
        let mut parts = token.split('.');
        let (Some("v1"), Some(payload), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        let payload = B64.decode(payload).map_err(|_| invalid())?;
        let sig = B64.decode(sig).map_err(|_| invalid())?;
        if !verify(&self.keys.visitor, &payload, &sig) {
            return Err(invalid());
        }
        let payload = String::from_utf8(payload).map_err(|_| invalid())?;
        let mut fields = payload.split('.');
        let (Some(site), Some(contact), Some(exp)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(invalid());
        };
        let claims = VisitorClaims {
            site_id: site.parse().map_err(|_| invalid())?,
            contact_id: contact.parse().map_err(|_| invalid())?,
            expires_at: Timestamp(exp.parse().map_err(|_| invalid())?),
        };
        if claims.expires_at <= self.now() {
            return Err(Error::Unauthenticated(AuthFailure::TokenExpired));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_hashes_verify_only_for_the_same_user_and_secret() {
        let h = identity_hash("site-secret", "user-42");
        assert!(verify_identity("site-secret", "user-42", &h));
        assert!(!verify_identity("site-secret", "user-43", &h));
        assert!(!verify_identity("other", "user-42", &h));
        assert!(!verify_identity("site-secret", "user-42", "not hex"));
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash).await);
        assert!(!verify_password("wrong horse!", &hash).await);
        assert!(hash_password("short").await.is_err());
    }
}
