// Shared by the criterion bench and the `throughput` example.

use chrono::{TimeZone, Utc};
use custodia_core::{DataCategory, SubjectId, TenantId};
use custodia_retention::{RetentionPolicy, RetentionRecord};

pub const CATEGORIES: [DataCategory; 7] = [
    DataCategory::USER_CONTENT_TICKET,
    DataCategory::SYSTEM_OPERATIONS_LOG,
    DataCategory::USER_CONTACT_EMAIL,
    DataCategory::USER_CONTENT_CHAT,
    DataCategory::USER_CONTENT_ATTACHMENT,
    DataCategory::USER_ACCOUNT,
    DataCategory::SYSTEM_AUDIT,
];

/// A deterministic mix of records: the policy's own tenants half the time,
/// most tickets closed, some accounts terminated, a few labels.
pub fn records(policy: &RetentionPolicy, n: usize) -> Vec<RetentionRecord> {
    let tenants: Vec<TenantId> = policy
        .rules()
        .iter()
        .flat_map(|r| r.applies_to.tenants.iter().copied())
        .collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let tenant = if next() % 2 == 0 && !tenants.is_empty() {
                tenants[next() as usize % tenants.len()]
            } else {
                TenantId::from_external_key("bench", &(next() % 50).to_string())
            };
            let category = CATEGORIES[next() as usize % CATEGORIES.len()].clone();
            let created = Utc
                .with_ymd_and_hms(
                    2019 + (next() % 8) as i32,
                    1 + (next() % 12) as u32,
                    1 + (next() % 28) as u32,
                    8,
                    30,
                    0,
                )
                .unwrap();
            let subject =
                SubjectId::from_external_key(tenant, "bench", &(next() % 1000).to_string());
            let mut record = RetentionRecord::new(format!("r-{i:07}"), tenant, category, created)
                .with_subject(subject);
            if next() % 10 < 6 {
                record = record.with_event("closed", created + chrono::TimeDelta::days(30));
            }
            if next() % 10 == 0 {
                record =
                    record.with_event("account_terminated", created + chrono::TimeDelta::days(400));
            }
            if next() % 20 == 0 {
                record = record.with_label("legal", "yes");
            }
            record
        })
        .collect()
}
