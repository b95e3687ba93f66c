//! Password hashing: argon2id (19 MiB, t=2, p=1) for every new hash; the original's bcrypt
//! hashes still verify and are replaced on the next successful login.
//!
//! Hashing is deliberately slow, so it runs on the blocking pool, never on the async workers,
//! and at most a few at a time: each one holds 19 MiB.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Mismatch,
    /// The password is right; `upgrade` holds a new argon2id hash to store when the old one was
    /// made another way.
    Match {
        upgrade: Option<String>,
    },
}

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A real hash of a password nobody has: checking a login for an unknown nick against it
    /// costs exactly what a wrong password costs, so timing does not reveal which nicks exist.
    decoy: Arc<str>,
}

fn argon2id() -> Result<Argon2<'static>, anyhow::Error> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String, anyhow::Error> {
    let salt = SaltString::generate(&mut OsRng);
    argon2id()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing: {e}"))
}

/// A hash made with the given salt instead of a random one. Only for generated data sets, which
/// must come out byte for byte the same from one load to the next (`seed scale`).
pub fn hash_with_salt(password: &str, salt: &[u8]) -> Result<String, anyhow::Error> {
    let salt = SaltString::encode_b64(salt).map_err(|e| anyhow::anyhow!("argon2 salt: {e}"))?;
    argon2id()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing: {e}"))
}

fn verify_blocking(password: &str, stored: &str) -> Result<Verdict, anyhow::Error> {
    if stored.starts_with("$2") {
        return Ok(match bcrypt::verify(password, stored) {
            Ok(true) => Verdict::Match { upgrade: Some(hash_blocking(password)?) },
            // A malformed legacy hash matches nothing.
            Ok(false) | Err(_) => Verdict::Mismatch,
        });
    }
    let parsed = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    Ok(match argon2id()?.verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Verdict::Match { upgrade: None },
        Err(_) => Verdict::Mismatch,
    })
}

impl Passwords {
    pub fn new() -> Result<Self, anyhow::Error> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let decoy = hash_blocking(&uuid::Uuid::new_v4().to_string())?;
        Ok(Self { permits: Arc::new(Semaphore::new(workers * 2)), decoy: decoy.into() })
    }

    async fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, anyhow::Error> + Send + 'static,
    ) -> Result<T, anyhow::Error> {
        let _permit = self.permits.acquire().await?;
        tokio::task::spawn_blocking(work).await?
    }

    pub async fn hash(&self, password: String) -> Result<String, anyhow::Error> {
        self.off_runtime(move || hash_blocking(&password)).await
    }

    /// `stored` is `None` when the account does not exist: the decoy is checked instead.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<Verdict, anyhow::Error> {
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.decoy.to_string());
        let verdict = self.off_runtime(move || verify_blocking(&password, &stored)).await?;
        Ok(if exists { verdict } else { Verdict::Mismatch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hash A of the original seed: the password is 123123123 (docs/API.md §8).
    const SEED_BCRYPT: &str = "$2a$04$PFIkrnjZ62TLHhcU3a6Breh1sLUVMXzwlrLNo2dqQSTM9d02py.oa";

    #[tokio::test]
    async fn argon2id_round_trip_with_the_required_parameters() {
        let passwords = Passwords::new().unwrap();
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        let ok = passwords.verify("correct horse".into(), Some(hash.clone())).await.unwrap();
        assert_eq!(ok, Verdict::Match { upgrade: None });
        let bad = passwords.verify("wrong horse".into(), Some(hash)).await.unwrap();
        assert_eq!(bad, Verdict::Mismatch);
    }

    #[tokio::test]
    async fn legacy_bcrypt_verifies_and_asks_for_an_upgrade() {
        let passwords = Passwords::new().unwrap();
        match passwords.verify("123123123".into(), Some(SEED_BCRYPT.into())).await.unwrap() {
            Verdict::Match { upgrade: Some(new) } => assert!(new.starts_with("$argon2id$")),
            other => panic!("expected an upgrade, got {other:?}"),
        }
        let bad = passwords.verify("nope".into(), Some(SEED_BCRYPT.into())).await.unwrap();
        assert_eq!(bad, Verdict::Mismatch);
    }

    #[tokio::test]
    async fn unknown_accounts_never_match() {
        let passwords = Passwords::new().unwrap();
        let v = passwords.verify(String::new(), None).await.unwrap();
        assert_eq!(v, Verdict::Mismatch);
    }
}
