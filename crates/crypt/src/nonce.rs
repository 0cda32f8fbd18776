//! Random nonces from a fast in-process CSPRNG.
//!
//! An OS random call costs about 430 ns, more than the AES-GCM of a 64-byte
//! field; a ChaCha stream seeded from the OS costs a few nanoseconds per
//! nonce. Each thread keeps its own generator (ChaCha12, the generator behind
//! `rand`'s `StdRng`: the best known attacks reach 7 of its 12 rounds),
//! seeded with 256 bits from the OS on first use and reseeded every
//! [`RESEED_AFTER`] nonces. It draws 16 nonces per call, so a seal usually
//! just copies 12 bytes out of a buffer.
//!
//! # Why random nonces, and their limit (NIST SP 800-38D)
//!
//! GCM needs a nonce that never repeats under one key. SP 800-38D §8.2 allows
//! two constructions:
//!
//! * **Deterministic** (§8.2.1): a fixed field naming the device or process
//!   plus an invocation counter. Unique only if no two processes ever share a
//!   fixed field and no counter ever restarts, which needs coordination
//!   Custodia does not have: every process of a service seals under the same
//!   tenant keys, processes restart, and a random 32-bit per-process prefix
//!   would itself collide (birthday bound) after about 2^16 process starts
//!   per key, after which the counters overlap and nonces repeat.
//! * **Random** (§8.2.2), used here: all 96 bits from an approved generator.
//!   No coordination, but collisions follow the birthday bound, so §8.3 caps a
//!   key at 2^32 invocations (collision chance below 2^-32). The keyring
//!   counts seals per (tenant, key version) — in its key store, across
//!   processes and restarts, for a stored keyring — and refuses past
//!   [`NONCE_LIMIT`](crate::NONCE_LIMIT) with
//!   [`Error::NonceLimit`](crate::Error::NonceLimit) until the keyring is
//!   rotated; [`Keyring::nonce_usage`](crate::Keyring::nonce_usage) shows how
//!   close each key is.
//!
//! Caveat: a process that forks without exec duplicates the generator's state,
//! and the two processes would then draw equal nonces. Do not fork after
//! encrypting; spawn threads or exec instead.

use std::cell::RefCell;

use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};
use ring::rand::{SecureRandom, SystemRandom};

use crate::Error;
use crate::provider::NONCE_LEN;

/// Nonces drawn from one seed before the thread's generator is reseeded.
pub(crate) const RESEED_AFTER: u32 = 1 << 20;

/// Nonces drawn from the generator at a time: one ChaCha call fills the
/// batch, and each seal then only copies 12 bytes out of it.
const BATCH: usize = 16;

struct ThreadRng {
    rng: ChaCha12Rng,
    /// Nonces left before the next reseed.
    remaining: u32,
    batch: [u8; BATCH * NONCE_LEN],
    /// Index of the next unused nonce in `batch`; `BATCH` when spent.
    next: usize,
}

thread_local! {
    static RNG: RefCell<Option<ThreadRng>> = const { RefCell::new(None) };
}

fn seeded() -> Result<ThreadRng, Error> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(seed.as_mut())
        .map_err(|_| Error::Random)?;
    Ok(ThreadRng {
        rng: ChaCha12Rng::from_seed(*seed),
        remaining: RESEED_AFTER,
        batch: [0; BATCH * NONCE_LEN],
        next: BATCH,
    })
}

impl ThreadRng {
    fn refill(&mut self) {
        self.rng.fill_bytes(&mut self.batch);
        self.next = 0;
    }
}

/// A fresh random nonce.
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN], Error> {
    RNG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let state = match slot.as_mut() {
            Some(state) if state.remaining > 0 => state,
            _ => slot.insert(seeded()?),
        };
        if state.next >= BATCH {
            state.refill();
        }
        let at = state.next * NONCE_LEN;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&state.batch[at..at + NONCE_LEN]);
        state.next += 1;
        state.remaining -= 1;
        Ok(nonce)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn nonces_do_not_repeat() {
        let nonces: HashSet<_> = (0..10_000).map(|_| random_nonce().unwrap()).collect();
        assert_eq!(nonces.len(), 10_000);
    }

    #[test]
    fn threads_draw_different_streams() {
        let here = random_nonce().unwrap();
        let there = std::thread::spawn(|| random_nonce().unwrap())
            .join()
            .unwrap();
        assert_ne!(here, there);
    }
}
