//! Blind indexes: equality search over encrypted fields.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use custodia_core::TenantId;
use ring::hmac;
use subtle::ConstantTimeEq;

use crate::{Error, SecretKey, kdf};

/// Domain separation for blind-index keys.
const LABEL: &[u8] = b"custodia/blind-index/v1";

/// How a value is canonicalised before it is hashed.
///
/// Normalisation decides which spellings find each other: the index only
/// ever sees the normalised form. Pick it per field and never change it
/// without re-indexing: switching an existing index to another variant
/// changes the tokens of every value it normalises differently, so stored
/// tokens must be recomputed from the plaintexts (decrypt, compute, store)
/// before lookups use the new one.
///
/// **Which to pick.** For names, e-mail addresses and any other text people
/// type, [`Normalization::Caseless`]: it is the only one under which a
/// composed `é` (U+00E9) finds a decomposed one (`e` + U+0301), `Straße`
/// finds `STRASSE`, `ΟΔΟΣ` finds `οδός`'s final `ς`, and full-width `Ａｌｉｃｅ`
/// finds `alice`. [`Normalization::Lowercase`] and [`Normalization::Email`]
/// are kept because tokens already stored under them must not change; they
/// do none of this. [`Normalization::Digits`] for phone numbers,
/// [`Normalization::None`] for identifiers that are compared exactly.
#[derive(Debug, Clone, Copy, Default)]
pub enum Normalization {
    /// The value as given, byte for byte.
    #[default]
    None,
    /// Leading and trailing Unicode white space removed.
    Trim,
    /// Unicode lower case (full case mapping, so `ẞ` becomes `ß`). No Unicode
    /// normalisation or case folding: prefer [`Normalization::Caseless`] for
    /// a new index.
    Lowercase,
    /// An e-mail address: trimmed and lower-cased as a whole. Strictly the
    /// local part is case-sensitive, but no real mail system treats it so.
    /// Provider-specific rules (dots and `+tags` at Gmail) are not applied.
    /// No Unicode normalisation or case folding: for a new index prefer
    /// [`Normalization::Caseless`], which gives the same tokens on ASCII
    /// addresses and also matches internationalised ones.
    Email,
    /// Only the ASCII digits, in order: `+1 (555) 010-9999` becomes
    /// `15550109999`. For phone numbers and other numeric identifiers.
    Digits,
    /// A caller-supplied function. It must be deterministic and should be
    /// idempotent (normalising twice changes nothing).
    Custom(fn(&str) -> String),
    /// Unicode compatibility caseless matching, for names, e-mail addresses
    /// and free text: NFKC, full case folding, NFKC, folding and NFKC once
    /// more (the steps of the Unicode Standard's compatibility caseless
    /// match, D146, with NFKC in place of NFKD so that the result is also
    /// composed), then leading and trailing white space removed. Idempotent:
    /// a normalised value normalises to itself.
    ///
    /// So `é` composed and decomposed, `ß`, `ẞ`, `ss` and `SS`, `ς`, `σ` and
    /// `Σ`, full-width and ordinary letters, and ligatures such as `ﬁ` and
    /// `fi` find each other. On ASCII-only text it equals
    /// [`Normalization::Email`] (trimmed, lower-cased), so an ASCII value's
    /// token is the same under both.
    ///
    /// Folding is Unicode's default (CaseFolding.txt statuses C and F,
    /// Unicode 16, from the `caseless` crate), not locale-specific: Turkish
    /// dotless `ı` does not match `I`. NFKC also equates look-alikes that
    /// are compatibility variants (`²` and `2`, `ℌ` and `h`), which widens
    /// equality a little further.
    ///
    /// Default-ignorable code points are removed first, as Unicode's
    /// `NFKC_Casefold` removes them: zero-width space, joiner and non-joiner,
    /// soft hyphen, word joiner, byte-order mark, bidirectional controls,
    /// variation selectors, tag characters and the rest of
    /// `Default_Ignorable_Code_Point`. They are invisible, so `a\u{200B}lice`
    /// (pasted from a web page, or typed to dodge a search) finds `alice`.
    Caseless,
}

impl Normalization {
    /// The normalised form of `value`, borrowed where nothing changes.
    pub fn apply<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match self {
            Self::None => Cow::Borrowed(value),
            Self::Trim => Cow::Borrowed(value.trim()),
            Self::Lowercase => Cow::Owned(value.to_lowercase()),
            Self::Email => Cow::Owned(value.trim().to_lowercase()),
            Self::Digits if value.bytes().all(|b| b.is_ascii_digit()) => Cow::Borrowed(value),
            Self::Digits => Cow::Owned(value.chars().filter(char::is_ascii_digit).collect()),
            Self::Custom(normalize) => Cow::Owned(normalize(value)),
            Self::Caseless => caseless(value),
        }
    }
}

