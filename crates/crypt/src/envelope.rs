//! The field envelope: a versioned, self-describing AES-256-GCM ciphertext.
//!
//! # Binary format, version 1
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 1 | format version, `0x01` |
//! | 1 | 1 | algorithm, `0x01` = AES-256-GCM, 96-bit nonce, 128-bit tag |
//! | 2 | 1 | key kind: `0x01` tenant data key, `0x02` data-subject key |
//! | 3 | 4 | key version, big-endian |
//! | 7 | 16 | subject id (key kind `0x02` only) |
//! | 7 or 23 | 12 | nonce |
//! | 19 or 35 | n + 16 | ciphertext of the n-byte plaintext, then the tag |
//!
//! The header (everything before the nonce) is also part of the associated
//! data, together with the [`FieldContext`], so neither the key id nor the
//! field's place can be changed without the tag failing.
//!
//! # Text form
//!
//! For text columns: `cst1.` followed by the binary envelope in unpadded
//! base64url. A 64-byte field becomes a 150-character string.
//!
//! ```
//! use custodia_core::TenantId;
//! use custodia_crypt::{FieldCipher, FieldContext, KeyId, SecretKey, envelope};
//!
//! let cipher = FieldCipher::new(KeyId::Tenant { version: 1 }, &SecretKey::generate()?)?;
//! let tenant = TenantId::from_external_key("crm", "ACME");
//! let ctx = FieldContext::new(tenant, "contact", "1017", "email")?;
//!
//! let sealed = cipher.seal(&ctx, b"alice@example.com")?;
//! let text = envelope::to_text(&sealed);
//! assert!(text.starts_with("cst1."));
//!
//! let back = envelope::from_text(&text)?;
//! assert_eq!(cipher.open(&ctx, &back)?, b"alice@example.com");
//!
//! // The same ciphertext pasted into another row does not decrypt.
//! let other_row = FieldContext::new(tenant, "contact", "1018", "email")?;
//! assert!(cipher.open(&other_row, &back).is_err());
//! # Ok::<(), custodia_crypt::Error>(())
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custodia_core::SubjectId;

use crate::context::FieldContext;
use crate::nonce::random_nonce;
use crate::provider::{AeadKey, CryptoProvider, NONCE_LEN, RING, TAG_LEN};
use crate::{Error, SecretKey};

/// The envelope format version this build writes.
pub const VERSION: u8 = 1;
/// Algorithm id of AES-256-GCM with a 96-bit nonce and a 128-bit tag.
pub const ALG_AES_256_GCM: u8 = 1;
/// The text form's prefix.
pub const TEXT_PREFIX: &str = "cst1.";
/// The largest plaintext one envelope holds (64 MiB): fields, not files.
pub const MAX_PLAINTEXT_LEN: usize = 64 << 20;
/// The largest envelope [`Envelope::decode`] accepts.
pub const MAX_ENVELOPE_LEN: usize = MAX_PLAINTEXT_LEN + MAX_HEADER_LEN + NONCE_LEN + TAG_LEN;

const KIND_TENANT: u8 = 1;
const KIND_SUBJECT: u8 = 2;
const MIN_HEADER_LEN: usize = 7;
const MAX_HEADER_LEN: usize = MIN_HEADER_LEN + 16;
/// The smallest valid envelope: a tenant-key header, a nonce and a tag.
pub const MIN_ENVELOPE_LEN: usize = MIN_HEADER_LEN + NONCE_LEN + TAG_LEN;

/// Which key sealed an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyId {
    /// A version of the tenant's data key.
    Tenant {
        /// The key version.
        version: u32,
    },
    /// A version of one data subject's own key (erasable by crypto-shredding).
    Subject {
        /// The person the key belongs to.
        subject: SubjectId,
        /// The key version.
        version: u32,
    },
}

impl KeyId {
    /// The key version.
    pub fn version(&self) -> u32 {
        match *self {
            KeyId::Tenant { version } | KeyId::Subject { version, .. } => version,
        }
    }

    #[cfg(feature = "proptest")]
    pub(crate) fn write_header(&self, out: &mut Vec<u8>) {
        let mut header = [0u8; MAX_HEADER_LEN];
        let len = self.encode_header(&mut header);
        out.extend_from_slice(&header[..len]);
    }

    /// Writes the envelope header into the front of `out`; returns its length.
    fn encode_header(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        let (kind, version) = match *self {
            KeyId::Tenant { version } => (KIND_TENANT, version),
            KeyId::Subject { version, .. } => (KIND_SUBJECT, version),
        };
        let [v0, v1, v2, v3] = version.to_be_bytes();
        out[..MIN_HEADER_LEN].copy_from_slice(&[VERSION, ALG_AES_256_GCM, kind, v0, v1, v2, v3]);
        match self {
            KeyId::Tenant { .. } => MIN_HEADER_LEN,
            KeyId::Subject { subject, .. } => {
                out[MIN_HEADER_LEN..].copy_from_slice(subject.as_bytes());
                MAX_HEADER_LEN
            }
        }
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyId::Tenant { version } => write!(f, "tenant/v{version}"),
            KeyId::Subject { subject, version } => write!(f, "subject/{subject}/v{version}"),
        }
    }
}

