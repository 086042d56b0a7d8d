//! Two-factor sign-in (TOTP, RFC 6238, through `totp-rs`): enrolment from the profile
//! (a secret shown once, confirmed with a first code), one-time recovery codes (only
//! their hashes are kept), disabling with a code, the workspace's requirement, and the
//! second step of signing in (a short-lived signed challenge, then a code).
//!
//! Invariants: a code (TOTP time step or recovery code) is accepted once, even when two
//! requests race (the store takes the step or spends the code atomically); the secret is
//! returned only by `begin_two_factor`, and is never logged; it is stored sealed
//! (`sealed.rs`, under the server secret `totp-seal-key`, bound to the agent's id), and
//! one stored before sealing is read as it is.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::Rng;
use switchboard_domain::*;
use switchboard_store::TwoFactor;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::auth::{Principal, SignInFrom, sha256_hex};
use crate::{AuthFailure, Core, Error, Result};

/// How long the challenge between the password and the code lasts.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
const STEP_SECONDS: u64 = 30;
const DIGITS: usize = 6;
const RECOVERY_CODES: usize = 10;

/// What enrolment shows once: the secret as text and as an `otpauth://` URI (for the QR code).
pub struct TwoFactorSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

/// Whether the agent has a second factor and whether their workspace requires one.
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub required: bool,
    pub recovery_codes_left: u32,
}

/// The outcome of the first step of signing in.
pub enum SignIn {
    Done(crate::LoginSession),
    /// The password was right; send a code with this challenge to finish.
    TwoFactorRequired {
        challenge: String,
        expires_at: Timestamp,
    },
}

fn totp(secret_b32: &str) -> Result<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().map_err(|e| Error::internal(format!("stored TOTP secret: {e:?}")))?;
    // Skew 1: the step before and after now are accepted too (clocks drift, people type slowly).
    Ok(TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 1, STEP_SECONDS, bytes))
}

