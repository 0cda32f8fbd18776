//! custodia-crypt against raw ring AES-256-GCM, in the same run.
//!
//! `cargo bench -p custodia-crypt --bench crypt`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use custodia_core::TenantId;
use custodia_crypt::deterministic::DeterministicCipher;
use custodia_crypt::{
    BlindIndex, BlindIndexConfig, FieldCipher, FieldContext, KeyId, Keyring, RUST_CRYPTO, SecretKey,
};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;

/// Raw ring into a reused buffer: the baseline for `seal_into`.
fn raw_seal_into(
    key: &LessSafeKey,
    counter: &mut u64,
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) {
    *counter += 1;
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    out.clear();
    out.extend_from_slice(plaintext);
    let nonce = Nonce::assume_unique_for_key(nonce);
    let tag = key
        .seal_in_place_separate_tag(nonce, Aad::from(aad), out)
        .unwrap();
    out.extend_from_slice(tag.as_ref());
}

/// Raw ring: copy into a fresh buffer, seal with a counter nonce, append the tag.
fn raw_seal(key: &LessSafeKey, counter: &mut u64, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    *counter += 1;
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    let mut out = Vec::with_capacity(plaintext.len() + 16);
    out.extend_from_slice(plaintext);
    let nonce = Nonce::assume_unique_for_key(nonce);
    let tag = key
        .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut out)
        .unwrap();
    out.extend_from_slice(tag.as_ref());
    out
}

