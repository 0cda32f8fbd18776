//! Serde helper: bytes as standard base64 strings.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub(crate) fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&STANDARD.encode(bytes))
}

pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    STANDARD
        .decode(text.as_bytes())
        .map_err(serde::de::Error::custom)
}

/// Hashes as base64.
pub(crate) mod hashes {
    use super::*;
    use crate::merkle::Hash;

    pub(crate) fn serialize<S: serde::Serializer>(
        hashes: &[Hash],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(|h| STANDARD.encode(h)))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Hash>, D::Error> {
        let texts = <Vec<String> as serde::Deserialize>::deserialize(d)?;
        texts
            .iter()
            .map(|t| {
                let bytes = STANDARD.decode(t).map_err(serde::de::Error::custom)?;
                Hash::try_from(bytes.as_slice())
                    .map_err(|_| serde::de::Error::custom("a hash must be 32 bytes"))
            })
            .collect()
    }
}

/// One hash as base64.
pub(crate) mod hash {
    use super::*;
    use crate::merkle::Hash;

    pub(crate) fn serialize<S: serde::Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(hash))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        Hash::try_from(bytes.as_slice())
            .map_err(|_| serde::de::Error::custom("a hash must be 32 bytes"))
    }
}
