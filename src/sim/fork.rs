//! The fork child of a BGSAVE for replication, as the simulator plays it: `fork()` freezes
//! the parent for `time-per-gb x dataset` (page tables are copied), then the child writes
//! the RDB at its pace (to disk, or into the replica sockets no faster than the slowest one
//! drains), and the writes the parent takes meanwhile make copy-on-write memory grow.
//!
//! A socket child's first bytes leave only once it has serialised [`FIRST_FLUSH`] of them:
//! `rioFdWrite` (the pipe of a classic diskless sync) and `rioConnsetWrite` (Valkey's dual
//! channel, straight to the sockets) buffer until more than `PROTO_IOBUF_LEN` (16 KB) is
//! waiting. With a slow child that is tens of ms, long enough for a dual-channel replica's
//! main connection to finish its handshake before any RDB byte arrives; with a fast one it
//! is well under a millisecond.

use super::models::{CowModel, RateCarry};

/// `PROTO_IOBUF_LEN`: what a socket child's rio buffers before its first write.
pub const FIRST_FLUSH: u64 = 16 * 1024;

#[derive(Clone, Debug)]
pub struct ForkChild {
    /// The node that forked.
    pub node: usize,
    /// The core's BGSAVE id.
    pub id: u64,
    pub disk: bool,
    /// When `fork()` returns and the child starts writing.
    pub ready_ms: u64,
    total: u64,
    produced: u64,
    /// A socket child: until when its production is counted (ms).
    written_until_ms: u64,
    carry: RateCarry,
    cow: CowModel,
}

/// What the child did in one step.
pub enum ForkStep {
    /// Wrote `n` more bytes of a socket-target RDB.
    Data(u64),
    /// Nothing to write this step.
    Idle,
}

impl ForkChild {
    /// A child of `node` for BGSAVE `id`, writing `total` bytes once `fork()` returns at
    /// `ready_ms`.
    pub fn new(node: usize, id: u64, disk: bool, ready_ms: u64, total: u64) -> ForkChild {
        ForkChild {
            node,
            id,
            disk,
            ready_ms,
            total,
            produced: 0,
            written_until_ms: ready_ms,
            carry: RateCarry::default(),
            cow: CowModel::default(),
        }
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// RDB bytes written so far, of [`ForkChild::total`].
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// The parent took `writes` writes: each dirties a page the child still shares (a disk
    /// child is counted from the fork, a socket child once it runs).
    pub fn on_writes(&mut self, now: u64, writes: u64, dataset: u64, page: u64) -> Option<u64> {
        if now >= self.ready_ms || self.disk {
            self.cow.on_writes(writes, dataset, page);
            return Some(self.cow.peak);
        }
        None
    }

    /// Copy-on-write memory it holds now.
    pub fn cow_bytes(&self) -> u64 {
        self.cow.current
    }

    /// Fraction of the RDB written so far.
    pub fn progress(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.produced as f64 / self.total as f64
        }
    }

    /// A disk child writes for `dt_ms` at `speed`: true once the whole file is written.
    pub fn write_disk(&mut self, speed: u64, dt_ms: u64) -> bool {
        self.produced = (self.produced + self.carry.take(speed, dt_ms)).min(self.total);
        self.produced >= self.total
    }

    /// When a socket child serialising at `speed` first writes (ms): once it holds
    /// [`FIRST_FLUSH`] bytes, or the whole RDB if that is smaller.
    pub fn first_flush_ms(&self, speed: u64) -> u64 {
        let first = FIRST_FLUSH.min(self.total) as u128;
        self.ready_ms + (first * 1000).div_ceil(speed.max(1) as u128) as u64
    }

    /// A socket child writes what it serialised at `speed` up to `now_ms`, but never more
    /// than `pipe_cap` ahead of the slowest replica socket (`queued` bytes still wait there):
    /// Redis stops reading the child's pipe while a replica cannot take more. Nothing before
    /// its first flush.
    pub fn write_sockets(
        &mut self,
        speed: u64,
        now_ms: u64,
        pipe_cap: u64,
        queued: u64,
    ) -> ForkStep {
        if now_ms < self.first_flush_ms(speed) {
            return ForkStep::Idle;
        }
        let dt = now_ms.saturating_sub(self.written_until_ms);
        self.written_until_ms = self.written_until_ms.max(now_ms);
        let n = self
            .carry
            .take(speed, dt)
            .min(self.total - self.produced)
            .min(pipe_cap.saturating_sub(queued));
        if n == 0 {
            return ForkStep::Idle;
        }
        self.produced += n;
        ForkStep::Data(n)
    }

    /// Every byte is written (a socket child still waits for its replicas to drain).
    pub fn written(&self) -> bool {
        self.produced >= self.total
    }
}