fn seal(c: &mut Criterion) {
    let key = SecretKey::from_bytes([9; 32]);
    let tenant = TenantId::from_external_key("bench", "acme");
    let ctx = FieldContext::new(tenant, "ticket", "T-100234", "requester_email").unwrap();
    let v1 = KeyId::Tenant { version: 1 };
    let cipher = FieldCipher::new(v1, &key).unwrap();
    let rust_crypto = FieldCipher::with_provider(&RUST_CRYPTO, v1, &key).unwrap();
    let keyring = Keyring::new(key.clone());
    let raw = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.expose_secret()).unwrap());
    // The envelope authenticates this much associated data for `ctx`.
    let envelope_aad = [0xA5u8; 58];

    let mut group = c.benchmark_group("seal");
    group.throughput(Throughput::Elements(1));
    for size in [64usize, 4096] {
        let plaintext = vec![0x5Au8; size];
        let p = &plaintext;
        group.bench_function(BenchmarkId::new("custodia/cipher", size), |b| {
            b.iter(|| cipher.seal(&ctx, black_box(p)).unwrap())
        });
        group.bench_function(BenchmarkId::new("custodia/keyring", size), |b| {
            b.iter(|| keyring.seal(&ctx, black_box(p)).unwrap())
        });
        let mut buffer = Vec::with_capacity(size + 64);
        group.bench_function(BenchmarkId::new("custodia/cipher_into", size), |b| {
            b.iter(|| {
                buffer.clear();
                cipher.seal_into(&ctx, black_box(p), &mut buffer).unwrap();
            })
        });
        group.bench_function(BenchmarkId::new("custodia/keyring_into", size), |b| {
            b.iter(|| {
                buffer.clear();
                keyring.seal_into(&ctx, black_box(p), &mut buffer).unwrap();
            })
        });
        group.bench_function(BenchmarkId::new("custodia/rustcrypto", size), |b| {
            b.iter(|| rust_crypto.seal(&ctx, black_box(p)).unwrap())
        });
        let mut counter = 0;
        group.bench_function(BenchmarkId::new("raw/ring", size), |b| {
            b.iter(|| raw_seal(&raw, &mut counter, b"aad", black_box(p)))
        });
        group.bench_function(BenchmarkId::new("raw/ring_same_aad", size), |b| {
            b.iter(|| raw_seal(&raw, &mut counter, &envelope_aad, black_box(p)))
        });
        group.bench_function(BenchmarkId::new("raw/ring_same_aad_into", size), |b| {
            b.iter(|| raw_seal_into(&raw, &mut counter, &envelope_aad, black_box(p), &mut buffer))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("open");
    let sealed = keyring.seal(&ctx, &[0x5A; 64]).unwrap();
    group.bench_function("custodia/keyring/64", |b| {
        b.iter(|| keyring.open(&ctx, black_box(&sealed)).unwrap())
    });
    group.finish();
}

fn blind_index(c: &mut Criterion) {
    let key = SecretKey::from_bytes([3; 32]);
    let tenant = TenantId::from_external_key("bench", "acme");
    let index = BlindIndex::new(
        &key,
        tenant,
        "contact",
        "email",
        BlindIndexConfig::default(),
    )
    .unwrap();
    let raw = hmac::Key::new(hmac::HMAC_SHA256, &[3; 32]);
    let value = "alice.cooper@example-mail.com.au"; // 32 bytes
    let mut group = c.benchmark_group("blind_index");
    group.throughput(Throughput::Elements(1));
    group.bench_function("custodia/32", |b| {
        b.iter(|| index.compute(black_box(value)))
    });
    group.bench_function("raw/hmac_sha256/32", |b| {
        b.iter(|| hmac::sign(&raw, black_box(value.as_bytes())))
    });
    group.finish();
}

fn deterministic(c: &mut Criterion) {
    use aes_siv::KeyInit;
    use aes_siv::siv::Aes256Siv;
    let key = SecretKey::from_bytes([5; 32]);
    let tenant = TenantId::from_external_key("bench", "acme");
    let cipher = DeterministicCipher::new(&key, tenant, "contact", "tax_id").unwrap();
    let value = b"GB123456789-0042"; // 16 bytes
    let siv_key = [5u8; 64];
    let mut reused = Aes256Siv::new_from_slice(&siv_key).unwrap();
    let mut group = c.benchmark_group("deterministic");
    group.throughput(Throughput::Elements(1));
    group.bench_function("custodia/16", |b| {
        b.iter(|| cipher.encrypt(black_box(value)).unwrap())
    });
    group.bench_function("raw/aes_siv_reused/16", |b| {
        b.iter(|| reused.encrypt([b"aad"], black_box(value)).unwrap())
    });
    group.bench_function("raw/aes_siv_new_per_call/16", |b| {
        b.iter(|| {
            Aes256Siv::new_from_slice(&siv_key)
                .unwrap()
                .encrypt([b"aad"], black_box(value))
                .unwrap()
        })
    });
    group.finish();
}

/// A cached subject-key open, with the shred-propagation check (a clock read
/// per open, a store query per second) and without it (bound `Duration::MAX`).
fn subject_open(c: &mut Criterion) {
    use std::sync::Arc;
    use std::time::Duration;

    use custodia_core::{SubjectId, SystemClock};
    use custodia_crypt::{DataKeyMode, MemoryKeyStore, SubjectVault};

    let mut group = c.benchmark_group("subject_open");
    let tenant = TenantId::from_external_key("bench", "acme");
    let subject = SubjectId::from_external_key(tenant, "psa", "alice");
    let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip").unwrap();
    for (name, bound) in [
        (
            "cached/propagation_check",
            custodia_crypt::DEFAULT_STALENESS_BOUND,
        ),
        ("cached/no_check", Duration::MAX),
    ] {
        let store = Arc::new(MemoryKeyStore::default());
        let keyring = Keyring::from_store(
            store.clone(),
            &SecretKey::from_bytes([1; 32]),
            DataKeyMode::Random,
        )
        .unwrap()
        .with_staleness_bound(bound);
        let vault = SubjectVault::new(Arc::new(keyring), store, Arc::new(SystemClock))
            .with_staleness_bound(bound);
        let sealed = vault.seal(subject, &ctx, &[7u8; 64]).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| vault.open(black_box(&ctx), black_box(&sealed)).unwrap())
        });
    }
    #[cfg(feature = "tokio")]
    {
        // The same open through the async vault (inline: no thread switch),
        // awaited on a current-thread runtime.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let store = Arc::new(MemoryKeyStore::default());
        let (vault, sealed) = runtime.block_on(async {
            let keyring = custodia_crypt::AsyncKeyring::from_store(
                store.clone(),
                SecretKey::from_bytes([1; 32]),
                DataKeyMode::Random,
            )
            .await
            .unwrap();
            let vault =
                custodia_crypt::AsyncSubjectVault::new(&keyring, store, Arc::new(SystemClock));
            let sealed = vault.seal(subject, &ctx, &[7u8; 64]).await.unwrap();
            (vault, sealed)
        });
        group.bench_function("cached/async_propagation_check", |b| {
            b.iter(|| {
                runtime
                    .block_on(vault.open(black_box(&ctx), black_box(&sealed)))
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// What a store call costs the async types beyond the store itself: the
/// trip to tokio's blocking pool and back, against the same call made
/// directly (an in-memory store's generation read).
#[cfg(feature = "tokio")]
fn store_call(c: &mut Criterion) {
    use std::sync::Arc;

    use custodia_crypt::{AsyncKeyStore, KeyStore, MemoryKeyStore};

    let mut group = c.benchmark_group("store_call");
    let store = Arc::new(MemoryKeyStore::default());
    group.bench_function("direct", |b| {
        b.iter(|| black_box(&store).generation().unwrap())
    });
    for (name, mut builder) in [
        (
            "blocking_pool/current_thread",
            tokio::runtime::Builder::new_current_thread(),
        ),
        (
            "blocking_pool/multi_thread",
            tokio::runtime::Builder::new_multi_thread(),
        ),
    ] {
        let runtime = builder.worker_threads(1).build().unwrap();
        let pooled = AsyncKeyStore::new(store.clone());
        group.bench_function(name, |b| {
            b.iter(|| runtime.block_on(black_box(&pooled).generation()).unwrap())
        });
    }
    group.finish();
}

#[cfg(not(feature = "tokio"))]
fn store_call(_: &mut Criterion) {}

criterion_group!(
    benches,
    seal,
    blind_index,
    deterministic,
    subject_open,
    store_call
);
criterion_main!(benches);