/// Whether `c` is a `Default_Ignorable_Code_Point` (Unicode 16.0,
/// DerivedCoreProperties.txt, 4,174 code points; the set has not changed
/// since Unicode 14). Derived there as Other_Default_Ignorable_Code_Point
/// (PropList.txt: U+034F, U+115F..1160, U+17B4..17B5, U+2065, U+3164,
/// U+FFA0, U+FFF0..FFF8, U+E0000, U+E0002..E001F, U+E0080..E00FF,
/// U+E01F0..E0FFF) + general category Cf + Variation_Selector (U+180B..180D,
/// U+180F, U+FE00..FE0F, U+E0100..E01EF) − White_Space − U+FFF9..FFFB
/// (interlinear annotation) − U+13430..1343F (Egyptian hieroglyph format
/// controls) − Prepended_Concatenation_Mark (U+0600..0605, U+06DD, U+070F,
/// U+0890..0891, U+08E2, U+110BD, U+110CD). Adjacent ranges are merged
/// below; the tests check each range against that derivation.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{34F}'
            | '\u{61C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// [`Normalization::Caseless`]: default ignorables removed, then NFKC, fold,
/// NFKC, fold, NFKC, trim.
fn caseless(value: &str) -> Cow<'_, str> {
    use caseless::Caseless as _;
    use unicode_normalization::UnicodeNormalization as _;
    // ASCII is NFKC already and folds to its lower case: the common case
    // costs no allocation unless there is an upper-case letter.
    if value.is_ascii() {
        let trimmed = value.trim();
        return if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(trimmed.to_ascii_lowercase())
        } else {
            Cow::Borrowed(trimmed)
        };
    }
    // The compatibility caseless match of the Unicode Standard (D146) folds
    // twice because normalising can uncover what folds again. NFKC first
    // already reorders marks such as U+0345 before folding, and the tests
    // find one round a fixed point for every single character; the second
    // round is cheap cover for sequences no test reaches.
    //
    // Default ignorables go first, as in NFKC_Casefold, so that what they
    // separated composes (`e`, U+200B, U+0301 is `é`) and white space they
    // hid is trimmed. No other character normalises or folds to one (the
    // exhaustive idempotence test would see it), so the output has none.
    let visible = value.chars().filter(|&c| !is_default_ignorable(c));
    let once: String = visible.nfkc().default_case_fold().nfkc().collect();
    let twice: String = once.chars().default_case_fold().nfkc().collect();
    Cow::Owned(twice.trim().to_owned())
}

/// The shape of a blind index: token length and normalisation.
#[derive(Debug, Clone, Copy)]
pub struct BlindIndexConfig {
    /// Token length in bytes, from [`BlindToken::MIN_LEN`] (4) to
    /// [`BlindToken::MAX_LEN`] (32); default 16. Shorter tokens leak less and
    /// match more rows falsely (see [`BlindIndex`]).
    pub output_len: usize,
    /// How values are canonicalised first; default [`Normalization::None`].
    pub normalize: Normalization,
}

impl BlindIndexConfig {
    /// The default token length: 16 bytes, 32 hex digits.
    pub const DEFAULT_OUTPUT_LEN: usize = 16;

    /// Checks that the token length is within 4..=32 bytes.
    pub fn validate(&self) -> Result<(), Error> {
        if (BlindToken::MIN_LEN..=BlindToken::MAX_LEN).contains(&self.output_len) {
            Ok(())
        } else {
            Err(Error::InvalidConfig(
                "blind index output length must be 4 to 32 bytes",
            ))
        }
    }
}

impl Default for BlindIndexConfig {
    fn default() -> Self {
        Self {
            output_len: Self::DEFAULT_OUTPUT_LEN,
            normalize: Normalization::None,
        }
    }
}

