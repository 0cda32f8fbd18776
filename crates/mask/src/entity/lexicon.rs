// The entity pass's lexicon: its flags and the table's hash.
// Shared, by `include!`, between `build.rs` (which builds the table from
// `data/names.txt` and the lists of `words.rs`) and `src/entity/names.rs`
// (which reads it), so both hash alike.

/// A given name.
pub(crate) const GIVEN: u16 = 1;
/// A surname.
pub(crate) const SURNAME: u16 = 2;
/// Also a common word or a place (`will`, `grace`, `victoria`): a name only
/// with context.
pub(crate) const AMBIGUOUS: u16 = 4;
/// A capitalised word of tickets that is far more often something else
/// than a name (`Support`, `Teams`, `Please`): never part of a name.
pub(crate) const STOP: u16 = 8;
/// A title (`Mr`, `Dr`, `Frau`): the words after it are a name.
pub(crate) const TITLE: u16 = 16;
/// A greeting or addressing word (`Hi`, `Dear`, `Thanks`, `cc`).
pub(crate) const GREETING: u16 = 32;
/// A street type (`Street`, `St`, `Rd`), checked case-sensitively after.
pub(crate) const STREET: u16 = 64;
/// A geographic word (`Valley`, `Bay`, `Pacific`): a name just before it
/// names a place (`Hunter Valley`, `Rose Bay`), not a person.
pub(crate) const PLACE: u16 = 128;
/// A name particle that may be written with a capital inside a name
/// (`Aroha Te Whata`, `Seán Ó Murchú`, `Trần Thị Lan`): never a name alone.
pub(crate) const PARTICLE: u16 = 256;
/// A word after which a name may follow with weak context (`to`, `with`,
/// `contact`, `customer`).
pub(crate) const CONTACT: u16 = 512;
/// A word after which no name starts (`Saint`, `St`, `Mount`, `Lake`).
pub(crate) const PLACE_PREFIX: u16 = 1024;
/// A place from `data/places.txt`: a name word that is also a place
/// (`mayo`, `wales`), or a place of several words (`hong kong`) that is
/// no person.
pub(crate) const PLACE_NAME: u16 = 2048;
/// The first word of a place of several words in `data/places.txt`
/// (`hong`, `northern`): only after one is the whole looked up.
pub(crate) const PLACE_HEAD: u16 = 4096;
/// A word that may make an address with no house number just before the
/// street (`PO Box`, `Postfach`, `Business Park`): the rarer address
/// recognizers are tried only on a run that holds one.
pub(crate) const ADDRESS_KEY: u16 = 8192;
/// A brand or a firm that is also a name (`Dell`, `Ford`): a verb of
/// saying after it (`Dell confirmed`) names no speaker.
pub(crate) const BRAND: u16 = 16384;
/// The flags of a name.
pub(crate) const NAME: u16 = GIVEN | SURNAME | AMBIGUOUS;

/// The longest word (UTF-8 bytes, lower case) the lexicon holds.
pub(crate) const MAX_NAME: usize = 32;

/// Slots in the lexicon's open-addressing table (a power of two, at most
/// 55 % full: most probes end in the first two slots; twice the slots
/// would no longer fit a core's 2 MiB L2 cache). A slot is 16 bytes:
/// the word's first eight bytes and its meta (see `names.rs`).
pub(crate) const SLOTS: usize = 1 << 17;

/// The hash of the lower-case word `buf[..len]` (`buf` zero past `len`),
/// eight bytes a step.
#[inline]
pub(crate) fn word_hash(buf: &[u8; MAX_NAME], len: usize) -> u64 {
    let mut h = HASH_SEED ^ len as u64;
    let mut k = 0;
    while k < len.min(MAX_NAME) {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&buf[k..k + 8]);
        h = hash_step(h, u64::from_le_bytes(chunk));
        k += 8;
    }
    h.wrapping_mul(HASH_END)
}

/// [`word_hash`] of a word of one to eight bytes, `head` its bytes as a
/// little-endian `u64` (zero past `len`): the same value, without the
/// buffer (the entity pass hashes most words from a register).
#[inline]
pub(crate) fn short_word_hash(head: u64, len: usize) -> u64 {
    hash_step(HASH_SEED ^ len as u64, head).wrapping_mul(HASH_END)
}

/// [`word_hash`] of a word of nine to sixteen bytes, `head` and `tail`
/// its two halves as little-endian `u64`s (zero past `len`).
#[inline]
pub(crate) fn two_word_hash(head: u64, tail: u64, len: usize) -> u64 {
    hash_step(hash_step(HASH_SEED ^ len as u64, head), tail).wrapping_mul(HASH_END)
}

const HASH_SEED: u64 = 0x243F_6A88_85A3_08D3;
const HASH_END: u64 = 0xBF58_476D_1CE4_E5B9;

/// One eight-byte step of [`word_hash`].
#[inline(always)]
fn hash_step(h: u64, chunk: u64) -> u64 {
    let h = (h ^ chunk).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// The first slot to probe for a word of hash `h`: bits 31–47 (the low
/// bits of a product mix least).
#[inline]
pub(crate) fn home_slot(h: u64) -> usize {
    (h >> 31) as usize & (SLOTS - 1)
}
