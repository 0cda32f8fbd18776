//! custodia-tenant's decoders on arbitrary bytes: a value or a typed error,
//! never a panic; cache keys that parse print back unchanged, and safeguard
//! records that parse print back to the same record; an error quotes no
//! more than `MAX_ECHO` characters of any value.

#![no_main]

use custodia_tenant::residency::{AdequacyList, SccRecord};
use custodia_tenant::rls::Ident;
use custodia_tenant::{CacheKey, RoleName, TenantJob};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let job = TenantJob::<serde_json::Value>::from_json(data);
    // An error quotes no more than `MAX_ECHO` characters of any value.
    if let Err(e) = job {
        let shown = e.to_string();
        assert_eq!(custodia_core::echo_quoted(&shown), shown);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = CacheKey::parse(text) {
        assert_eq!(key.as_str(), text);
    }
    for e in [AdequacyList::from_json(text).err(), SccRecord::from_json(text).err()]
        .into_iter()
        .flatten()
    {
        let shown = e.to_string();
        assert_eq!(custodia_core::echo_quoted(&shown), shown);
    }
    if let Ok(record) = SccRecord::from_json(text) {
        // What parses prints back to the same record.
        let printed = serde_json::to_string(&record).unwrap_or_default();
        assert_eq!(SccRecord::from_json(&printed).ok(), Some(record));
    }
    let _ = RoleName::new(text);
    let _ = Ident::new(text);
});
