//! custodia-tenant's decoders on arbitrary bytes: a value or a typed error,
//! never a panic; cache keys that parse print back unchanged.

#![no_main]

use custodia_tenant::residency::AdequacyList;
use custodia_tenant::rls::Ident;
use custodia_tenant::{CacheKey, RoleName, TenantJob};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = TenantJob::<serde_json::Value>::from_json(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = CacheKey::parse(text) {
        assert_eq!(key.as_str(), text);
    }
    let _ = AdequacyList::from_json(text);
    let _ = RoleName::new(text);
    let _ = Ident::new(text);
});
