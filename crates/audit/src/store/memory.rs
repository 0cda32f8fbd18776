//! The in-memory store.

use super::{Store, Visitor};
use crate::Error;
use crate::merkle::MerkleTree;

/// Records in a `Vec`: for tests, benchmarks and logs that need not survive
/// the process.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    records: Vec<Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The records, for tests that tamper with them.
    pub fn records_mut(&mut self) -> &mut Vec<Vec<u8>> {
        &mut self.records
    }
}

impl Store for MemoryStore {
    fn len(&self) -> u64 {
        self.records.len() as u64
    }

    fn append(&mut self, records: &[&[u8]], _tree: &MerkleTree) -> Result<(), Error> {
        self.records.extend(records.iter().map(|r| r.to_vec()));
        Ok(())
    }

    fn sync(&mut self) -> Result<(), Error> {
        Ok(())
    }

    fn get(&self, index: u64) -> Result<Vec<u8>, Error> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.records.get(i))
            .cloned()
            .ok_or(Error::IndexOutOfRange {
                index,
                size: self.len(),
            })
    }

    fn scan(&self, from: u64, f: &mut Visitor<'_>) -> Result<(), Error> {
        let start = usize::try_from(from).unwrap_or(usize::MAX);
        for (i, record) in self.records.iter().enumerate().skip(start) {
            f(i as u64, record)?;
        }
        Ok(())
    }
}
