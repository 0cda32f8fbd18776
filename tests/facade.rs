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
    // Every crate has landed: each is reached through its own types.
    let keyring = custodia::crypt::Keyring::new(custodia::crypt::SecretKey::from_bytes([1; 32]));
    assert_eq!(keyring.primary(), 1);
    let tenant = custodia::core::TenantId::from_external_key("crm", "1");
    let key = custodia::tenant::CacheKey::new(tenant, "ticket", "42").unwrap();
    assert_eq!(key.tenant(), tenant);
    let policy =
        custodia::retention::RetentionPolicy::from_toml("version = 1\n", "empty.toml").unwrap();
    assert!(policy.rules().is_empty());
    let found = custodia::mask::Detector::new().detect("mail jane@example.com");
    assert_eq!(found[0].kind, custodia::mask::Kind::Email);
    let log = custodia::audit::AuditLog::open(custodia::audit::MemoryStore::new()).unwrap();
    assert_eq!(log.head().root, custodia::audit::merkle::EMPTY_ROOT);
    let due = custodia::dsr::due_after_receipt(
        custodia::core::chrono::DateTime::from_timestamp(1_769_817_600, 0).unwrap(), // 2026-01-31
    )
    .unwrap();
    assert_eq!(due.date_naive().to_string(), "2026-02-28");
}
