//! The keyspace: databases of keys, each split into shards held in `Arc`s so that a BGSAVE
//! can take an O(shards) snapshot and go on writing while clients keep writing.
//!
//! Copy-on-write, the way a fork gives it to Redis: while a snapshot is alive, the first write
//! to a shard clones that shard (only then is its `Arc` shared), and the cloned bytes are
//! counted as copy-on-write memory, reported in the "RDB: N MB of memory used by
//! copy-on-write" log line.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::rdb::Value;

/// Shards per database. More shards make snapshots a bit dearer (one pointer copy each) but
/// lookups shallower and copy-on-write finer.
pub const SHARDS: usize = 1024;

/// One key's value and absolute expire time (unix ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub value: Arc<Value>,
    pub expire_ms: Option<i64>,
}

/// A shard is a hash table, as Redis's `dict` is: one probe and usually one key comparison
/// per lookup (an ordered map compared the key with ~log2(n) others, each in its own
/// allocation: a third of a pipelined GET's time). Its hasher has no random state, so
/// iteration order (SCAN, KEYS, the RDB's key order) is the same on every run.
pub type Shard = HashMap<Key, Entry, BuildHasherDefault<KeyHasher>>;

/// Longest key kept inside the table's own slot.
const INLINE_KEY: usize = 22;

/// A key as a shard stores it: up to [`INLINE_KEY`] bytes inline in the table's slot (most
/// keys; a lookup then finds key and entry in the slot it probes, where a `Vec` sent every
/// comparison to another allocation: a cache miss per pipelined GET, ~8% of its time),
/// longer ones on the heap. As big as a `Vec<u8>`; hashes and compares as its bytes, so a
/// table is searched with a plain `&[u8]`.
#[derive(Clone)]
pub enum Key {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<Key>() == std::mem::size_of::<Vec<u8>>());

impl Key {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

impl From<Vec<u8>> for Key {
    fn from(v: Vec<u8>) -> Key {
        if v.len() <= INLINE_KEY {
            let mut bytes = [0; INLINE_KEY];
            bytes[..v.len()].copy_from_slice(&v);
            Key::Inline {
                len: v.len() as u8,
                bytes,
            }
        } else {
            Key::Heap(v.into_boxed_slice())
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::hash::Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

const FNV_OFFSET: u64 = 0xcbf29ce484222325;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// FNV-1a: a stable hash, so shard placement (and SCAN order) is the same on every run.
fn shard_of(key: &[u8]) -> usize {
    (fnv1a(FNV_OFFSET, key) % SHARDS as u64) as usize
}

/// The hash inside a shard: FNV-1a with a final mix (SplitMix64's), since every key of a
/// shard has the same FNV value modulo [`SHARDS`] and the table indexes by the low bits.
#[derive(Clone, Copy)]
pub struct KeyHasher(u64);

impl Default for KeyHasher {
    fn default() -> Self {
        KeyHasher(FNV_OFFSET)
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv1a(self.0, bytes);
    }

    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
}

fn shard_bytes(s: &Shard) -> u64 {
    s.iter()
        .map(|(k, e)| (k.len() + 48 + e.value.approx_bytes()) as u64)
        .sum()
}

/// One logical database (`SELECT n`).
#[derive(Clone, Debug, Default)]
pub struct Db {
    /// Empty until the first write, so 16 unused databases cost nothing.
    shards: Vec<Arc<Shard>>,
    /// Keys with a TTL per shard, so the expiry cycle skips shards without any.
    shard_expires: Vec<u32>,
    len: usize,
    expires: usize,
}

impl Db {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn expires(&self) -> usize {
        self.expires
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.shards.get(shard_of(key))?.get(key)
    }

    fn shard_mut(&mut self, idx: usize, cow: &CowCounter) -> &mut Shard {
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| Arc::new(Shard::default())).collect();
            self.shard_expires = vec![0; SHARDS];
        }
        let arc = &mut self.shards[idx];
        if Arc::strong_count(arc) > 1 {
            // A snapshot holds this shard: this write is the page fault of a forked child.
            cow.add(shard_bytes(arc));
        }
        Arc::make_mut(arc)
    }

    /// Inserts or replaces a key.
    pub fn set(&mut self, key: Vec<u8>, entry: Entry, cow: &CowCounter) {
        let has_exp = entry.expire_ms.is_some();
        let idx = shard_of(&key);
        let old = self.shard_mut(idx, cow).insert(Key::from(key), entry);
        match old {
            Some(o) => {
                if o.expire_ms.is_some() {
                    self.expires -= 1;
                    self.shard_expires[idx] -= 1;
                }
            }
            None => self.len += 1,
        }
        if has_exp {
            self.expires += 1;
            self.shard_expires[idx] += 1;
        }
    }

    pub fn remove(&mut self, key: &[u8], cow: &CowCounter) -> Option<Entry> {
        let idx = shard_of(key);
        if !self.shards.get(idx).is_some_and(|s| s.contains_key(key)) {
            return None;
        }
        let old = self.shard_mut(idx, cow).remove(key)?;
        self.len -= 1;
        if old.expire_ms.is_some() {
            self.expires -= 1;
            self.shard_expires[idx] -= 1;
        }
        Some(old)
    }

    /// Mutable access to a key's entry (its shard is copied first if a snapshot shares it).
    pub fn get_mut(&mut self, key: &[u8], cow: &CowCounter) -> Option<&mut Entry> {
        let idx = shard_of(key);
        if !self.shards.get(idx).is_some_and(|s| s.contains_key(key)) {
            return None;
        }
        self.shard_mut(idx, cow).get_mut(key)
    }

    /// Changes a key's expire time; false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], expire_ms: Option<i64>, cow: &CowCounter) -> bool {
        let idx = shard_of(key);
        if !self.shards.get(idx).is_some_and(|s| s.contains_key(key)) {
            return false;
        }
        let Some(e) = self.shard_mut(idx, cow).get_mut(key) else {
            return false;
        };
        let had = e.expire_ms.is_some();
        e.expire_ms = expire_ms;
        match (had, expire_ms.is_some()) {
            (true, false) => {
                self.expires -= 1;
                self.shard_expires[idx] -= 1;
            }
            (false, true) => {
                self.expires += 1;
                self.shard_expires[idx] += 1;
            }
            _ => {}
        }
        true
    }

