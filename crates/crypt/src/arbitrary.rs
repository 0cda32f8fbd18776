//! Proptest strategies for the crypt types (feature `proptest`).
//!
//! [`KeyId`], [`SecretKey`] and [`DataKeyMode`] implement [`Arbitrary`], so a downstream suite
//! writes `any::<KeyId>()`; [`envelope_of`] gives valid-looking envelopes (right
//! header, random body) for fuzzing a host's storage layer.

use custodia_core::SubjectId;
use proptest::prelude::*;

use crate::{DataKeyMode, KeyId, SecretKey};

impl Arbitrary for KeyId {
    type Parameters = ();
    type Strategy = BoxedStrategy<KeyId>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            any::<u32>().prop_map(|version| KeyId::Tenant { version }),
            (any::<SubjectId>(), any::<u32>())
                .prop_map(|(subject, version)| KeyId::Subject { subject, version }),
        ]
        .boxed()
    }
}

impl Arbitrary for SecretKey {
    type Parameters = ();
    type Strategy = BoxedStrategy<SecretKey>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        any::<[u8; SecretKey::LEN]>()
            .prop_map(SecretKey::from_bytes)
            .boxed()
    }
}

impl Arbitrary for DataKeyMode {
    type Parameters = ();
    type Strategy = BoxedStrategy<DataKeyMode>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![Just(DataKeyMode::Derived), Just(DataKeyMode::Random)].boxed()
    }
}

/// Envelopes with a well-formed header for `key` and a random nonce,
/// ciphertext and tag: they decode, but never open.
pub fn envelope_of(key: KeyId) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>(),
        crate::provider::NONCE_LEN + crate::provider::TAG_LEN..256,
    )
    .prop_map(move |body| {
        let mut envelope = Vec::new();
        key.write_header(&mut envelope);
        envelope.extend_from_slice(&body);
        envelope
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Envelope;

    proptest! {
        #[test]
        fn generated_envelopes_decode_to_their_key(
            (key, envelope) in any::<KeyId>().prop_flat_map(|key| (Just(key), envelope_of(key)))
        ) {
            prop_assert_eq!(Envelope::decode(&envelope).unwrap().key_id(), key);
        }
    }
}
