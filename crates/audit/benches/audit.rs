//! custodia-audit benchmarks, each against the raw primitive in the same run:
//!
//! * `hash/*`: raw SHA-256 of one event encoding and of a 65-byte node input
//!   (ring and RustCrypto `sha2`, which the tree uses), the RFC 6962 leaf and
//!   node hashes, and the canonical encoder, checker and decoder.
//! * `append/*`: encode + hash + append one event to the in-memory log
//!   (target >= 1,000,000 events/s), and the tree push of pre-encoded bytes.
//! * `file/*`: the segment store with group commit (batches of 1,000, one
//!   fsync per batch: target >= 100,000 durable events/s) and with fsync per
//!   append.
//! * `verify/*`: open-and-verify a 1,000,000-event segment log (target < 2 s)
//!   next to raw SHA-256 over the same records and the Merkle tree alone.
//! * `proof/*`: inclusion proof generation and verification at 10^6 leaves.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use custodia_audit::merkle::{MerkleTree, leaf_hash, node_hash, verify_inclusion};
use custodia_audit::{
    AuditLog, Durability, Event, MemoryStore, SegmentOptions, SegmentStore, canonical, verify,
};
use sha2::Digest;

#[path = "../examples/support/event.rs"]
mod support;
use support::event;

fn hashing(c: &mut Criterion) {
    let bytes = canonical::encode(&event(1));
    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("raw_sha256_ring", |b| {
        b.iter(|| ring::digest::digest(&ring::digest::SHA256, black_box(&bytes)))
    });
    g.bench_function("raw_sha256_sha2", |b| {
        b.iter(|| sha2::Sha256::digest(black_box(&bytes)))
    });
    g.bench_function("leaf_hash", |b| b.iter(|| leaf_hash(black_box(&bytes))));
    let (l, r) = (leaf_hash(b"l"), leaf_hash(b"r"));
    g.bench_function("node_hash", |b| {
        b.iter(|| node_hash(black_box(&l), black_box(&r)))
    });
    let mut node_input = [1u8; 65];
    node_input[1..33].copy_from_slice(&l);
    node_input[33..].copy_from_slice(&r);
    g.bench_function("raw_sha256_65_bytes_ring", |b| {
        b.iter(|| ring::digest::digest(&ring::digest::SHA256, black_box(&node_input)))
    });
    g.bench_function("raw_sha256_65_bytes_sha2", |b| {
        b.iter(|| sha2::Sha256::digest(black_box(&node_input)))
    });
    g.bench_function("canonical_encode", |b| {
        let e = event(1);
        b.iter(|| canonical::encode(black_box(&e)))
    });
    g.bench_function("canonical_check", |b| {
        b.iter(|| canonical::check(black_box(&bytes)).unwrap())
    });
    g.bench_function("canonical_decode", |b| {
        b.iter(|| canonical::decode(black_box(&bytes)).unwrap())
    });
    g.finish();
}

fn append(c: &mut Criterion) {
    const N: u64 = 10_000;
    let events: Vec<Event> = (0..N).map(event).collect();
    let encoded: Vec<Vec<u8>> = events.iter().map(canonical::encode).collect();
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(N));
    g.bench_function("raw_sha256_per_event", |b| {
        b.iter(|| {
            for e in &encoded {
                black_box(sha2::Sha256::digest(e));
            }
        })
    });
    g.bench_function("tree_push_encoded", |b| {
        b.iter_batched(
            || MerkleTree::with_capacity(N as usize),
            |mut tree| {
                for e in &encoded {
                    tree.push(e);
                }
                tree
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("memory_log_append_event", |b| {
        b.iter_batched(
            || AuditLog::open(MemoryStore::new()).unwrap(),
            |mut log| {
                for e in &events {
                    log.append(e).unwrap();
                }
                log
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn file_store(c: &mut Criterion) {
    const BATCH: usize = 1000;
    let events: Vec<Event> = (0..BATCH as u64).map(event).collect();
    let mut g = c.benchmark_group("file");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BATCH as u64));
    let dir = tempfile::tempdir().unwrap();
    let options = SegmentOptions {
        durability: Durability::Group { records: BATCH },
        max_segment_bytes: 64 << 20,
    };
    let mut log =
        AuditLog::open(SegmentStore::open(dir.path().join("group"), options).unwrap()).unwrap();
    g.bench_function("group_commit_batch_1000_durable", |b| {
        b.iter(|| log.append_batch(&events).unwrap())
    });
    drop(log);

    let options = SegmentOptions {
        durability: Durability::EveryAppend,
        max_segment_bytes: 64 << 20,
    };
    let mut log =
        AuditLog::open(SegmentStore::open(dir.path().join("every"), options).unwrap()).unwrap();
    g.throughput(Throughput::Elements(1));
    g.bench_function("fsync_per_append", |b| {
        let mut i = 0;
        b.iter(|| {
            log.append(&events[i % BATCH]).unwrap();
            i += 1;
        })
    });
    g.finish();
}

fn verify_million(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut encoded_total = 0usize;
    {
        let options = SegmentOptions {
            durability: Durability::Never,
            max_segment_bytes: 64 << 20,
        };
        let mut log = AuditLog::open(SegmentStore::open(dir.path(), options).unwrap()).unwrap();
        for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
            let batch: Vec<Event> = chunk.iter().map(|&i| event(i)).collect();
            encoded_total += batch
                .iter()
                .map(|e| canonical::encode(e).len())
                .sum::<usize>();
            log.append_batch(&batch).unwrap();
        }
        log.sync().unwrap();
    }
    eprintln!(
        "built a {N}-event log ({} MB of events) in {:?}",
        encoded_total / 1_000_000,
        started.elapsed()
    );
    let records: Vec<Vec<u8>> = (0..N).map(|i| canonical::encode(&event(i))).collect();

    let mut g = c.benchmark_group("verify");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(N));
    g.bench_function("raw_sha256_1m_records", |b| {
        b.iter(|| {
            for r in &records {
                black_box(sha2::Sha256::digest(r));
            }
        })
    });
    g.bench_function("merkle_tree_1m_records", |b| {
        b.iter(|| {
            let mut tree = MerkleTree::with_capacity(N as usize);
            for r in &records {
                tree.push(r);
            }
            tree.root()
        })
    });
    g.bench_function("segment_log_1m_open_and_verify", |b| {
        b.iter(|| {
            let report = verify(SegmentStore::open_read_only(dir.path()).unwrap(), None).unwrap();
            assert_eq!(report.head.size, N);
        })
    });
    g.finish();

    let mut tree = MerkleTree::with_capacity(N as usize);
    for r in &records {
        tree.push(r);
    }
    drop(records);
    let root = tree.root();
    let mut g = c.benchmark_group("proof");
    let mut i = 0u64;
    g.bench_function("inclusion_generate_1m", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            tree.inclusion_proof(black_box(i), N).unwrap()
        })
    });
    let index = 765_432;
    let proof = tree.inclusion_proof(index, N).unwrap();
    let leaf = tree.leaf(index).unwrap();
    g.bench_function("inclusion_verify_1m", |b| {
        b.iter(|| verify_inclusion(index, N, black_box(&leaf), &proof, &root).unwrap())
    });
    g.bench_function("consistency_generate_1m", |b| {
        b.iter(|| tree.consistency_proof(black_box(123_457), N).unwrap())
    });
    g.bench_function("root_1m", |b| b.iter(|| black_box(&tree).root()));
    g.finish();
}

criterion_group!(benches, hashing, append, file_store, verify_million);
criterion_main!(benches);
