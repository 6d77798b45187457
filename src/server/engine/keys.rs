//! The keyspace as commands see it: lookups that apply lazy expiry the way the role demands,
//! writes, active expiry, and the master stream's selected database.

use std::sync::Arc;

use super::Engine;
use crate::rdb::Value;
use crate::server::keyspace::{Entry, Keyspace, SHARDS};
use crate::server::types::Ctx;

impl Engine {
    pub fn ks(&self) -> &Keyspace {
        &self.ks
    }

    pub fn ks_mut(&mut self) -> &mut Keyspace {
        &mut self.ks
    }

    pub fn databases(&self) -> usize {
        self.ks.dbs.len()
    }

    /// Finds a live key. Expired keys: a master deletes them and propagates `DEL` (expiry is
    /// the master's decision, `expireIfNeeded`); a replica reports them missing to clients but
    /// keeps them until its master's `DEL`; the master stream sees them as they are.
    pub fn lookup(&mut self, ctx: &Ctx, key: &[u8]) -> Option<Entry> {
        let e = self.ks.db(ctx.db).get(key)?;
        // The clock is read only for keys with a TTL (most lookups have none).
        let expired = e.expire_ms.is_some_and(|t| t <= self.unix_ms());
        if !expired || ctx.from_master() {
            return Some(e.clone());
        }
        if !self.core.is_replica() {
            self.expire_key(ctx.db, key);
        }
        None
    }

    /// Deletes an expired key and propagates `DEL`, as `deleteExpiredKeyAndPropagate` does.
    pub fn expire_key(&mut self, db: usize, key: &[u8]) {
        let (d, cow) = self.ks.db_mut(db);
        if d.remove(key, cow).is_some() {
            self.stats.expired_keys += 1;
            self.propagate(db, &[b"DEL".to_vec(), key.to_vec()]);
        }
    }

    /// Active expiry (`activeExpireCycle`), masters only: a slice of the shards per tick.
    pub fn active_expire(&mut self, shards_per_tick: usize) {
        if self.core.is_replica() || self.loading {
            return;
        }
        let now = self.unix_ms();
        let from = self.expire_cursor;
        for db in 0..self.ks.dbs.len() {
            for k in self.ks.db(db).expired_in_shards(from, shards_per_tick, now) {
                self.expire_key(db, &k);
            }
        }
        self.expire_cursor = (from + shards_per_tick) % SHARDS;
    }

    pub fn set_value(&mut self, db: usize, key: &[u8], value: Value, expire_ms: Option<i64>) {
        let (d, cow) = self.ks.db_mut(db);
        d.set(
            key.to_vec(),
            Entry {
                value: Arc::new(value),
                expire_ms,
            },
            cow,
        );
    }

    pub fn remove_key(&mut self, db: usize, key: &[u8]) -> bool {
        let (d, cow) = self.ks.db_mut(db);
        d.remove(key, cow).is_some()
    }

    /// Propagates a write unless it came from our master (the core forwards that stream to
    /// sub-replicas itself).
    pub fn prop(&mut self, ctx: &Ctx, argv: &[Vec<u8>]) {
        if ctx.from_master() {
            self.save.dirty += 1;
        } else {
            self.propagate(ctx.db, argv);
        }
    }

    /// The database our master's stream writes to.
    pub fn master_db(&self) -> usize {
        self.master_db
    }

    pub fn set_master_db(&mut self, db: usize) {
        if db < self.ks.dbs.len() {
            self.master_db = db;
        }
    }

    /// Warns once per command name that the master stream held something we cannot apply.
    pub fn warn_unsupported_from_master(&mut self, name: &str) {
        if self.unsupported_warned.insert(name.to_string()) {
            // Logged once per command name: the data now differs from the master's.
            self.warning(&format!(
                "Command '{name}' from the master stream is not supported by this server; ignored (the dataset now differs from the master's)"
            ));
        }
    }
}
