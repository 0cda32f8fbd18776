//! Key material that cleans up after itself.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// A 256-bit secret key.
///
/// Zeroized when dropped, printed as `SecretKey([redacted])`, compared in
/// constant time. The bytes leave only through [`SecretKey::expose_secret`],
/// whose name makes every use visible in review.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; SecretKey::LEN]);

impl SecretKey {
    /// Key length in bytes.
    pub const LEN: usize = 32;

    /// Wraps key bytes. The caller should zeroize its own copy.
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// Copies key bytes from a slice, which must be exactly 32 bytes long.
    pub fn try_from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; Self::LEN] = bytes.try_into().map_err(|_| Error::InvalidKeyLength {
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; Self::LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::Random)?;
        Ok(Self(bytes))
    }

    /// The key bytes. Keep the borrow short and never log it.
    pub fn expose_secret(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = SecretKey::from_bytes([0xAB; 32]);
        let printed = format!("{key:?} {key:#?}");
        assert!(!printed.to_lowercase().contains("ab"), "{printed}");
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn wrong_length_is_a_typed_error() {
        assert!(matches!(
            SecretKey::try_from_slice(&[0; 31]),
            Err(Error::InvalidKeyLength {
                expected: 32,
                actual: 31
            })
        ));
        assert_eq!(
            SecretKey::try_from_slice(&[7; 32]).unwrap(),
            SecretKey::from_bytes([7; 32])
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap()
        );
    }
}
