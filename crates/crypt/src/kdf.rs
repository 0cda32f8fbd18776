//! HKDF-SHA256 (RFC 5869), the one way Custodia derives keys from keys.
//!
//! Blind-index and deterministic-encryption keys are derived from a tenant's
//! master key rather than stored, so one key per tenant is enough and each
//! purpose, record type and field still gets an independent key. The
//! derivation context ("info") is an unambiguous encoding built by
//! [`field_info`]: every part, the purpose label included, is prefixed by its
//! length as a 4-byte big-endian integer, so no two contexts encode alike.

use custodia_core::TenantId;
use ring::hkdf::{HKDF_SHA256, KeyType, Salt};
use zeroize::Zeroizing;

use crate::context::MAX_CONTEXT_PART;
use crate::{Error, SecretKey};

/// The most output HKDF-SHA256 can give: 255 blocks of 32 bytes.
pub(crate) const MAX_OUTPUT_LEN: usize = 255 * 32;

/// An output length, as ring's `expand` wants it.
struct OutputLen(usize);

impl KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// Fills `out` with HKDF-SHA256(`ikm`, `salt`, `info`), where `info` is the
/// concatenation of its parts.
///
/// An empty salt is allowed and means 32 zero bytes (RFC 5869 §2.2). Fails
/// with [`Error::KdfOutputTooLong`] if `out` is longer than
/// [`MAX_OUTPUT_LEN`].
pub(crate) fn hkdf_sha256(
    ikm: &[u8],
    salt: &[u8],
    info: &[&[u8]],
    out: &mut [u8],
) -> Result<(), Error> {
    let len = out.len();
    let too_long = move || Error::KdfOutputTooLong {
        len,
        max: MAX_OUTPUT_LEN,
    };
    // ring enforces the same limit; checking first keeps the error precise.
    if out.len() > MAX_OUTPUT_LEN {
        return Err(too_long());
    }
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let okm = prk
        .expand(info, OutputLen(out.len()))
        .map_err(|_| too_long())?;
    okm.fill(out).map_err(|_| too_long())
}

/// A 32-byte key derived from `ikm` with HKDF-SHA256.
pub(crate) fn derive_key(ikm: &SecretKey, salt: &[u8], info: &[&[u8]]) -> Result<SecretKey, Error> {
    let mut bytes = Zeroizing::new([0u8; SecretKey::LEN]);
    hkdf_sha256(ikm.expose_secret(), salt, info, bytes.as_mut())?;
    Ok(SecretKey::from_bytes(*bytes))
}

/// The HKDF info for a key bound to one field of one record type of one
/// tenant: `len ‖ label ‖ len ‖ tenant ‖ len ‖ record_type ‖ len ‖ field`,
/// each `len` a 4-byte big-endian byte count and `tenant` the 16 UUID bytes.
///
/// Record type and field must be non-empty and at most [`MAX_CONTEXT_PART`]
/// bytes, as in a [`FieldContext`](crate::FieldContext).
pub(crate) fn field_info(
    label: &[u8],
    tenant: TenantId,
    record_type: &str,
    field: &str,
) -> Result<Vec<u8>, Error> {
    check_part(record_type, "empty record type", "record type too long")?;
    check_part(field, "empty field name", "field name too long")?;
    Ok(length_prefixed(&[
        label,
        tenant.as_bytes(),
        record_type.as_bytes(),
        field.as_bytes(),
    ]))
}

/// Concatenates `parts`, each preceded by its length as a 4-byte big-endian
/// integer: the one unambiguous encoding of HKDF info in Custodia.
///
/// Callers pass labels, UUIDs, versions and context parts bounded by
/// [`MAX_CONTEXT_PART`], all far below 4 GiB.
pub(crate) fn length_prefixed(parts: &[&[u8]]) -> Vec<u8> {
    let mut info = Vec::with_capacity(parts.iter().map(|p| 4 + p.len()).sum());
    for part in parts {
        info.extend_from_slice(&(part.len() as u32).to_be_bytes());
        info.extend_from_slice(part);
    }
    info
}