/// The time step at `now` whose code is `code` (now, one before or one after), if any.
fn matching_step(secret_b32: &str, code: &str, now: Timestamp) -> Result<Option<i64>> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret_b32)?;
    let step = now.0.div_euclid(1000) / STEP_SECONDS as i64;
    for s in [step - 1, step, step + 1] {
        let expected = totp.generate(s.max(0) as u64 * STEP_SECONDS);
        if constant_eq(expected.as_bytes(), code.as_bytes()) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A recovery code as people type it: case, spaces and dashes do not matter.
fn normalise_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn recovery_code() -> String {
    // No 0/o, 1/l/i: codes are read off paper.
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let mut pick = || ALPHABET[rng.gen_range(0..ALPHABET.len())] as char;
    let a: String = (0..5).map(|_| pick()).collect();
    let b: String = (0..5).map(|_| pick()).collect();
    format!("{a}-{b}")
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn uri_component(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let (issuer, account) = (uri_component(issuer), uri_component(account));
    format!("otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}")
}

fn me(who: &Principal) -> Result<AgentId> {
    who.agent_id().ok_or(Error::NotFound(Entity::Agent))
}

impl Core {
    /// The hook where sign-in limits count failures: every wrong second-factor code (and
    /// every wrong password) of an existing account passes here. The limiter of issue 17
    /// ("sign-in attempts per account and per IP") plugs in at this one place.
    pub(crate) fn sign_in_failed(&self, agent: AgentId, from: &SignInFrom, what: &'static str) {
        tracing::info!(agent.id = %agent, ip = from.ip.as_deref().unwrap_or(""), failure = what, "sign-in attempt failed");
    }

    /// A signed challenge naming the agent, good for [`CHALLENGE_TTL_MS`].
    pub(crate) fn two_factor_challenge(&self, agent: &Agent) -> (String, Timestamp) {
        let expires_at = self.now().plus_millis(CHALLENGE_TTL_MS);
        let payload = format!("{}.{}.{}", agent.workspace_id, agent.id, expires_at.0);
        let sig = crate::auth::sign(&self.keys.challenge, payload.as_bytes());
        (format!("c1.{}.{}", B64.encode(&payload), B64.encode(sig)), expires_at)
    }

    fn read_challenge(&self, challenge: &str) -> Result<(WorkspaceId, AgentId)> {
        let invalid = || Error::Unauthenticated(AuthFailure::InvalidToken);
        let mut parts = challenge.split('.');
        let (Some("c1"), Some(payload), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        let payload = B64.decode(payload).map_err(|_| invalid())?;
        let sig = B64.decode(sig).map_err(|_| invalid())?;
        if !crate::auth::verify(&self.keys.challenge, &payload, &sig) {
            return Err(invalid());
        }
        let payload = String::from_utf8(payload).map_err(|_| invalid())?;
        let mut fields = payload.split('.');
        let (Some(ws), Some(agent), Some(exp), None) = (fields.next(), fields.next(), fields.next(), fields.next()) else {
            return Err(invalid());
        };
        if Timestamp(exp.parse().map_err(|_| invalid())?) <= self.now() {
            return Err(Error::Unauthenticated(AuthFailure::TokenExpired));
        }
        Ok((ws.parse().map_err(|_| invalid())?, agent.parse().map_err(|_| invalid())?))
    }

    /// Checks a TOTP code (taking its time step, so it works once) or spends a recovery
    /// code. `false` when neither.
    async fn check_second_factor(&self, ws: WorkspaceId, agent: AgentId, tf: &TwoFactor, code: &str) -> Result<bool> {
        let secret = self.keys.totp.open(&tf.secret, agent.0.as_bytes())?;
        if let Some(step) = matching_step(&secret, code, self.now())? {
            return Ok(self.store.use_totp_step(ws, agent, step).await?);
        }
        let normal = normalise_recovery(code);
        if normal.len() != 10 {
            return Ok(false);
        }
        Ok(self.store.use_recovery_code(ws, agent, &sha256_hex(&normal), self.now()).await?)
    }

    /// The second step of signing in: the challenge from [`Core::login`] and a code from
    /// the agent's app (or a recovery code). A wrong or replayed code is
    /// `two_factor_code_invalid`; an expired challenge `token_expired`.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn login_two_factor(&self, challenge: &str, code: &str, from: &SignInFrom) -> Result<crate::LoginSession> {
        let (ws, id) = self.read_challenge(challenge)?;
        let agent = self.store.agent(ws, id).await.map_err(|_| Error::Unauthenticated(AuthFailure::InvalidToken))?;
        if !agent.active {
            return Err(Error::Unauthenticated(AuthFailure::BadCredentials));
        }
        let tf = self.store.two_factor(ws, id).await?.filter(|tf| tf.enabled_at.is_some());
        let Some(tf) = tf else { return Err(Error::Unauthenticated(AuthFailure::InvalidToken)) };
        if !self.check_second_factor(ws, id, &tf, code).await? {
            self.sign_in_failed(id, from, "two_factor_code");
            return Err(Error::Unauthenticated(AuthFailure::BadTwoFactorCode));
        }
        self.start_session(agent, from, false).await
    }

    /// Whether the caller has a second factor, and whether the workspace requires one.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn two_factor_status(&self, who: &Principal) -> Result<TwoFactorStatus> {
        let id = me(who)?;
        let enabled = self.store.two_factor(who.workspace_id, id).await?.is_some_and(|tf| tf.enabled_at.is_some());
        let required = self.store.workspace(who.workspace_id).await?.require_two_factor;
        let recovery_codes_left = if enabled { self.store.recovery_codes_left(who.workspace_id, id).await? } else { 0 };
        Ok(TwoFactorStatus { enabled, required, recovery_codes_left })
    }

    /// Starts enrolment: a fresh secret, kept until a first code confirms it. Fails with
    /// `two_factor_enabled` when the caller already has a second factor.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn begin_two_factor(&self, who: &Principal) -> Result<TwoFactorSetup> {
        let id = me(who)?;
        if self.store.two_factor(who.workspace_id, id).await?.is_some_and(|tf| tf.enabled_at.is_some()) {
            return Err(Error::TwoFactorEnabled);
        }
        let agent = self.store.agent(who.workspace_id, id).await?;
        let workspace = self.store.workspace(who.workspace_id).await?;
        let mut raw = [0u8; 20];
        rand::thread_rng().fill(&mut raw);
        let Secret::Encoded(secret) = Secret::Raw(raw.to_vec()).to_encoded() else {
            return Err(Error::internal("totp-rs did not encode the secret"));
        };
        let sealed = self.keys.totp.seal(&secret, id.0.as_bytes())?;
        let pending = TwoFactor { secret: sealed, enabled_at: None, last_step: 0 };
        self.store.set_two_factor(who.workspace_id, id, Some(&pending), &[]).await?;
        let issuer = format!("Switchboard ({})", workspace.name);
        Ok(TwoFactorSetup { otpauth_uri: otpauth_uri(&issuer, agent.email.as_str(), &secret), secret })
    }

    /// Finishes enrolment with a first code from the app; returns the recovery codes,
    /// shown this once (only their hashes are kept). `two_factor_not_enabled` when no
    /// enrolment was started.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn enable_two_factor(&self, who: &Principal, code: &str) -> Result<Vec<String>> {
        let id = me(who)?;
        let pending = match self.store.two_factor(who.workspace_id, id).await? {
            Some(tf) if tf.enabled_at.is_some() => return Err(Error::TwoFactorEnabled),
            Some(tf) => tf,
            None => return Err(Error::TwoFactorNotEnabled),
        };
        let secret = self.keys.totp.open(&pending.secret, id.0.as_bytes())?;
        let Some(step) = matching_step(&secret, code, self.now())? else {
            return Err(Error::Unauthenticated(AuthFailure::BadTwoFactorCode));
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| sha256_hex(&normalise_recovery(c))).collect();
        let enabled = TwoFactor { enabled_at: Some(self.now()), last_step: step, ..pending };
        self.store.set_two_factor(who.workspace_id, id, Some(&enabled), &hashes).await?;
        self.audit(who, AuditAction::TwoFactorEnabled, Some(AuditTarget::new(AuditTargetKind::Agent, id)), None).await?;
        tracing::info!(agent.id = %id, "two-factor sign-in enabled");
        Ok(codes)
    }

    /// Turns the caller's second factor off, with a current code or a recovery code.
    /// Refused with `two_factor_required` while the workspace requires one.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn disable_two_factor(&self, who: &Principal, code: &str) -> Result<()> {
        let id = me(who)?;
        let Some(tf) = self.store.two_factor(who.workspace_id, id).await?.filter(|tf| tf.enabled_at.is_some()) else {
            return Err(Error::TwoFactorNotEnabled);
        };
        if self.store.workspace(who.workspace_id).await?.require_two_factor {
            return Err(Error::TwoFactorRequired);
        }
        if !self.check_second_factor(who.workspace_id, id, &tf, code).await? {
            return Err(Error::Unauthenticated(AuthFailure::BadTwoFactorCode));
        }
        self.store.set_two_factor(who.workspace_id, id, None, &[]).await?;
        self.audit(who, AuditAction::TwoFactorDisabled, Some(AuditTarget::new(AuditTargetKind::Agent, id)), None).await?;
        tracing::info!(agent.id = %id, "two-factor sign-in disabled");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 test vectors (the secret "12345678901234567890", 8 digits there;
    /// the last six digits here, which is what 6-digit TOTP takes).
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        for (unix, code) in [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")] {
            let at = Timestamp(unix * 1000);
            let step = matching_step(&secret, code, at).unwrap();
            assert_eq!(step, Some(unix / 30), "{unix}");
        }
        assert_eq!(matching_step(&secret, "287083", Timestamp(59_000)).unwrap(), None);
        assert_eq!(matching_step(&secret, "28708", Timestamp(59_000)).unwrap(), None, "too short");
    }

    #[test]
    fn a_code_from_the_step_before_or_after_is_accepted_but_not_two_away() {
        let secret = "JBSWY3DPEHPK3PXP";
        let t = totp(secret).unwrap();
        let now = Timestamp(1_700_000_000_000);
        let step = 1_700_000_000 / 30;
        for (offset, ok) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = t.generate(((step + offset) * 30) as u64);
            assert_eq!(matching_step(secret, &code, now).unwrap().is_some(), ok, "offset {offset}");
        }
    }

    #[test]
    fn recovery_codes_are_typed_loosely_and_uris_are_escaped() {
        let code = recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(normalise_recovery(&code.to_uppercase().replace('-', " ")), normalise_recovery(&code));
        let uri = otpauth_uri("Switchboard (Acme & Co)", "ana@acme.example", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/Switchboard%20%28Acme%20%26%20Co%29:ana%40acme.example?secret=ABC&issuer=Switchboard%20%28Acme%20%26%20Co%29&algorithm=SHA1&digits=6&period=30"
        );
    }
}