/// A searchable blind index for one field of one record type of one tenant.
///
/// Cheap to clone and safe to share between threads.
///
/// Blind indexes: equality search over encrypted fields.
///
/// A field sealed in a random-nonce [envelope](crate::envelope) cannot be
/// searched: the same e-mail address encrypts differently every time. A blind
/// index stores, next to the ciphertext, a [`BlindToken`]: the HMAC-SHA256 of
/// the normalised plaintext, truncated to a few bytes. To look a value up,
/// compute its token, select the rows carrying that token, then decrypt those
/// candidates and compare the plaintexts, because truncation produces false
/// positives on purpose.
///
/// Get an index from [`Keyring::blind_index`](crate::Keyring::blind_index),
/// which keys it with the tenant's rotation-stable search key (tokens never
/// change when data keys rotate), or build one over a key of your own with
/// [`BlindIndex::new`].
///
/// The key design decision is one HMAC key per tenant, record type and field,
/// derived from the caller's key rather than stored: tokens of two tenants, or
/// of two columns of one tenant, are unrelated, so they cannot be joined with
/// each other. [`BlindIndex::new`] derives the key and computes the HMAC key
/// schedule once, so [`BlindIndex::compute`] costs one HMAC.
///
/// # What a blind index leaks
///
/// Blind indexes trade confidentiality for searchability. Whoever can read the
/// tokens, but holds no key, learns:
///
/// * **Equality within one tenant and field.** Two rows with the same token
///   very probably hold the same (normalised) value. Normalisation widens this:
///   with [`Normalization::Email`], `Alice@Example.com` and `alice@example.com`
///   are one value.
/// * **Frequencies.** Counting tokens shows how often each value occurs; with
///   outside knowledge of the distribution (the commonest surname, the
///   commonest country code) the most frequent tokens can often be named.
///   Low-entropy fields (a yes/no flag, a birth year) should not be indexed.
/// * **Changes over time.** Comparing snapshots shows which rows changed value
///   and which rows came to share a value.
///
/// It does not leak the length of the value (every token has the configured
/// length), nor anything across tenants or fields, nor anything at all to
/// whoever lacks the key, since HMAC-SHA256 is a pseudorandom function.
///
/// **Truncation.** Like the beacons of the AWS Database Encryption SDK, a token
/// is deliberately short ([`BlindIndexConfig::output_len`], 4 to 32 bytes), so
/// that distinct values can share a token. With `b`-byte tokens and `N` rows in
/// a tenant's column, a lookup matches on average `N / 2^(8b)` rows that do
/// not hold the value: for 4-byte tokens, `N / 2^32` false matches per lookup.
/// Callers must therefore decrypt every candidate and compare. Note how little
/// cover this gives in practice: unless a column holds billions of distinct
/// values, even 4-byte tokens rarely collide, and equality and frequencies leak
/// almost fully. Shorter tokens blur them more; longer ones cost storage and
/// buy nothing but fewer false matches.
///
/// # Key derivation
///
/// The HMAC key is HKDF-SHA256 of the caller's key, with an empty salt (the key
/// is uniformly random) and as info the length-prefixed parts
/// `"custodia/blind-index/v1"`, the tenant's 16 UUID bytes, the record type
/// and the field name (each part preceded by its length as a 4-byte
/// big-endian integer). The record id is not and cannot be bound: a token must
/// be the same in every row. The configuration is not bound either, so a
/// shorter token is a prefix of a longer one for the same value. Tokens are
/// stored data: changing this derivation, or a field's normalisation, means
/// re-indexing.
///
/// # Example
///
/// ```
/// use custodia_core::TenantId;
/// use custodia_crypt::SecretKey;
/// use custodia_crypt::{BlindIndex, BlindIndexConfig, BlindToken, Normalization};
///
/// let key = SecretKey::generate()?;
/// let acme = TenantId::from_external_key("crm", "ACME");
/// let config = BlindIndexConfig { output_len: 8, normalize: Normalization::Email };
/// let index = BlindIndex::new(&key, acme, "contact", "email", config)?;
///
/// // Store the token beside the encrypted address...
/// let token = index.compute(" Alice@Example.COM");
/// assert_eq!(token.as_bytes().len(), 8);
/// let stored = token.to_string(); // 16 hex digits
///
/// // ...and find the row again by any spelling that normalises alike. A match
/// // is a candidate: decrypt it and compare before trusting it.
/// let stored: BlindToken = stored.parse()?;
/// assert!(index.matches("alice@example.com", &stored));
/// assert!(!index.matches("bob@example.com", &stored));
///
/// // Another tenant's index gives an unrelated token for the same address.
/// let globex = TenantId::from_external_key("crm", "Globex");
/// let other = BlindIndex::new(&key, globex, "contact", "email", config)?;
/// assert_ne!(other.compute("alice@example.com"), token);
/// # Ok::<(), custodia_crypt::Error>(())
/// ```
#[derive(Clone)]
pub struct BlindIndex {
    key: hmac::Key,
    len: u8,
    tenant: TenantId,
    record_type: Box<str>,
    field: Box<str>,
    config: BlindIndexConfig,
}

impl BlindIndex {
    /// An index for `field` of `record_type` in `tenant`, keyed by a key
    /// derived from `key` (see [`BlindIndex`]).
    ///
    /// `key` may be a key reserved for indexing or the tenant's data key: the
    /// derivation keeps the two uses independent. Fails if the configuration
    /// is out of range, or if the record type or field is empty or longer than
    /// [`MAX_CONTEXT_PART`](crate::MAX_CONTEXT_PART) bytes.
    pub fn new(
        key: &SecretKey,
        tenant: TenantId,
        record_type: &str,
        field: &str,
        config: BlindIndexConfig,
    ) -> Result<Self, Error> {
        config.validate()?;
        let len = u8::try_from(config.output_len)
            .map_err(|_| Error::InvalidConfig("blind index output length must be 4 to 32 bytes"))?;
        let info = kdf::field_info(LABEL, tenant, record_type, field)?;
        // The derived bytes are wiped when `derived` drops; ring keeps only
        // the HMAC inner and outer states.
        let derived = kdf::derive_key(key, &[], &[&info])?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.expose_secret()),
            len,
            tenant,
            record_type: record_type.into(),
            field: field.into(),
            config,
        })
    }

    /// The token of `value`, after normalisation.
    pub fn compute(&self, value: &str) -> BlindToken {
        let normalized = self.config.normalize.apply(value);
        let tag = hmac::sign(&self.key, normalized.as_bytes());
        BlindToken::prefix_of(tag.as_ref(), self.len)
    }

    /// Whether `value` has the token `token`, compared in constant time.
    ///
    /// `true` means "candidate", not "equal": decrypt the row and compare.
    pub fn matches(&self, value: &str, token: &BlindToken) -> bool {
        self.compute(value)
            .as_bytes()
            .ct_eq(token.as_bytes())
            .into()
    }

    crate::context::column_accessors!("index");

    /// The token length and normalisation.
    pub fn config(&self) -> &BlindIndexConfig {
        &self.config
    }
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindIndex")
            .field("tenant", &self.tenant)
            .field("record_type", &self.record_type)
            .field("field", &self.field)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A blind-index token: 4 to 32 bytes, written as lower-case hex.
