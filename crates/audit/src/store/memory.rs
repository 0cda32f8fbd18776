//! The in-memory store.

use super::{Store, Visitor};
use crate::Error;
use crate::merkle::MerkleTree;

/// Records in memory (one contiguous buffer, no allocation per record): for
/// tests, benchmarks and logs that need not survive the process.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    bytes: Vec<u8>,
    /// End offset of each record in `bytes`.
    ends: Vec<usize>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.bytes.get(start..end)
    }
}

impl Store for MemoryStore {
    fn len(&self) -> u64 {
        self.ends.len() as u64
    }

    fn append(&mut self, records: &[&[u8]], _tree: &MerkleTree) -> Result<(), Error> {
        for record in records {
            self.bytes.extend_from_slice(record);
            self.ends.push(self.bytes.len());
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
        for i in start..self.ends.len() {
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
}