    /// Keys in shard `idx` (for SCAN); empty if out of range.
    pub fn shard_keys(&self, idx: usize) -> Vec<Vec<u8>> {
        self.shards
            .get(idx)
            .map(|s| s.keys().map(|k| k.to_vec()).collect())
            .unwrap_or_default()
    }

    /// All keys, shard by shard.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.shards
            .iter()
            .flat_map(|s| s.iter().map(|(k, e)| (k.as_bytes(), e)))
    }

    /// Keys of shards `[from, from + count)` whose expire time is at or before `now_ms`:
    /// the active expiry cycle walks the shards a few at a time, so its cost per tick does not
    /// grow with the dataset (Redis samples keys with a TTL for the same reason).
    pub fn expired_in_shards(&self, from: usize, count: usize, now_ms: i64) -> Vec<Vec<u8>> {
        if self.expires == 0 {
            return Vec::new();
        }
        self.shards
            .iter()
            .zip(&self.shard_expires)
            .skip(from)
            .take(count)
            .filter(|(_, n)| **n > 0)
            .flat_map(|(s, _)| s.iter())
            .filter(|(_, e)| e.expire_ms.is_some_and(|t| t <= now_ms))
            .map(|(k, _)| k.to_vec())
            .collect()
    }
}

/// Bytes copied because of writes during a snapshot.
#[derive(Debug, Default)]
pub struct CowCounter(AtomicU64);

impl CowCounter {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// All databases plus the copy-on-write counter of the current snapshot, if any.
#[derive(Debug)]
pub struct Keyspace {
    pub dbs: Vec<Db>,
    pub cow: Arc<CowCounter>,
}

/// A frozen view of every database (what a fork child sees).
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub dbs: Vec<Db>,
    pub cow: Arc<CowCounter>,
}

impl Snapshot {
    pub fn keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.len() as u64).sum()
    }
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        Keyspace {
            dbs: (0..databases).map(|_| Db::default()).collect(),
            cow: Arc::new(CowCounter::default()),
        }
    }

    /// Takes a snapshot: O(databases × shards) pointer copies. Writes from now on clone the
    /// shards they touch and count those bytes on the returned snapshot's counter.
    pub fn snapshot(&mut self) -> Snapshot {
        self.cow = Arc::new(CowCounter::default());
        Snapshot {
            dbs: self.dbs.clone(),
            cow: self.cow.clone(),
        }
    }

    pub fn total_keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.len() as u64).sum()
    }

    pub fn db(&self, n: usize) -> &Db {
        &self.dbs[n]
    }

    /// Mutable access plus the current copy-on-write counter.
    pub fn db_mut(&mut self, n: usize) -> (&mut Db, &CowCounter) {
        (&mut self.dbs[n], &self.cow)
    }

    pub fn flush_all(&mut self) {
        for d in &mut self.dbs {
            *d = Db::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Entry {
        Entry {
            value: Arc::new(Value::String(v.as_bytes().to_vec())),
            expire_ms: None,
        }
    }

    #[test]
    fn snapshot_is_isolated_and_counts_cow() {
        let mut ks = Keyspace::new(16);
        for i in 0..1000 {
            let (db, cow) = ks.db_mut(0);
            db.set(format!("k{i}").into_bytes(), s("v"), cow);
        }
        let snap = ks.snapshot();
        assert_eq!(snap.cow.get(), 0);
        let (db, cow) = ks.db_mut(0);
        db.set(b"k1".to_vec(), s("changed"), cow);
        db.remove(b"k2", cow);
        assert!(snap.cow.get() > 0, "writes during a snapshot copy shards");
        assert_eq!(
            snap.dbs[0].get(b"k1").unwrap().value.as_ref(),
            &Value::String(b"v".to_vec())
        );
        assert!(snap.dbs[0].get(b"k2").is_some());
        assert_eq!(snap.keys(), 1000);
        assert_eq!(ks.total_keys(), 999);
        let before = snap.cow.get();
        let (db, cow) = ks.db_mut(0);
        db.set(b"k1".to_vec(), s("again"), cow);
        assert_eq!(snap.cow.get(), before, "a shard is copied once");
    }

    #[test]
    fn expire_bookkeeping() {
        let mut ks = Keyspace::new(1);
        let (db, cow) = ks.db_mut(0);
        db.set(
            b"a".to_vec(),
            Entry {
                expire_ms: Some(10),
                ..s("x")
            },
            cow,
        );
        db.set(b"b".to_vec(), s("y"), cow);
        assert_eq!(db.expires(), 1);
        assert_eq!(db.expired_in_shards(0, SHARDS, 10), vec![b"a".to_vec()]);
        assert!(db.expired_in_shards(0, SHARDS, 9).is_empty());
        assert!(db.set_expire(b"b", Some(5), cow));
        assert_eq!(db.expires(), 2);
        db.remove(b"a", cow);
        assert_eq!((db.len(), db.expires()), (1, 1));
        assert!(!db.set_expire(b"zz", None, cow));
    }
}
