//! The fork child of a BGSAVE for replication, as the simulator plays it: `fork()` freezes
//! the parent for `time-per-gb x dataset` (page tables are copied), then the child writes
//! the RDB at its pace (to disk, or into the replica sockets no faster than the slowest one
//! drains), and the writes the parent takes meanwhile make copy-on-write memory grow.

use super::models::{CowModel, RateCarry};

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

    /// A socket child writes for `dt_ms` at `speed`, but never more than `pipe_cap` ahead
    /// of the slowest replica socket (`queued` bytes still wait there): Redis stops reading
    /// the child's pipe while a replica cannot take more.
    pub fn write_sockets(
        &mut self,
        speed: u64,
        dt_ms: u64,
        pipe_cap: u64,
        queued: u64,
    ) -> ForkStep {
        let n = self
            .carry
            .take(speed, dt_ms)
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
