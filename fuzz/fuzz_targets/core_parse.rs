//! Every core parser on arbitrary bytes: a value or a typed error, never a panic,
//! and whatever parses prints back to something that parses to the same value.

#![no_main]

use custodia_core::{DataCategory, LegalBasis, Purpose, Region, Role, Taxonomy, TenantId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(category) = text.parse::<DataCategory>() {
        assert_eq!(
            category.to_string().parse::<DataCategory>().ok(),
            Some(category)
        );
    }
    if let Ok(region) = text.parse::<Region>() {
        assert_eq!(region.to_string().parse::<Region>().ok(), Some(region));
    }
    let _ = text.parse::<TenantId>();
    let _ = text.parse::<LegalBasis>();
    let _ = text.parse::<Role>();
    let _ = text.parse::<Purpose>();
    let _ = Taxonomy::builtin().parse(text);
    let _ = serde_json::from_slice::<DataCategory>(data);
    let _ = serde_json::from_slice::<Region>(data);
});