/// A decoded envelope: its key id and borrowed parts, ready to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    key: KeyId,
    header: &'a [u8],
    nonce: [u8; NONCE_LEN],
    body: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Parses the binary form. Never panics; every malformed input gets its own
    /// error.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_ENVELOPE_LEN {
            return Err(Error::Oversized {
                len: bytes.len(),
                max: MAX_ENVELOPE_LEN,
            });
        }
        let truncated = || Error::Truncated {
            len: bytes.len(),
            min: MIN_ENVELOPE_LEN,
        };
        let [version, algorithm, kind, v0, v1, v2, v3, rest @ ..] = bytes else {
            return Err(truncated());
        };
        if *version != VERSION {
            return Err(Error::UnsupportedVersion(*version));
        }
        if *algorithm != ALG_AES_256_GCM {
            return Err(Error::UnsupportedAlgorithm(*algorithm));
        }
        let key_version = u32::from_be_bytes([*v0, *v1, *v2, *v3]);
        let (key, rest) = match *kind {
            KIND_TENANT => (
                KeyId::Tenant {
                    version: key_version,
                },
                rest,
            ),
            KIND_SUBJECT => {
                let (subject, rest) = rest.split_first_chunk::<16>().ok_or_else(truncated)?;
                let subject = SubjectId::from_uuid(custodia_core::uuid::Uuid::from_bytes(*subject));
                let key = KeyId::Subject {
                    subject,
                    version: key_version,
                };
                (key, rest)
            }
            _ => return Err(Error::Malformed("unknown key kind")),
        };
        let header = &bytes[..bytes.len() - rest.len()];
        let (nonce, body) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or_else(truncated)?;
        if body.len() < TAG_LEN {
            return Err(truncated());
        }
        Ok(Self {
            key,
            header,
            nonce: *nonce,
            body,
        })
    }

    /// The key that sealed this envelope.
    pub fn key_id(&self) -> KeyId {
        self.key
    }

    /// Length of the plaintext inside.
    pub fn plaintext_len(&self) -> usize {
        self.body.len() - TAG_LEN
    }

    /// Decrypts with `key`, checking the tag against `ctx`.
    pub fn open(&self, key: &dyn AeadKey, ctx: &FieldContext<'_>) -> Result<Vec<u8>, Error> {
        let mut buffer = self.body.to_vec();
        let len = with_aad(ctx, self.header, |aad| {
            key.open_in_place(&self.nonce, aad, &mut buffer)
                .map(|p| p.len())
        })?;
        buffer.truncate(len);
        Ok(buffer)
    }
}

/// Seals `plaintext` for `ctx` under `key`, labelled as `key_id`.
pub fn seal(
    key: &dyn AeadKey,
    key_id: KeyId,
    ctx: &FieldContext<'_>,
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(sealed_len(plaintext.len()));
    seal_into(key, key_id, ctx, plaintext, &mut out)?;
    Ok(out)
}

/// The most bytes an envelope of a `plaintext_len`-byte plaintext takes (a
/// subject-key header is the longest).
pub fn sealed_len(plaintext_len: usize) -> usize {
    MAX_HEADER_LEN + NONCE_LEN + plaintext_len.saturating_add(TAG_LEN)
}

/// [`seal`], appending the envelope to `out`: a caller sealing many fields
/// reuses one buffer instead of allocating per field.
///
/// On error `out` is left as it was.
pub fn seal_into(
    key: &dyn AeadKey,
    key_id: KeyId,
    ctx: &FieldContext<'_>,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(Error::PlaintextTooLarge {
            len: plaintext.len(),
            max: MAX_PLAINTEXT_LEN,
        });
    }
    // Header and nonce are built on the stack and copied once; the output is
    // sized exactly, so the tag never reallocates.
    let mut head = [0u8; MAX_HEADER_LEN];
    let header_len = key_id.encode_header(&mut head);
    let header = &head[..header_len];
    let nonce = random_nonce()?;
    let start = out.len();
    // A no-op when the caller sized `out` (`seal`, a reused buffer).
    out.reserve_exact(header_len + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(header);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let body = &mut out[start + header_len + NONCE_LEN..];
    match with_aad(ctx, header, |aad| key.seal_in_place(&nonce, aad, body)) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(())
        }
        Err(e) => {
            // Never leave a plaintext copy behind.
            zeroize::Zeroize::zeroize(&mut out[start..]);
            out.truncate(start);
            Err(e)
        }
    }
}

