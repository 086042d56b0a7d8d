//! Secrets the server must read back, not only check (agents' TOTP secrets), are sealed
//! at rest with ChaCha20-Poly1305 under a key kept as one of the store's named server
//! secrets, so the rows that hold them are of no use without it.
//!
//! Format: `sealed1:` then base64url (no padding) of the 12-byte random nonce followed
//! by the ciphertext and its tag. The row's owner (an agent's id) is the associated
//! data, so a sealed value copied into another agent's row does not open. Text without
//! the prefix was written before sealing and is read as it is; it is sealed the next
//! time it is written (a new enrolment).
//!
//! Invariant: `open` never returns text that `seal` did not produce for the same owner,
//! except an unsealed value from before; a value that fails to open is an error, never
//! taken as plain text.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

const PREFIX: &str = "sealed1:";
const NONCE: usize = 12;

pub(crate) struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl Sealer {
    /// A sealer whose key is derived from a server secret (any text, such as the store's
    /// `totp-seal-key`).
    pub(crate) fn new(secret: &str) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"switchboard sealed secrets v1\0");
        hash.update(secret.as_bytes());
        let key: [u8; 32] = hash.finalize().into();
        Self { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)) }
    }

    /// Seals `plain` for `owner`.
    pub(crate) fn seal(&self, plain: &str, owner: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: owner })
            .map_err(|_| Error::internal("sealing a secret failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", B64.encode(out)))
    }

    /// Opens what [`Sealer::seal`] produced for `owner`; unsealed text from before is
    /// returned as it is.
    pub(crate) fn open(&self, stored: &str, owner: &[u8]) -> Result<String> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_owned()) };
        let broken = || Error::internal("a sealed secret does not open (wrong key, or another owner's)");
        let bytes = B64.decode(encoded).map_err(|_| broken())?;
        if bytes.len() < NONCE {
            return Err(broken());
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: owner }).map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_owner_and_its_key() {
        let sealer = Sealer::new("server secret");
        let sealed = sealer.seal("JBSWY3DPEHPK3PXP", b"agent-1").unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"), "{sealed}");
        assert_ne!(sealed, sealer.seal("JBSWY3DPEHPK3PXP", b"agent-1").unwrap(), "a fresh nonce each time");
        assert_eq!(sealer.open(&sealed, b"agent-1").unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(sealer.open(&sealed, b"agent-2").is_err(), "moved to another agent's row");
        assert!(Sealer::new("another secret").open(&sealed, b"agent-1").is_err(), "another server's key");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(&tampered, b"agent-1").is_err(), "tampered");
    }

    #[test]
    fn a_secret_stored_before_sealing_reads_as_it_is() {
        let sealer = Sealer::new("server secret");
        assert_eq!(sealer.open("JBSWY3DPEHPK3PXP", b"agent-1").unwrap(), "JBSWY3DPEHPK3PXP");
    }
}