///
/// Not secret (it is stored in the clear) but not meaningless either: see
/// what tokens leak in the [`BlindIndex`] documentation. Equality is
/// constant-time. Parses from hex in either case; with serde it
/// serialises as its hex string.
#[derive(Clone, Copy)]
pub struct BlindToken {
    // Bytes past `len` are always zero.
    bytes: [u8; BlindToken::MAX_LEN],
    len: u8,
}

impl BlindToken {
    /// The shortest token, in bytes.
    pub const MIN_LEN: usize = 4;
    /// The longest token (a whole HMAC-SHA256), in bytes.
    pub const MAX_LEN: usize = 32;

    /// A token from its bytes, e.g. as read from a binary column.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let len = u8::try_from(bytes.len())
            .ok()
            .filter(|len| (Self::MIN_LEN..=Self::MAX_LEN).contains(&usize::from(*len)))
            .ok_or(Error::InvalidToken("must be 4 to 32 bytes"))?;
        Ok(Self::prefix_of(bytes, len))
    }

    /// The token's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The first `len` bytes of `bytes`; `len` is at most `MAX_LEN`.
    fn prefix_of(bytes: &[u8], len: u8) -> Self {
        let mut out = [0u8; Self::MAX_LEN];
        for (dst, src) in out.iter_mut().zip(bytes).take(usize::from(len)) {
            *dst = *src;
        }
        Self { bytes: out, len }
    }
}

impl PartialEq for BlindToken {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl Eq for BlindToken {}

impl Hash for BlindToken {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl AsRef<[u8]> for BlindToken {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl TryFrom<&[u8]> for BlindToken {
    type Error = Error;

    fn try_from(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_slice(bytes)
    }
}

impl fmt::Display for BlindToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_bytes()
            .iter()
            .try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for BlindToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlindToken({self})")
    }
}

impl FromStr for BlindToken {
    type Err = Error;

    /// Parses 8 to 64 hex digits, in upper or lower case.
    fn from_str(text: &str) -> Result<Self, Error> {
        // Working on bytes keeps multi-byte characters from splitting a pair.
        let digits = text.as_bytes();
        if !(2 * Self::MIN_LEN..=2 * Self::MAX_LEN).contains(&digits.len()) {
            return Err(Error::InvalidToken("must be 8 to 64 hex digits"));
        }
        if !digits.len().is_multiple_of(2) {
            return Err(Error::InvalidToken("odd number of hex digits"));
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            if let [high, low] = *pair {
                *byte = (nibble(high)? << 4) | nibble(low)?;
            }
        }
        Self::from_slice(&bytes[..digits.len() / 2])
    }
}

fn nibble(digit: u8) -> Result<u8, Error> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(Error::InvalidToken("not a hex digit")),
    }
}