/// Associated data up to this length is built on the stack; only unusually
/// long record types, ids or field names need a heap buffer.
const STACK_AAD_LEN: usize = 160;

/// Runs `f` with the associated data of `ctx` and `header`.
fn with_aad<T>(
    ctx: &FieldContext<'_>,
    header: &[u8],
    f: impl FnOnce(&[u8]) -> Result<T, Error>,
) -> Result<T, Error> {
    let len = ctx.aad_len(header.len());
    if len <= STACK_AAD_LEN {
        let mut buffer = [0u8; STACK_AAD_LEN];
        let len = ctx.write_aad(header, &mut buffer);
        f(&buffer[..len])
    } else {
        let mut buffer = vec![0u8; len];
        let len = ctx.write_aad(header, &mut buffer);
        f(&buffer[..len])
    }
}

/// The text form of an envelope: `cst1.` + unpadded base64url.
pub fn to_text(envelope: &[u8]) -> String {
    let mut text = String::with_capacity(TEXT_PREFIX.len() + envelope.len().div_ceil(3) * 4);
    text.push_str(TEXT_PREFIX);
    URL_SAFE_NO_PAD.encode_string(envelope, &mut text);
    text
}

/// Parses the text form back to the binary envelope.
pub fn from_text(text: &str) -> Result<Vec<u8>, Error> {
    let encoded = text
        .strip_prefix(TEXT_PREFIX)
        .ok_or(Error::Malformed("text ciphertext must start with cst1."))?;
    if encoded.len() > MAX_ENVELOPE_LEN.div_ceil(3) * 4 {
        return Err(Error::Oversized {
            len: encoded.len() / 4 * 3,
            max: MAX_ENVELOPE_LEN,
        });
    }
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Error::Malformed("invalid base64url after cst1."))
}

/// One key version, expanded once, sealing and opening field envelopes.
///
/// The building block of the keyring; usable on its own where one key is enough.
pub struct FieldCipher {
    key_id: KeyId,
    key: Box<dyn AeadKey>,
}

impl FieldCipher {
    /// A cipher for `key`, labelled `key_id`, on the default (ring) provider.
    pub fn new(key_id: KeyId, key: &SecretKey) -> Result<Self, Error> {
        Self::with_provider(&RING, key_id, key)
    }

    /// A cipher for `key` on a chosen provider.
    pub fn with_provider(
        provider: &dyn CryptoProvider,
        key_id: KeyId,
        key: &SecretKey,
    ) -> Result<Self, Error> {
        Ok(Self {
            key_id,
            key: provider.aes_256_gcm(key)?,
        })
    }

    /// The key id this cipher writes into envelopes.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Encrypts `plaintext` for `ctx` into a binary envelope.
    pub fn seal(&self, ctx: &FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        seal(self.key.as_ref(), self.key_id, ctx, plaintext)
    }

    /// [`FieldCipher::seal`], appending the envelope to `out` (reuse one
    /// buffer across fields to save an allocation each). On error `out` is
    /// left as it was.
    ///
    /// ```
    /// use custodia_core::TenantId;
    /// use custodia_crypt::{FieldCipher, FieldContext, KeyId, SecretKey};
    ///
    /// let cipher = FieldCipher::new(KeyId::Tenant { version: 1 }, &SecretKey::generate()?)?;
    /// let tenant = TenantId::from_external_key("crm", "ACME");
    /// let mut buffer = Vec::with_capacity(256);
    /// for (id, body) in [("T-1", "printer on fire"), ("T-2", "VPN down")] {
    ///     let ctx = FieldContext::new(tenant, "ticket", id, "body")?;
    ///     buffer.clear();
    ///     cipher.seal_into(&ctx, body.as_bytes(), &mut buffer)?;
    ///     // ... write `buffer` to the row ...
    ///     assert_eq!(cipher.open(&ctx, &buffer)?, body.as_bytes());
    /// }
    /// # Ok::<(), custodia_crypt::Error>(())
    /// ```
    pub fn seal_into(
        &self,
        ctx: &FieldContext<'_>,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        seal_into(self.key.as_ref(), self.key_id, ctx, plaintext, out)
    }

    /// Decrypts a binary envelope sealed by this key for `ctx`.
    pub fn open(&self, ctx: &FieldContext<'_>, envelope: &[u8]) -> Result<Vec<u8>, Error> {
        let envelope = Envelope::decode(envelope)?;
        if envelope.key_id() != self.key_id {
            return Err(Error::UnknownKey(envelope.key_id()));
        }
        envelope.open(self.key.as_ref(), ctx)
    }
}

impl fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldCipher")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