fn check_part(part: &str, empty: &'static str, long: &'static str) -> Result<(), Error> {
    if part.is_empty() {
        return Err(Error::InvalidContext(empty));
    }
    if part.len() > MAX_CONTEXT_PART {
        return Err(Error::InvalidContext(long));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    const WYCHEPROOF: &str = include_str!("../testdata/hkdf_sha256_test.json");

    fn field<'a>(test: &'a Value, name: &str) -> &'a Value {
        test.get(name)
            .unwrap_or_else(|| panic!("vector lacks {name}: {test}"))
    }

    fn hex_field(test: &Value, name: &str) -> Vec<u8> {
        hex::decode(field(test, name).as_str().unwrap()).unwrap()
    }

    /// Runs one vector; returns whether it was valid.
    fn check_vector(test: &Value) -> bool {
        let id = field(test, "tcId");
        let size = usize::try_from(field(test, "size").as_u64().unwrap()).unwrap();
        let mut out = vec![0u8; size];
        let result = hkdf_sha256(
            &hex_field(test, "ikm"),
            &hex_field(test, "salt"),
            &[&hex_field(test, "info")],
            &mut out,
        );
        match field(test, "result").as_str().unwrap() {
            "valid" => {
                assert_eq!(result, Ok(()), "tcId {id}");
                assert_eq!(out, hex_field(test, "okm"), "tcId {id}");
                true
            }
            "invalid" => {
                assert_eq!(
                    result,
                    Err(Error::KdfOutputTooLong {
                        len: size,
                        max: MAX_OUTPUT_LEN
                    }),
                    "tcId {id}"
                );
                false
            }
            other => panic!("tcId {id}: unexpected result {other}"),
        }
    }

    #[test]
    fn wycheproof_hkdf_sha256() {
        let (valid, invalid) =
            crate::wycheproof::tally(WYCHEPROOF, "HKDF-SHA-256", |_| {}, check_vector);
        assert_eq!((valid, invalid), (83, 3));
    }

    #[test]
    fn rfc5869_case_1_with_split_info() {
        let ikm = [0x0b; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let mut out = [0u8; 42];
        hkdf_sha256(
            &ikm,
            &salt,
            &[b"\xf0\xf1\xf2", b"", b"\xf3\xf4\xf5\xf6\xf7\xf8\xf9"],
            &mut out,
        )
        .unwrap();
        let okm =
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
        assert_eq!(hex::encode(out), okm);
    }

    #[test]
    fn output_limits() {
        let mut max = vec![0u8; MAX_OUTPUT_LEN];
        assert_eq!(hkdf_sha256(b"k", b"", &[], &mut max), Ok(()));
        let mut over = vec![0u8; MAX_OUTPUT_LEN + 1];
        assert!(matches!(
            hkdf_sha256(b"k", b"", &[], &mut over),
            Err(Error::KdfOutputTooLong { len, max: MAX_OUTPUT_LEN }) if len == MAX_OUTPUT_LEN + 1
        ));
        assert_eq!(hkdf_sha256(b"k", b"", &[], &mut []), Ok(()));
    }

    #[test]
    fn derive_key_matches_hkdf_and_separates_info() {
        let master = SecretKey::from_bytes([7; 32]);
        let derived = derive_key(&master, b"salt", &[b"a", b"b"]).unwrap();
        let mut expected = [0u8; 32];
        hkdf_sha256(&[7; 32], b"salt", &[b"ab"], &mut expected).unwrap();
        assert_eq!(derived.expose_secret(), &expected);
        assert_ne!(derived, derive_key(&master, b"salt", &[b"ac"]).unwrap());
    }

    #[test]
    fn field_info_is_length_prefixed_and_validated() {
        let tenant = TenantId::from_uuid(custodia_core::uuid::Uuid::from_u128(1));
        let info = field_info(b"L", tenant, "ab", "c").unwrap();
        let mut expected = vec![0, 0, 0, 1, b'L', 0, 0, 0, 16];
        expected.extend_from_slice(tenant.as_bytes());
        expected.extend_from_slice(&[0, 0, 0, 2, b'a', b'b', 0, 0, 0, 1, b'c']);
        assert_eq!(info, expected);
        // Moving a byte between parts changes the encoding.
        assert_ne!(info, field_info(b"L", tenant, "a", "bc").unwrap());
        assert_eq!(
            field_info(b"L", tenant, "", "c"),
            Err(Error::InvalidContext("empty record type"))
        );
        assert_eq!(
            field_info(b"L", tenant, "a", ""),
            Err(Error::InvalidContext("empty field name"))
        );
        let long = "x".repeat(MAX_CONTEXT_PART + 1);
        assert!(field_info(b"L", tenant, &long, "c").is_err());
        assert!(field_info(b"L", tenant, "a", &long).is_err());
    }
}