mod serde_impls {
    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, Visitor};
    use serde::{Serialize, Serializer};

    use super::BlindToken;

    impl Serialize for BlindToken {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(self)
        }
    }

    impl<'de> Deserialize<'de> for BlindToken {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_str(HexVisitor)
        }
    }

    struct HexVisitor;

    impl Visitor<'_> for HexVisitor {
        type Value = BlindToken;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a blind token as 8 to 64 hex digits")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<BlindToken, E> {
            text.parse().map_err(E::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use custodia_core::uuid::Uuid;
    use proptest::prelude::*;

    use super::*;

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(Uuid::from_u128(n))
    }

    fn key() -> SecretKey {
        SecretKey::from_bytes([0x42; 32])
    }

    fn index(tenant: TenantId, field: &str, config: BlindIndexConfig) -> BlindIndex {
        BlindIndex::new(&key(), tenant, "contact", field, config).unwrap()
    }

    fn full(normalize: Normalization) -> BlindIndexConfig {
        BlindIndexConfig {
            output_len: 32,
            normalize,
        }
    }

    /// Pins the derivation: tokens are stored, so they must never change.
    /// Computed independently with Python's `hmac` and `hashlib`.
    #[test]
    fn known_answer() {
        let index = index(tenant(1), "email", BlindIndexConfig::default());
        assert_eq!(
            index.compute("alice@example.com").to_string(),
            "1ef70b6717a677f4437b3f9b43b55f7c"
        );
    }

    #[test]
    fn tenant_record_type_and_field_separate_tokens() {
        let config = full(Normalization::None);
        let base = index(tenant(1), "email", config).compute("alice@example.com");
        let other_tenant = index(tenant(2), "email", config).compute("alice@example.com");
        let other_field = index(tenant(1), "phone", config).compute("alice@example.com");
        let other_type = BlindIndex::new(&key(), tenant(1), "agent", "email", config)
            .unwrap()
            .compute("alice@example.com");
        let other_key = BlindIndex::new(
            &SecretKey::from_bytes([1; 32]),
            tenant(1),
            "contact",
            "email",
            config,
        )
        .unwrap()
        .compute("alice@example.com");
        for token in [other_tenant, other_field, other_type, other_key] {
            assert_ne!(token, base);
        }
    }

    #[test]
    fn length_prefixes_keep_contexts_apart() {
        let config = full(Normalization::None);
        let a = BlindIndex::new(&key(), tenant(1), "ab", "c", config).unwrap();
        let b = BlindIndex::new(&key(), tenant(1), "a", "bc", config).unwrap();
        assert_ne!(a.compute("x"), b.compute("x"));
    }

    #[test]
    fn config_bounds() {
        for (output_len, ok) in [
            (0, false),
            (3, false),
            (4, true),
            (16, true),
            (32, true),
            (33, false),
            (300, false),
        ] {
            let config = BlindIndexConfig {
                output_len,
                ..BlindIndexConfig::default()
            };
            let built = BlindIndex::new(&key(), tenant(1), "contact", "email", config);
            assert_eq!(built.is_ok(), ok, "{output_len}");
            if !ok {
                assert!(matches!(built, Err(Error::InvalidConfig(_))));
            }
        }
    }

    #[test]
    fn context_is_validated() {
        let config = BlindIndexConfig::default();
        assert!(matches!(
            BlindIndex::new(&key(), tenant(1), "", "email", config),
            Err(Error::InvalidContext(_))
        ));
        assert!(matches!(
            BlindIndex::new(&key(), tenant(1), "contact", "", config),
            Err(Error::InvalidContext(_))
        ));
    }

    #[test]
    fn normalizations() {
        let cases = [
            (Normalization::None, " A b ", " A b "),
            (Normalization::Trim, " \tA b\n", "A b"),
            (Normalization::Lowercase, " ÀB ", " àb "),
            (
                Normalization::Email,
                "  Alice@Example.COM ",
                "alice@example.com",
            ),
            (Normalization::Digits, "+1 (555) 010-9999", "15550109999"),
            (Normalization::Digits, "٣ 12", "12"),
            (
                Normalization::Custom(|v| v.replace('-', "")),
                "a-b-c",
                "abc",
            ),
            (
                Normalization::Caseless,
                " \tAlice@Example.COM\n",
                "alice@example.com",
            ),
            (Normalization::Caseless, "Straße", "strasse"),
            (Normalization::Caseless, "\u{3000}Ａｌｉｃｅ ", "alice"),
        ];
        for (normalization, input, expected) in cases {
            assert_eq!(normalization.apply(input), expected, "{normalization:?}");
        }
    }

    #[test]
    fn normalization_decides_matches() {
        let email = index(tenant(1), "email", BlindIndexConfig::default());
        assert!(!email.matches("Alice@example.com", &email.compute("alice@example.com")));
        let config = BlindIndexConfig {
            normalize: Normalization::Email,
            ..BlindIndexConfig::default()
        };
        let email = index(tenant(1), "email", config);
        assert!(email.matches(" Alice@EXAMPLE.com", &email.compute("alice@example.com")));
    }

    /// A `Caseless` index of names, default token length.
    fn caseless_names() -> BlindIndex {
        let config = BlindIndexConfig {
            normalize: Normalization::Caseless,
            ..BlindIndexConfig::default()
        };
        index(tenant(1), "name", config)
    }

    /// Every spelling of a group normalises as the group's first does, gets
    /// its token, and is matched by it.
    fn assert_each_group_one_token(names: &BlindIndex, groups: &[&[&str]]) {
        for group in groups {
            let first = names.compute(group[0]);
            for spelling in *group {
                assert_eq!(
                    Normalization::Caseless.apply(spelling),
                    Normalization::Caseless.apply(group[0]),
                    "{spelling:?} vs {:?}",
                    group[0]
                );
                assert_eq!(
                    names.compute(spelling),
                    first,
                    "{spelling:?} vs {:?}",
                    group[0]
                );
                assert!(names.matches(spelling, &first), "{spelling:?}");
            }
        }
    }

    /// The spellings that `Lowercase` and `Email` keep apart and
    /// `Caseless` brings together, token for token.
    #[test]
    fn caseless_finds_every_spelling() {
        let names = caseless_names();
        let groups: [&[&str]; 6] = [
            // Composed and decomposed é, and their capitals.
            &["Ren\u{e9}e", "Rene\u{301}e", "REN\u{c9}E", "RENE\u{301}E"],
            // ß, capital ẞ, ss, SS.
            &[
                "Stra\u{df}e",
                "STRA\u{1e9e}E",
                "strasse",
                "STRASSE",
                " Straße ",
            ],
            // Final and medial sigma, and the capital.
            &[
                "\u{3bf}\u{3b4}\u{3cc}\u{3c2}",
                "\u{3bf}\u{3b4}\u{3cc}\u{3c3}",
                "\u{39f}\u{394}\u{38c}\u{3a3}",
                "\u{39f}\u{394}\u{39f}\u{301}\u{3a3}",
            ],
            // Full-width letters and the ideographic space.
            &[
                "\u{ff21}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}\u{3000}",
                "alice",
                "ALICE",
            ],
            // A ligature.
            &["\u{fb01}le", "FILE", "file"],
            // An e-mail address with a non-ASCII local part and domain.
            &[
                "J\u{f6}rg@B\u{fc}cher.example",
                "jo\u{308}rg@bu\u{308}cher.EXAMPLE",
            ],
        ];
        assert_each_group_one_token(&names, &groups);
        // Different names stay different.
        assert_ne!(names.compute("Renee"), names.compute("Ren\u{e9}e"));
        assert_ne!(names.compute("stra\u{df}e"), names.compute("strase"));

        // The old variants keep them apart (their stored tokens must not change).
        for old in [Normalization::Lowercase, Normalization::Email] {
            assert_ne!(
                old.apply("Ren\u{e9}e"),
                old.apply("Rene\u{301}e"),
                "{old:?}"
            );
            assert_ne!(old.apply("Stra\u{df}e"), old.apply("strasse"), "{old:?}");
            assert_ne!(old.apply("\u{3c2}"), old.apply("\u{3c3}"), "{old:?}");
            assert_ne!(old.apply("\u{ff41}"), old.apply("a"), "{old:?}");
        }
    }

    /// On ASCII text `Caseless` is `Email`: an index switched from one to the
    /// other keeps every ASCII token.
    #[test]
    fn caseless_equals_email_on_ascii() {
        for value in [
            "",
            " ",
            "Alice@Example.COM",
            "\t a.b+c@d.EXAMPLE \x0b",
            "MiXeD 123",
        ] {
            assert_eq!(
                Normalization::Caseless.apply(value),
                Normalization::Email.apply(value),
                "{value:?}"
            );
        }
        assert!(matches!(
            Normalization::Caseless.apply(" already@lower "),
            Cow::Borrowed("already@lower")
        ));
    }

    /// Every single character, and every character after a base letter and
    /// before a combining mark, normalises to a fixed point: idempotence
    /// over the whole code space, not just what proptest happens to draw.
    #[test]
    fn caseless_is_idempotent_on_every_character() {
        let caseless = Normalization::Caseless;
        for c in (0..=0x10ffff_u32).filter_map(char::from_u32) {
            for value in [c.to_string(), format!("a{c}\u{301}")] {
                let once = caseless.apply(&value).into_owned();
                assert_eq!(caseless.apply(&once), once, "{:?}", c as u32);
            }
        }
    }

    /// `is_default_ignorable` is exactly the derivation of
    /// DerivedCoreProperties.txt, with general category Cf taken from an
    /// independent table (unicode-properties) rather than from the ranges.
    #[test]
    fn default_ignorables_follow_their_derivation() {
        use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};
        // PropList.txt, Unicode 16.0 (unchanged since 14.0).
        let other_default_ignorable = |c: u32| {
            matches!(c, 0x34f | 0x115f..=0x1160 | 0x17b4..=0x17b5 | 0x2065 | 0x3164 | 0xffa0)
                || matches!(c, 0xfff0..=0xfff8 | 0xe0000 | 0xe0002..=0xe001f)
                || matches!(c, 0xe0080..=0xe00ff | 0xe01f0..=0xe0fff)
        };
        let variation_selector =
            |c: u32| matches!(c, 0x180b..=0x180d | 0x180f | 0xfe00..=0xfe0f | 0xe0100..=0xe01ef);
        let prepended_concatenation_mark = |c: u32| matches!(c, 0x600..=0x605 | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2 | 0x110bd | 0x110cd);
        let mut count = 0;
        for c in (0..=0x10ffff_u32).filter_map(char::from_u32) {
            let n = c as u32;
            let derived = (other_default_ignorable(n)
                || c.general_category() == GeneralCategory::Format
                || variation_selector(n))
                && !c.is_whitespace()
                && !matches!(n, 0xfff9..=0xfffb | 0x13430..=0x1343f)
                && !prepended_concatenation_mark(n);
            assert_eq!(is_default_ignorable(c), derived, "U+{n:04X}");
            count += usize::from(derived);
        }
        assert_eq!(count, 4174);
    }

    /// Invisible characters do not make a value another value under
    /// `Caseless`: each spelling with zero-width characters, soft hyphens,
    /// byte-order marks, variation selectors or tags finds the plain one.
    #[test]
    fn caseless_ignores_default_ignorables() {
        let names = caseless_names();
        let groups: [&[&str]; 4] = [
            &[
                "alice",
                "a\u{200b}lice",
                "al\u{200c}ice",
                "ali\u{200d}ce",
                "al\u{ad}i\u{ad}ce",
                "ali\u{2060}ce",
                "\u{feff}alice",
                "alice\u{feff}",
                "a\u{fe0f}l\u{fe00}i\u{e0100}ce",
                "alice\u{e0067}\u{e0062}\u{e007f}",
                "a\u{34f}lice",
                "ali\u{200e}ce\u{202e}",
                "\u{1d173}A\u{180e}LICE\u{3164}",
                " \u{200b} Alice \u{200b}\u{feff} ",
            ],
            // What an ignorable separated composes.
            &[
                "Ren\u{e9}e",
                "Rene\u{200b}\u{301}e",
                "Ren\u{ad}e\u{34f}\u{301}e",
            ],
            &["strasse", "Stra\u{200d}\u{df}e", "STRA\u{2064}SSE"],
            // A value of nothing but ignorables is the empty value.
            &["", "\u{200b}", "\u{feff}\u{ad} \u{2060}"],
        ];
        assert_each_group_one_token(&names, &groups);
        // Visible characters still count.
        assert_ne!(names.compute("a lice"), names.compute("alice"));
        assert_ne!(names.compute("a-lice"), names.compute("alice"));
        // The other variants keep ignorables (their tokens must not change).
        for old in [Normalization::Lowercase, Normalization::Email] {
            assert_ne!(old.apply("a\u{200b}lice"), old.apply("alice"), "{old:?}");
        }
    }

    #[test]
    fn matches_rejects_other_lengths() {
        let long = index(tenant(1), "email", full(Normalization::None));
        let short = index(
            tenant(1),
            "email",
            BlindIndexConfig {
                output_len: 8,
                ..BlindIndexConfig::default()
            },
        );
        let token = short.compute("x");
        // Same key, so the short token is a prefix of the long one...
        assert_eq!(&long.compute("x").as_bytes()[..8], token.as_bytes());
        // ...yet only the index of the right length accepts it.
        assert!(short.matches("x", &token));
        assert!(!long.matches("x", &token));
    }

    #[test]
    fn parse_errors() {
        for text in [
            "",
            "0011223",
            "001122334",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
            "0011223g",
            "0011223\u{e9}",
            "\u{e9}\u{e9}\u{e9}\u{e9}",
            " 00112233",
        ] {
            assert!(
                matches!(text.parse::<BlindToken>(), Err(Error::InvalidToken(_))),
                "{text:?}"
            );
        }
        let token: BlindToken = "DEADbeef".parse().unwrap();
        assert_eq!(token.as_bytes(), [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(token.to_string(), "deadbeef");
        assert_eq!(format!("{token:?}"), "BlindToken(deadbeef)");
    }

    #[test]
    fn from_slice_bounds() {
        assert!(BlindToken::from_slice(&[0; 3]).is_err());
        assert!(BlindToken::from_slice(&[0; 33]).is_err());
        assert!(BlindToken::from_slice(&[0; 300]).is_err());
        assert_eq!(
            BlindToken::try_from(&[1u8, 2, 3, 4][..]).unwrap().as_ref(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<BlindIndex>();
    }

    #[test]
    fn debug_never_shows_the_key() {
        let index = index(tenant(1), "email", BlindIndexConfig::default());
        let printed = format!("{index:?}");
        assert!(
            printed.contains("email") && printed.contains("contact"),
            "{printed}"
        );
        let info = kdf::field_info(LABEL, tenant(1), "contact", "email").unwrap();
        let derived = kdf::derive_key(&key(), &[], &[&info]).unwrap();
        assert!(!printed.contains(&hex::encode(derived.expose_secret())));
        assert!(!printed.contains("4242"));
    }

    #[test]
    fn serde_as_hex_string() {
        let token: BlindToken = "00112233aabbccdd".parse().unwrap();
        let json = serde_json::to_string(&token).unwrap();
        assert_eq!(json, "\"00112233aabbccdd\"");
        assert_eq!(serde_json::from_str::<BlindToken>(&json).unwrap(), token);
        assert!(serde_json::from_str::<BlindToken>("\"0011\"").is_err());
        assert!(serde_json::from_str::<BlindToken>("[0,1,2,3]").is_err());
    }

    fn any_tenant() -> impl Strategy<Value = TenantId> {
        any::<u128>().prop_map(tenant)
    }

    fn builtin_normalization() -> impl Strategy<Value = Normalization> {
        prop_oneof![
            Just(Normalization::None),
            Just(Normalization::Trim),
            Just(Normalization::Lowercase),
            Just(Normalization::Email),
            Just(Normalization::Digits),
            Just(Normalization::Caseless),
        ]
    }

    /// Any `Default_Ignorable_Code_Point`, from each of its ranges.
    fn default_ignorable() -> impl Strategy<Value = char> {
        let ranges: [(u32, u32); 17] = [
            (0xad, 0xad),
            (0x34f, 0x34f),
            (0x61c, 0x61c),
            (0x115f, 0x1160),
            (0x17b4, 0x17b5),
            (0x180b, 0x180f),
            (0x200b, 0x200f),
            (0x202a, 0x202e),
            (0x2060, 0x206f),
            (0x3164, 0x3164),
            (0xfe00, 0xfe0f),
            (0xfeff, 0xfeff),
            (0xffa0, 0xffa0),
            (0xfff0, 0xfff8),
            (0x1bca0, 0x1bca3),
            (0x1d173, 0x1d17a),
            (0xe0000, 0xe0fff),
        ];
        prop::sample::select(ranges.to_vec())
            .prop_flat_map(|(low, high)| low..=high)
            .prop_map(|c| char::from_u32(c).unwrap_or('\u{200b}'))
    }

    /// Strings made of the characters where normalisation and folding
    /// interact: combining marks, sigmas, sharp s, ligatures, full-width
    /// and compatibility forms, white space.
    fn tricky_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "e",
            "E",
            "\u{301}",
            "\u{308}",
            "\u{345}",
            "\u{399}",
            "\u{3b9}",
            "\u{1fb3}",
            "\u{1fbc}",
            "\u{df}",
            "\u{1e9e}",
            "s",
            "S",
            "\u{3c2}",
            "\u{3c3}",
            "\u{3a3}",
            "\u{fb01}",
            "\u{fb00}",
            "\u{ff21}",
            "\u{ff41}",
            "\u{130}",
            "\u{131}",
            "i",
            "\u{1c5}",
            "\u{2126}",
            "\u{212b}",
            "\u{a8}",
            "\u{3000}",
            " ",
            "\t",
            "\u{a0}",
            "\u{2460}",
            "\u{33c2}",
            "\u{1f88}",
            "\u{587}",
            "\u{ab70}",
            "\u{10400}",
            "\u{200b}",
            "\u{200d}",
            "\u{ad}",
            "\u{34f}",
            "\u{feff}",
            "\u{fe0f}",
            "\u{e0041}",
        ]);
        proptest::collection::vec(pieces, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(normalization in builtin_normalization(), value in any::<String>()) {
            let once = normalization.apply(&value).into_owned();
            prop_assert_eq!(normalization.apply(&once), once.as_str());
        }

        /// `Caseless` on arbitrary and on adversarial strings: the same
        /// output every time (deterministic) and a fixed point (idempotent),
        /// and a decomposed value finds its composed form.
        #[test]
        fn caseless_is_deterministic_and_idempotent(
            value in prop_oneof![any::<String>(), tricky_text()],
        ) {
            use unicode_normalization::UnicodeNormalization as _;
            let caseless = Normalization::Caseless;
            let once = caseless.apply(&value).into_owned();
            prop_assert_eq!(caseless.apply(&value), once.as_str());
            prop_assert_eq!(caseless.apply(&once), once.as_str());
            let nfd: String = value.nfd().collect();
            let nfc: String = value.nfc().collect();
            prop_assert_eq!(caseless.apply(&nfd), once.as_str());
            prop_assert_eq!(caseless.apply(&nfc), once.as_str());
            // ASCII case never matters, wherever the letters stand.
            let upper = value.to_ascii_uppercase();
            prop_assert_eq!(caseless.apply(&upper), once.as_str());
        }

        /// Default-ignorable code points inserted anywhere, any number of
        /// them, never change a `Caseless` token.
        #[test]
        fn caseless_token_ignores_inserted_default_ignorables(
            value in prop_oneof![any::<String>(), tricky_text()],
            insertions in proptest::collection::vec(
                (any::<prop::sample::Index>(), default_ignorable()),
                1..8,
            ),
        ) {
            let names = index(tenant(1), "name", full(Normalization::Caseless));
            let mut chars: Vec<char> = value.chars().collect();
            for (at, c) in insertions {
                let at = at.index(chars.len() + 1);
                chars.insert(at, c);
            }
            let padded: String = chars.into_iter().collect();
            prop_assert_eq!(
                Normalization::Caseless.apply(&padded),
                Normalization::Caseless.apply(&value)
            );
            prop_assert_eq!(names.compute(&padded), names.compute(&value));
        }

        #[test]
        fn same_value_same_token(t in any_tenant(), value in any::<String>(), normalization in builtin_normalization()) {
            let config = BlindIndexConfig { normalize: normalization, ..BlindIndexConfig::default() };
            let first = index(t, "email", config);
            let second = index(t, "email", config);
            let token = first.compute(&value);
            prop_assert_eq!(token, second.compute(&value));
            prop_assert!(second.matches(&value, &token));
            // The normalised form is what gets hashed.
            prop_assert_eq!(token, first.compute(&normalization.apply(&value)));
        }

        #[test]
        fn different_tenant_different_token(a in any_tenant(), b in any_tenant(), value in any::<String>()) {
            prop_assume!(a != b);
            let config = BlindIndexConfig::default();
            let token = index(a, "email", config).compute(&value);
            prop_assert_ne!(token, index(b, "email", config).compute(&value));
            prop_assert!(!index(b, "email", config).matches(&value, &token));
        }

        #[test]
        fn different_field_different_token(t in any_tenant(), value in any::<String>()) {
            let config = BlindIndexConfig::default();
            prop_assert_ne!(index(t, "email", config).compute(&value), index(t, "phone", config).compute(&value));
        }

        #[test]
        fn truncation_length_is_respected(output_len in 4usize..=32, value in any::<String>()) {
            let config = BlindIndexConfig { output_len, ..BlindIndexConfig::default() };
            let token = index(tenant(1), "email", config).compute(&value);
            prop_assert_eq!(token.as_bytes().len(), output_len);
            prop_assert_eq!(token.to_string().len(), 2 * output_len);
            let full = index(tenant(1), "email", full(Normalization::None)).compute(&value);
            prop_assert_eq!(token.as_bytes(), &full.as_bytes()[..output_len]);
        }

        #[test]
        fn token_hex_round_trip(bytes in proptest::collection::vec(any::<u8>(), 4..=32), upper in any::<bool>()) {
            let token = BlindToken::from_slice(&bytes).unwrap();
            let text = token.to_string();
            prop_assert_eq!(&text, &hex::encode(&bytes));
            let text = if upper { text.to_uppercase() } else { text };
            prop_assert_eq!(text.parse::<BlindToken>().unwrap(), token);
        }

        #[test]
        fn from_str_never_panics(text in any::<String>()) {
            let _ = text.parse::<BlindToken>();
        }

        #[test]
        fn from_str_accepts_exactly_token_hex(text in "[0-9a-fA-F]{0,70}") {
            let ok = text.len() % 2 == 0 && (8..=64).contains(&text.len());
            prop_assert_eq!(text.parse::<BlindToken>().is_ok(), ok);
        }
    }
}
