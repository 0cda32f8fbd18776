//! The facade exposes every crate under its module name.

#[test]
fn core_is_reachable_through_the_facade() {
    let tenant = custodia::core::TenantId::from_external_key("crm", "1");
    let parsed: custodia::core::TenantId = tenant.to_string().parse().unwrap();
    assert_eq!(parsed, tenant);
}

#[cfg(all(
    feature = "tenant",
    feature = "crypt",
    feature = "mask",
    feature = "retention",
    feature = "audit",
    feature = "dsr"
))]
#[test]
fn default_features_expose_every_crate() {
    // Each skeleton reports its status until its issue lands; a landed crate
    // is reached through its own types.
    let keyring = custodia::crypt::Keyring::new(custodia::crypt::SecretKey::from_bytes([1; 32]));
    assert_eq!(keyring.primary(), 1);
    let log = custodia::audit::AuditLog::open(custodia::audit::MemoryStore::new()).unwrap();
    assert_eq!(log.head().root, custodia::audit::merkle::EMPTY_ROOT);
    for status in [
        custodia::tenant::STATUS,
        custodia::mask::STATUS,
        custodia::retention::STATUS,
        custodia::dsr::STATUS,
    ] {
        assert_eq!(status, "skeleton");
    }
}
