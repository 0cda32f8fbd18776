//! The in-memory store.

use super::{AuditStore, Visitor};
use crate::Error;
use crate::merkle::MerkleTree;

/// Bytes per buffer chunk of a [`MemoryStore`].
const CHUNK: usize = 1 << 20;

/// Where one record is: chunk number and byte range in it.
#[derive(Debug, Clone, Copy)]
struct Span {
    chunk: usize,
    start: usize,
    end: usize,
}

/// Records in memory, packed into 1 MiB chunks (no allocation per record,
/// and a chunk never grows past its capacity, so appends never copy earlier
/// records): for tests, benchmarks and logs that need not survive the process.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    chunks: Vec<Vec<u8>>,
    spans: Vec<Span>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, i: usize) -> Option<&[u8]> {
        let span = self.spans.get(i)?;
        self.chunks.get(span.chunk)?.get(span.start..span.end)
    }

    fn push(&mut self, record: &[u8]) {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= record.len());
        if !fits {
            self.chunks
                .push(Vec::with_capacity(record.len().max(CHUNK)));
        }
        let chunk = self.chunks.len() - 1;
        if let Some(buf) = self.chunks.last_mut() {
            let start = buf.len();
            buf.extend_from_slice(record);
            self.spans.push(Span {
                chunk,
                start,
                end: buf.len(),
            });
        }
    }
}

impl AuditStore for MemoryStore {
    fn len(&self) -> u64 {
        self.spans.len() as u64
    }

    fn append(&mut self, records: &[&[u8]], _tree: &MerkleTree) -> Result<(), Error> {
        for record in records {
            self.push(record);
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), Error> {
        Ok(())
    }

    fn get(&self, index: u64) -> Result<Vec<u8>, Error> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.record(i))
            .map(<[u8]>::to_vec)
            .ok_or(Error::IndexOutOfRange {
                index,
                size: self.len(),
            })
    }

    fn scan(&self, from: u64, f: &mut Visitor<'_>) -> Result<(), Error> {
        let start = usize::try_from(from).unwrap_or(usize::MAX);
        for i in start..self.spans.len() {
            if let Some(record) = self.record(i) {
                f(i as u64, record)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_appended() {
        let mut store = MemoryStore::new();
        let tree = MerkleTree::new();
        store.append(&[b"", b"one", b"three"], &tree).unwrap();
        store.append(&[b"x"], &tree).unwrap();
        assert_eq!(store.len(), 4);
        assert_eq!(store.get(0).unwrap(), b"");
        assert_eq!(store.get(2).unwrap(), b"three");
        assert_eq!(store.get(3).unwrap(), b"x");
        assert!(store.get(4).is_err());
        let mut seen = Vec::new();
        store
            .scan(1, &mut |i, r| {
                seen.push((i, r.to_vec()));
                Ok(())
            })
            .unwrap();
        assert_eq!(
            seen,
            [
                (1, b"one".to_vec()),
                (2, b"three".to_vec()),
                (3, b"x".to_vec())
            ]
        );
    }

    #[test]
    fn records_across_and_beyond_chunks_come_back() {
        let mut store = MemoryStore::new();
        let tree = MerkleTree::new();
        let records: Vec<Vec<u8>> = [CHUNK / 3, CHUNK / 2, CHUNK + 7, 1, CHUNK - 1, 0]
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|b| (b * 7 + i) as u8).collect())
            .collect();
        for record in &records {
            store.append(&[record], &tree).unwrap();
        }
        assert!(store.chunks.len() >= 3);
        for (i, record) in records.iter().enumerate() {
            assert_eq!(&store.get(i as u64).unwrap(), record);
        }
    }
}
