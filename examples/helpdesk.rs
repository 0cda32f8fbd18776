//! The helpdesk example: Custodia end to end in a small multi-tenant helpdesk.
//!
//! Run with `cargo run --release --example helpdesk`.
//!
//! Today it shows the foundation that has landed (tenant and subject ids
//! derived from the helpdesk's own keys, the data-category taxonomy and data
//! regions) and says plainly which steps are not built yet. Each step switches
//! on as its crate lands; the full flow is tracked by issue 9.

use custodia::core::{DataCategory, Region, SubjectId, Taxonomy, TenantId};

fn main() {
    println!("Custodia helpdesk example\n");

    println!("1. Two subscribers in different regions");
    let subscribers = [("ACME-0042", Region::AU), ("GLOBEX-7", Region::UK)];
    for (account, region) in subscribers {
        let tenant = TenantId::from_external_key("billing.account", account);
        let name = region.name().unwrap_or("custom region");
        println!("   {account:<10} -> tenant {tenant}  region {region} ({name})");
    }

    println!("\n2. Contacts mapped to data subjects without a lookup table");
    let acme = TenantId::from_external_key("billing.account", "ACME-0042");
    let globex = TenantId::from_external_key("billing.account", "GLOBEX-7");
    let in_acme = SubjectId::from_external_key(acme, "psa.contact", "1017");
    let in_globex = SubjectId::from_external_key(globex, "psa.contact", "1017");
    println!("   contact 1017 at ACME   -> subject {in_acme}");
    println!("   contact 1017 at GLOBEX -> subject {in_globex} (a different person)");

    println!("\n3. What a ticket holds, by data category");
    let taxonomy = Taxonomy::builtin();
    for category in [
        DataCategory::USER_CONTACT_EMAIL,
        DataCategory::USER_CONTENT_TICKET,
        DataCategory::USER_DEVICE_IP_ADDRESS,
        DataCategory::USER_HEALTH,
    ] {
        let description = taxonomy
            .get(&category)
            .map(|info| info.description.as_ref())
            .unwrap_or_default();
        let special = if category.is_special() {
            "  [special category]"
        } else {
            ""
        };
        println!("   {category:<26} {description}{special}");
    }

    println!("\nNot yet: encrypted contact fields, masking before the AI summariser,");
    println!("access checks, the audit log, the retention sweep, access and erasure");
    println!("requests and the breach drill arrive as their crates land (issue 9).");
}
