//! Proof of work, for a site under attack (`appearance.proof_of_work`): before a visitor
//! may start a conversation, their browser finds a nonce such that SHA-256 of the
//! challenge, a colon and the nonce starts with `difficulty` zero bits (hashcash; about
//! half a second of WebCrypto at the default 16 bits). No captcha service, no store
//! write:
//!
//! - A challenge is stateless and signed: `pow1.<contact>.<expires ms>.<random>.<bits>.<HMAC>`,
//!   with the server's visitor-token key; it names the visitor it was made for and
//!   expires after [`CHALLENGE_TTL_MS`].
//! - A solution is used once: the random part of every accepted challenge is kept in
//!   memory until it expires ([`Spent`]), so a replay is refused. Each entry cost its
//!   sender the work, and expired ones are dropped, so the set stays small.
//!
//! Invariant: checked before anything is read or written for the `send` it guards.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use switchboard_domain::{ContactId, Timestamp};

/// How long a challenge may be solved and used.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;

/// What the browser must solve.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PowChallenge {
    pub challenge: String,
    /// Leading zero bits the hash must have.
    pub difficulty: u8,
}

/// A browser's answer: the challenge it was given and the nonce it found.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PowSolution {
    pub challenge: String,
    pub nonce: String,
}

/// Why a solution was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PowRefusal {
    /// Not a challenge this server made for this visitor, or a wrong nonce.
    Invalid,
    Expired,
    /// Already used once.
    Replayed,
}

/// Accepted challenges, by their random part, until they expire.
#[derive(Default)]
pub struct Spent(Mutex<HashMap<String, i64>>);

impl Spent {
    /// Records a challenge as used; `false` when it already was.
    fn spend(&self, id: &str, expires_at: i64, now: i64) -> bool {
        let mut spent = self.0.lock().expect("spent challenges");
        if spent.len() >= 1024 {
            spent.retain(|_, expires| *expires > now);
        }
        spent.insert(id.to_owned(), expires_at).is_none()
    }
}

fn mac(key: &[u8], payload: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(b"pow1:");
    mac.update(payload.as_bytes());
    mac
}

/// A fresh challenge for `contact`.
pub fn challenge(key: &[u8], contact: ContactId, now: Timestamp, difficulty: u8) -> PowChallenge {
    let mut random = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut random);
    let payload = format!("pow1.{}.{}.{}.{difficulty}", contact.0, now.0 + CHALLENGE_TTL_MS, hex::encode(random));
    let signature = B64.encode(mac(key, &payload).finalize().into_bytes());
    PowChallenge { challenge: format!("{payload}.{signature}"), difficulty }
}

/// Leading zero bits of SHA-256(`challenge` `:` `nonce`).
pub fn zero_bits(challenge: &str, nonce: &str) -> u32 {
    let digest = Sha256::new().chain_update(challenge.as_bytes()).chain_update(b":").chain_update(nonce.as_bytes()).finalize();
    let mut bits = 0;
    for byte in digest {
        bits += byte.leading_zeros();
        if byte != 0 {
            break;
        }
    }
    bits
}

/// Checks a solution for `contact` and spends it.
pub fn verify(key: &[u8], spent: &Spent, contact: ContactId, now: Timestamp, difficulty: u8, s: &PowSolution) -> Result<(), PowRefusal> {
    let Some((payload, signature)) = s.challenge.rsplit_once('.') else { return Err(PowRefusal::Invalid) };
    let signature = B64.decode(signature).map_err(|_| PowRefusal::Invalid)?;
    mac(key, payload).verify_slice(&signature).map_err(|_| PowRefusal::Invalid)?;
    let parts: Vec<&str> = payload.split('.').collect();
    let [_, for_contact, expires_at, random, bits] = parts[..] else { return Err(PowRefusal::Invalid) };
    let expires_at: i64 = expires_at.parse().map_err(|_| PowRefusal::Invalid)?;
    let bits: u8 = bits.parse().map_err(|_| PowRefusal::Invalid)?;
    if for_contact != contact.0.to_string() || bits < difficulty || s.nonce.len() > 64 {
        return Err(PowRefusal::Invalid);
    }
    if expires_at <= now.0 {
        return Err(PowRefusal::Expired);
    }
    if zero_bits(&s.challenge, &s.nonce) < u32::from(bits) {
        return Err(PowRefusal::Invalid);
    }
    if !spent.spend(random, expires_at, now.0) {
        return Err(PowRefusal::Replayed);
    }
    Ok(())
}

/// Finds a nonce by brute force, as the widget does: for tests and tools.
pub fn solve(c: &PowChallenge) -> PowSolution {
    let nonce = (0u64..).map(|n| n.to_string()).find(|n| zero_bits(&c.challenge, n) >= u32::from(c.difficulty)).expect("some nonce works");
    PowSolution { challenge: c.challenge.clone(), nonce }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a server secret";

    #[test]
    fn a_solved_challenge_passes_once() {
        let ana = ContactId::new();
        let now = Timestamp(1_800_000_000_000);
        let c = challenge(KEY, ana, now, 8);
        let solution = solve(&c);
        assert!(zero_bits(&c.challenge, &solution.nonce) >= 8);
        let spent = Spent::default();
        assert_eq!(verify(KEY, &spent, ana, now, 8, &solution), Ok(()));
        assert_eq!(verify(KEY, &spent, ana, now, 8, &solution), Err(PowRefusal::Replayed));
    }

    #[test]
    fn wrong_forged_foreign_and_late_solutions_are_refused() {
        let (ana, bo) = (ContactId::new(), ContactId::new());
        let now = Timestamp(1_800_000_000_000);
        let spent = Spent::default();
        let c = challenge(KEY, ana, now, 8);
        let good = solve(&c);
        let wrong =
            PowSolution { nonce: (0u64..).map(|n| n.to_string()).find(|n| zero_bits(&c.challenge, n) == 0).unwrap(), ..good.clone() };
        assert_eq!(verify(KEY, &spent, ana, now, 8, &wrong), Err(PowRefusal::Invalid), "a nonce that does not hash to zeros");
        assert_eq!(verify(KEY, &spent, bo, now, 8, &good), Err(PowRefusal::Invalid), "made for someone else");
        assert_eq!(verify(b"another key", &spent, ana, now, 8, &good), Err(PowRefusal::Invalid), "not signed by us");
        assert_eq!(verify(KEY, &spent, ana, now, 12, &good), Err(PowRefusal::Invalid), "easier than asked");
        let easier = solve(&PowChallenge { challenge: c.challenge.replace(".8.", ".1."), difficulty: 1 });
        assert_eq!(verify(KEY, &spent, ana, now, 8, &easier), Err(PowRefusal::Invalid), "its difficulty is signed");
        let later = Timestamp(now.0 + CHALLENGE_TTL_MS);
        assert_eq!(verify(KEY, &spent, ana, later, 8, &good), Err(PowRefusal::Expired));
        assert_eq!(verify(KEY, &spent, ana, now, 8, &good), Ok(()), "none of that spent it");
    }
}
