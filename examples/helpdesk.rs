//! The helpdesk example: Custodia end to end in a small multi-tenant helpdesk.
//!
//! Run with `cargo run --release --example helpdesk`.
//!
//! Today it shows what has landed: tenant and subject ids derived from the
//! helpdesk's own keys, the data-category taxonomy and data regions, encrypted
//! contact fields with a blind index to find a contact by email, and an erasure
//! by crypto-shredding. It says plainly which steps are not built yet; the full
//! flow is tracked by issue 9.

use std::sync::Arc;

use custodia::core::{ActorId, DataCategory, Region, SubjectId, SystemClock, Taxonomy, TenantId};
use custodia::crypt::blind::{BlindIndex, BlindIndexConfig, Normalization};
use custodia::crypt::{Error, FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault};

fn main() -> Result<(), Error> {
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

    println!("\n4. Contact emails encrypted per field, found again by blind index");
    let master = SecretKey::generate()?;
    let keyring = Arc::new(Keyring::new(master.clone()));
    let config = BlindIndexConfig {
        output_len: 8,
        normalize: Normalization::Email,
    };
    let by_email = BlindIndex::new(&master, acme, "contact", "email", config)?;
    let mut rows = Vec::new();
    for (id, email) in [
        ("1017", "Alice.Ng@example.com"),
        ("1018", "bob@example.org"),
    ] {
        let ctx = FieldContext::new(acme, "contact", id, "email")?;
        let sealed = custodia::crypt::envelope::to_text(&keyring.seal(&ctx, email.as_bytes())?);
        let token = by_email.compute(email);
        println!(
            "   contact {id}: email stored as {}… index {token}",
            &sealed[..24]
        );
        rows.push((id, sealed, token));
    }
    let wanted = "alice.ng@EXAMPLE.com";
    for (id, sealed, token) in &rows {
        if by_email.matches(wanted, token) {
            let ctx = FieldContext::new(acme, "contact", id, "email")?;
            let envelope = custodia::crypt::envelope::from_text(sealed)?;
            let email = String::from_utf8_lossy(&keyring.open(&ctx, &envelope)?).into_owned();
            println!("   lookup {wanted:?} -> contact {id}, decrypted {email:?}");
        }
    }
    let wrong_tenant = FieldContext::new(globex, "contact", "1017", "email")?;
    let envelope = custodia::crypt::envelope::from_text(&rows[0].1)?;
    let refused = keyring.open(&wrong_tenant, &envelope).unwrap_err();
    println!("   GLOBEX reading ACME's ciphertext: refused ({refused})");

    println!("\n5. Erasure by crypto-shredding");
    let vault = SubjectVault::new(keyring, MemoryKeyStore::default(), Arc::new(SystemClock));
    let audit_ctx = FieldContext::new(acme, "audit_event", "evt-1", "ip_address")?;
    let ip = vault.seal(in_acme, &audit_ctx, b"203.0.113.7")?;
    let backup_copy = ip.clone();
    println!("   audit event stores the requester's IP sealed under their own key");
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    let receipt = vault.shred(acme, in_acme, dpo)?;
    println!(
        "   key shredded at {} by {}",
        receipt.at.format("%Y-%m-%d %H:%M:%S UTC"),
        receipt.actor
    );
    let erased = vault.open(&audit_ctx, &backup_copy).unwrap_err();
    println!("   reading the IP from a backup copy: {erased}");

    println!("\nNot yet: masking before the AI summariser, access checks, the audit");
    println!("log, the retention sweep, access requests and the breach drill arrive");
    println!("as their crates land (issue 9).");
    Ok(())
}
