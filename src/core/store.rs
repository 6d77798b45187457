//! The replication stream store: `master_repl_offset`, the backlog and the replicas' output
//! buffers, in both buffer models.
//!
//! * 7.0 (`SharedBuffer`): one list of blocks (`repl_buffer_blocks`); the backlog and every
//!   replica are readers holding a reference to the block they are positioned in. A lagging
//!   replica pins old blocks, so the backlog can grow past `repl-backlog-size`.
//! * 6.x (`V6Store`): a fixed ring backlog plus a private reply list per replica holding a
//!   copy of the stream.
//!
//! Why 7.0 changed it: with N replicas, 6.x kept N+1 copies of every write (the backlog and
//! each output buffer), so memory grew with the replica count and a write cost N+1 copies.
//! 7.0 keeps one copy that everyone reads; a block is freed when no reader needs it and the
//! backlog has more than its size without it. The price is what the 7.0 model shows here: a
//! slow replica keeps every block it has not sent, and the backlog window with them.
//!
//! Both store `Payload` chunks, so simulated data costs a few bytes whatever its size.

use std::collections::{BTreeMap, VecDeque};

#[cfg(test)]
use super::payload::total_len;
use super::payload::{copy_range, push_merged, Chunks, Payload};
use super::version::BufferModel;
use super::ConnId;

/// `PROTO_REPLY_CHUNK_BYTES`: the smallest block / reply node.
pub const PROTO_REPLY_CHUNK_BYTES: u64 = 16 * 1024;
/// `sizeof(replBufBlock)` on 64-bit Linux (refcount + id + repl_offset + size + used).
pub const REPL_BUF_BLOCK_HEADER: u64 = 40;
/// `sizeof(listNode)`.
pub const LIST_NODE: u64 = 24;
/// `sizeof(clientReplyBlock)` (6.x reply list node header).
pub const CLIENT_REPLY_BLOCK_HEADER: u64 = 16;
/// `REPL_BACKLOG_TRIM_BLOCKS_PER_CALL`: freeing many blocks at once (after replicas that
/// pinned them left) would stall the event loop, so trimming is incremental.
pub const TRIM_BLOCKS_PER_CALL: usize = 64;
/// `beforeSleep` trims ten times as many per call, "to free replication backlog as much as
/// possible": that is what frees the blocks a departed replica pinned once writes stop.
pub const TRIM_BLOCKS_BEFORE_SLEEP: usize = 10 * TRIM_BLOCKS_PER_CALL;

/// jemalloc's usable size for an allocation of `n` bytes. Redis sizes blocks with
/// `zmalloc_usable`, so a 16 KiB block plus its 40-byte header lands in the 20 KiB class and
/// holds 20440 bytes (the observed `omem` figures only add up with this).
pub fn jemalloc_usable(n: u64) -> u64 {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    // Four size classes per doubling: spacing is a quarter of the lower power of two.
    let lg = 63 - (n - 1).leading_zeros() as u64; // floor(log2(n-1))
    let delta = 1u64 << (lg.saturating_sub(2));
    n.div_ceil(delta) * delta
}

#[derive(Clone, Debug)]
struct Block {
    id: u64,
    /// Stream offset of the block's first byte.
    repl_offset: i64,
    size: u64,
    used: u64,
    refcount: u32,
    data: Chunks,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reader {
    block_id: u64,
    pos: u64,
}

#[derive(Clone, Debug)]
struct BacklogRef {
    block_id: Option<u64>,
    histlen: u64,
    offset: i64,
}

/// Redis 7.0's shared replication buffer (`repl_buffer_blocks` + `replBacklog`).
#[derive(Clone, Debug, Default)]
pub struct SharedBuffer {
    blocks: VecDeque<Block>,
    next_id: u64,
    mem: u64,
    readers: BTreeMap<ConnId, Reader>,
    backlog: Option<BacklogRef>,
}

impl SharedBuffer {
    fn idx(&self, id: u64) -> Option<usize> {
        let first = self.blocks.front()?.id;
        let i = id.checked_sub(first)? as usize;
        (i < self.blocks.len()).then_some(i)
    }

    fn block_size_for(len: u64, backlog_size: u64) -> u64 {
        // 7.0.10+ (#11666): min(max(len, 16KiB), max(size/16, 16KiB)) so one huge write does
        // not become one huge block that keeps a replica over its limit after it was sent.
        let limit = (backlog_size / 16).max(PROTO_REPLY_CHUNK_BYTES);
        let want = len.max(PROTO_REPLY_CHUNK_BYTES).min(limit);
        jemalloc_usable(want + REPL_BUF_BLOCK_HEADER) - REPL_BUF_BLOCK_HEADER
    }

    /// `feedReplicationBuffer`. Returns whether a new block was added (the moment 7.0
    /// checks output buffer limits).
    fn feed(
        &mut self,
        p: Payload,
        mro_before: i64,
        eligible: &[ConnId],
        backlog_size: u64,
    ) -> bool {
        let len = p.len();
        if len == 0 {
            return false;
        }
        let mut placed = 0u64;
        let start = match self.blocks.back() {
            Some(t) if t.used < t.size => (t.id, t.used),
            _ => (self.next_id, 0),
        };
        if let Some(t) = self.blocks.back_mut() {
            let free = t.size - t.used;
            if free > 0 {
                let n = free.min(len);
                t.data.push_merged(p.slice(0, n));
                t.used += n;
                placed = n;
            }
        }
        let mut new_block = false;
        while placed < len {
            let rem = len - placed;
            let size = Self::block_size_for(rem, backlog_size);
            let n = size.min(rem);
            let mut data = Chunks::default();
            data.push_merged(p.slice(placed, n));
            self.blocks.push_back(Block {
                id: self.next_id,
                repl_offset: mro_before + 1 + placed as i64,
                size,
                used: n,
                refcount: 0,
                data,
            });
            self.next_id += 1;
            self.mem += size + REPL_BUF_BLOCK_HEADER + LIST_NODE;
            placed += n;
            new_block = true;
        }
        // Readers that just became eligible start at the first appended byte.
        for c in eligible {
            if !self.readers.contains_key(c) {
                self.readers.insert(
                    *c,
                    Reader {
                        block_id: start.0,
                        pos: start.1,
                    },
                );
                if let Some(i) = self.idx(start.0) {
                    self.blocks[i].refcount += 1;
                }
            }
        }
        let start_idx = self.idx(start.0);
        if let Some(b) = self.backlog.as_mut() {
            if b.block_id.is_none() {
                b.block_id = Some(start.0);
                if let Some(i) = start_idx {
                    self.blocks[i].refcount += 1;
                }
            }
            b.histlen += len;
        }
        new_block
    }

    /// `incrementalTrimReplicationBacklog`: free up to `max_blocks` whole head blocks only the
    /// backlog still references, never going below `size`.
    fn trim(&mut self, size: u64, mro: i64, max_blocks: usize) {
        let mut freed = 0;
        while freed < max_blocks {
            let Some(b) = self.backlog.as_ref() else {
                break;
            };
            if b.histlen <= size || self.blocks.len() <= 1 {
                break;
            }
            let head = &self.blocks[0];
            if head.refcount != 1 || b.histlen - head.used <= size {
                break;
            }
            let used = head.used;
            let sz = head.size;
            self.blocks.pop_front();
            self.mem -= sz + REPL_BUF_BLOCK_HEADER + LIST_NODE;
            if let Some(nb) = self.blocks.front_mut() {
                nb.refcount += 1;
                let nid = nb.id;
                if let Some(b) = self.backlog.as_mut() {
                    b.block_id = Some(nid);
                    b.histlen -= used;
                }
            }
            freed += 1;
        }
        self.free_unreferenced_head();
        if let Some(b) = self.backlog.as_mut() {
            b.offset = mro - b.histlen as i64 + 1;
        }
    }

    /// Without a backlog, blocks nobody references are garbage.
    fn free_unreferenced_head(&mut self) {
        if self.backlog.is_some() {
            return;
        }
        while let Some(h) = self.blocks.front() {
            if h.refcount > 0 {
                break;
            }
            self.mem -= h.size + REPL_BUF_BLOCK_HEADER + LIST_NODE;
            self.blocks.pop_front();
        }
    }

    /// Up to `max` bytes for reader `conn` from its position (`writeToClient` on a replica:
    /// it writes straight from the shared blocks, no copy of its own).
    fn take(&mut self, conn: ConnId, max: u64) -> Vec<Payload> {
        let mut out = Vec::new();
        let Some(mut r) = self.readers.get(&conn).copied() else {
            return out;
        };
        let mut left = max;
        while let Some(i) = self.idx(r.block_id) {
            let avail = self.blocks[i].used.saturating_sub(r.pos);
            if avail > 0 && left > 0 {
                let n = avail.min(left);
                self.blocks[i].data.copy_range(r.pos, n, &mut out);
                r.pos += n;
                left -= n;
            }
            // Move to the next block once this one is fully sent (writeToClient does the
            // same), so the old block's refcount drops and trimming may free it.
            if r.pos >= self.blocks[i].used && i + 1 < self.blocks.len() {
                self.blocks[i].refcount = self.blocks[i].refcount.saturating_sub(1);
                self.blocks[i + 1].refcount += 1;
                r = Reader {
                    block_id: self.blocks[i + 1].id,
                    pos: 0,
                };
                continue;
            }
            break;
        }
        self.readers.insert(conn, r);
        out
    }

    fn pending(&self, conn: ConnId) -> u64 {
        let Some(r) = self.readers.get(&conn) else {
            return 0;
        };
        let (Some(i), Some(last)) = (self.idx(r.block_id), self.blocks.back()) else {
            return 0;
        };
        // Blocks are contiguous in offset space: O(1) instead of walking the list.
        let end = last.repl_offset + last.used as i64;
        let at = self.blocks[i].repl_offset + r.pos as i64;
        (end - at).max(0) as u64
    }

    /// `getClientOutputBufferMemoryUsage` for a 7.0 replica: the whole first
    /// referenced block, the tail's whole capacity, plus per-block overhead.
    fn used(&self, conn: ConnId) -> u64 {
        let Some(r) = self.readers.get(&conn) else {
            return 0;
        };
        let (Some(i), Some(last)) = (self.idx(r.block_id), self.blocks.back()) else {
            return 0;
        };
        let first = &self.blocks[i];
        let bytes = (last.repl_offset + last.size as i64 - first.repl_offset).max(0) as u64;
        bytes + (last.id - first.id + 1) * (REPL_BUF_BLOCK_HEADER + LIST_NODE)
    }

    fn oll(&self, conn: ConnId) -> u64 {
        let Some(r) = self.readers.get(&conn) else {
            return 0;
        };
        match self.blocks.back() {
            Some(last) => last.id.saturating_sub(r.block_id) + 1,
            None => 0,
        }
    }

    fn detach(&mut self, conn: ConnId) {
        if let Some(r) = self.readers.remove(&conn) {
            if let Some(i) = self.idx(r.block_id) {
                self.blocks[i].refcount = self.blocks[i].refcount.saturating_sub(1);
            }
        }
    }

    /// PSYNC continuation: position `conn` at stream offset `off` (`addReplyReplicationBacklog`).
    fn attach_at(&mut self, conn: ConnId, off: i64) {
        self.detach(conn);
        let Some(i) = self.blocks.iter().rposition(|b| b.repl_offset <= off) else {
            return;
        };
        let pos = (off - self.blocks[i].repl_offset) as u64;
        self.blocks[i].refcount += 1;
        let id = self.blocks[i].id;
        self.readers.insert(conn, Reader { block_id: id, pos });
    }

    fn copy_reader(&mut self, from: ConnId, to: ConnId) {
        self.detach(to);
        if let Some(r) = self.readers.get(&from).copied() {
            if let Some(i) = self.idx(r.block_id) {
                self.blocks[i].refcount += 1;
            }
            self.readers.insert(to, r);
        }
    }

    fn free_backlog(&mut self) {
        if let Some(b) = self.backlog.take() {
            if let Some(id) = b.block_id {
                if let Some(i) = self.idx(id) {
                    self.blocks[i].refcount = self.blocks[i].refcount.saturating_sub(1);
                }
            }
        }
        self.free_unreferenced_head();
    }

    /// Bytes `[off, off+len)` of the backlog (for tests and introspection).
    fn read_range(&self, off: i64, len: u64) -> Vec<Payload> {
        let mut out = Vec::new();
        let mut want_off = off;
        let mut left = len;
        for b in &self.blocks {
            if left == 0 {
                break;
            }
            let bend = b.repl_offset + b.used as i64;
            if bend <= want_off {
                continue;
            }
            let s = (want_off - b.repl_offset).max(0) as u64;
            let n = (b.used - s).min(left);
            b.data.copy_range(s, n, &mut out);
            left -= n;
            want_off += n as i64;
        }
        out
    }
}

/// A 6.x private reply list node.
#[derive(Clone, Debug)]
struct Node {
    size: u64,
    used: u64,
    data: Chunks,
}

#[derive(Clone, Debug, Default)]
struct PrivateList {
    nodes: VecDeque<Node>,
    /// Bytes of the head node already sent (`sentlen`).
    sent: u64,
}

impl PrivateList {
    /// `_addReplyProtoToList` (6.2): fill the tail, then one node of max(len, 16 KiB).
    fn append(&mut self, p: &Payload) -> bool {
        let len = p.len();
        let mut placed = 0;
        if let Some(t) = self.nodes.back_mut() {
            let n = (t.size - t.used).min(len);
            if n > 0 {
                t.data.push_merged(p.slice(0, n));
                t.used += n;
                placed = n;
            }
        }
        if placed < len {
            let rem = len - placed;
            let size =
                jemalloc_usable(rem.max(PROTO_REPLY_CHUNK_BYTES) + CLIENT_REPLY_BLOCK_HEADER)
                    - CLIENT_REPLY_BLOCK_HEADER;
            let mut data = Chunks::default();
            data.push_merged(p.slice(placed, rem));
            self.nodes.push_back(Node {
                size,
                used: rem,
                data,
            });
            return true;
        }
        false
    }

    fn take(&mut self, max: u64) -> Vec<Payload> {
        let mut out = Vec::new();
        let mut left = max;
        while left > 0 {
            let Some(h) = self.nodes.front_mut() else {
                break;
            };
            let avail = h.used - self.sent;
            let n = avail.min(left);
            if n > 0 {
                h.data.copy_range(self.sent, n, &mut out);
                self.sent += n;
                left -= n;
            }
            if self.sent >= h.used {
                self.nodes.pop_front();
                self.sent = 0;
            } else {
                break;
            }
        }
        out
    }

    fn pending(&self) -> u64 {
        self.nodes.iter().map(|n| n.used).sum::<u64>() - self.sent
    }

    /// 6.2: `reply_bytes` (allocated node sizes) plus list overhead per node.
    fn used(&self) -> u64 {
        self.nodes.iter().map(|n| n.size).sum::<u64>()
            + self.nodes.len() as u64 * (LIST_NODE + CLIENT_REPLY_BLOCK_HEADER)
    }
}

/// Redis 6.x: ring backlog plus private copies.
#[derive(Clone, Debug, Default)]
struct V6Store {
    ring: Option<Ring>,
    private: BTreeMap<ConnId, PrivateList>,
}

#[derive(Clone, Debug)]
struct Ring {
    size: u64,
    data: VecDeque<Payload>,
    histlen: u64,
    offset: i64,
}

/// The model's data.
#[derive(Clone, Debug)]
enum Buffers {
    V6(V6Store),
    V7(SharedBuffer),
}

/// The replication stream of one node: its offset (`master_repl_offset`), the backlog
/// (`repl-backlog-size`, kept here) and what each replica still has to receive, in the buffer
/// model the node's version picks.
#[derive(Clone, Debug)]
pub struct StreamStore {
    buffers: Buffers,
    backlog_size: u64,
    /// `master_repl_offset`: stream bytes produced (master) or applied and relayed (replica).
    offset: i64,
}

impl StreamStore {
    /// A store without a backlog at offset 0 (how every process starts).
    pub fn new(model: BufferModel, backlog_size: u64) -> Self {
        StreamStore {
            buffers: Self::empty(model),
            backlog_size,
            offset: 0,
        }
    }

    fn empty(model: BufferModel) -> Buffers {
        match model {
            BufferModel::V6 => Buffers::V6(V6Store::default()),
            BufferModel::V7 => Buffers::V7(SharedBuffer::default()),
        }
    }

    pub fn model(&self) -> BufferModel {
        match self.buffers {
            Buffers::V6(_) => BufferModel::V6,
            Buffers::V7(_) => BufferModel::V7,
        }
    }

    /// `master_repl_offset`.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// Rebase the offset while there is no backlog: a replica adopting its master's offset
    /// after a full sync, a master restarted from an RDB carrying `repl-offset`.
    pub fn set_offset(&mut self, offset: i64) {
        self.offset = offset;
    }

    /// Switch buffer models (no reader may exist): the backlog, if any, starts empty.
    pub fn switch_model(&mut self, model: BufferModel) {
        let had = self.has_backlog();
        self.buffers = Self::empty(model);
        if had {
            self.create_backlog();
        }
    }

    pub fn has_backlog(&self) -> bool {
        match &self.buffers {
            Buffers::V6(s) => s.ring.is_some(),
            Buffers::V7(s) => s.backlog.is_some(),
        }
    }

    /// `createReplicationBacklog`: empty, its first byte the next one the stream produces.
    pub fn create_backlog(&mut self) {
        let (size, first) = (self.backlog_size, self.offset + 1);
        match &mut self.buffers {
            Buffers::V6(s) => {
                s.ring = Some(Ring {
                    size,
                    data: VecDeque::new(),
                    histlen: 0,
                    offset: first,
                })
            }
            Buffers::V7(s) => {
                s.free_backlog();
                s.backlog = Some(BacklogRef {
                    block_id: None,
                    histlen: 0,
                    offset: first,
                })
            }
        }
    }

    pub fn free_backlog(&mut self) {
        match &mut self.buffers {
            Buffers::V6(s) => s.ring = None,
            Buffers::V7(s) => s.free_backlog(),
        }
    }

    /// `repl-backlog-size` as the store applies it.
    pub fn backlog_size(&self) -> u64 {
        self.backlog_size
    }

    /// `repl_backlog_first_byte_offset` (0 without a backlog, as INFO prints it).
    pub fn backlog_offset(&self) -> i64 {
        match &self.buffers {
            Buffers::V6(s) => s.ring.as_ref().map_or(0, |r| r.offset),
            Buffers::V7(s) => s.backlog.as_ref().map_or(0, |b| b.offset),
        }
    }

    pub fn histlen(&self) -> u64 {
        match &self.buffers {
            Buffers::V6(s) => s.ring.as_ref().map_or(0, |r| r.histlen),
            Buffers::V7(s) => s.backlog.as_ref().map_or(0, |b| b.histlen),
        }
    }

    /// Append stream bytes (`feedReplicationBuffer`; the caller has checked a backlog exists)
    /// and advance the offset. Returns the readers whose output buffer limit must be checked
    /// now (7.0: on a new shared block; 6.x: on a new private node).
    pub fn feed(&mut self, p: &Payload, eligible: &[ConnId]) -> Vec<ConnId> {
        let len = p.len();
        let mro_before = self.offset;
        let mro_after = mro_before + len as i64;
        self.offset = mro_after;
        let backlog_size = self.backlog_size;
        match &mut self.buffers {
            Buffers::V7(s) => {
                let nb = s.feed(p.clone(), mro_before, eligible, backlog_size);
                if nb {
                    s.trim(backlog_size, mro_after, TRIM_BLOCKS_PER_CALL);
                } else if let Some(b) = s.backlog.as_mut() {
                    b.offset = mro_after - b.histlen as i64 + 1;
                }
                if nb {
                    eligible.to_vec()
                } else {
                    Vec::new()
                }
            }
            Buffers::V6(s) => {
                if let Some(r) = s.ring.as_mut() {
                    push_merged(&mut r.data, p.clone());
                    r.histlen += len;
                    if r.histlen > r.size {
                        let excess = r.histlen - r.size;
                        super::payload::drop_front(&mut r.data, excess);
                        r.histlen = r.size;
                    }
                    r.offset = mro_after - r.histlen as i64 + 1;
                }
                let mut check = Vec::new();
                for c in eligible {
                    if s.private.entry(*c).or_default().append(p) {
                        check.push(*c);
                    }
                }
                check
            }
        }
    }

    /// PSYNC continuation (`addReplyReplicationBacklog`): `conn` receives the backlog from
    /// `off` on, then the stream.
    pub fn attach_at(&mut self, conn: ConnId, off: i64) {
        let mro = self.offset;
        match &mut self.buffers {
            Buffers::V7(s) => s.attach_at(conn, off),
            Buffers::V6(s) => {
                let mut list = PrivateList::default();
                if let Some(r) = s.ring.as_ref() {
                    let mut out = Vec::new();
                    let start = (off - r.offset).max(0) as u64;
                    let len = (mro - off + 1).max(0) as u64;
                    copy_range(&r.data, start, len, &mut out);
                    for p in out {
                        list.append(&p);
                    }
                }
                s.private.insert(conn, list);
            }
        }
    }

    /// Joining a running disk BGSAVE: take over `from`'s position (7.0) or copy its buffer
    /// (6.x `copyClientOutputBuffer`).
    pub fn copy_reader(&mut self, from: ConnId, to: ConnId) {
        match &mut self.buffers {
            Buffers::V7(s) => s.copy_reader(from, to),
            Buffers::V6(s) => {
                if let Some(l) = s.private.get(&from).cloned() {
                    s.private.insert(to, l);
                }
            }
        }
    }

    pub fn detach(&mut self, conn: ConnId) {
        let (size, mro) = (self.backlog_size, self.offset);
        match &mut self.buffers {
            Buffers::V7(s) => {
                s.detach(conn);
                s.trim(size, mro, TRIM_BLOCKS_PER_CALL);
            }
            Buffers::V6(s) => {
                s.private.remove(&conn);
            }
        }
    }

    pub fn take(&mut self, conn: ConnId, max: u64) -> Vec<Payload> {
        let (size, mro) = (self.backlog_size, self.offset);
        match &mut self.buffers {
            Buffers::V7(s) => {
                let out = s.take(conn, max);
                s.trim(size, mro, TRIM_BLOCKS_PER_CALL);
                out
            }
            Buffers::V6(s) => s
                .private
                .get_mut(&conn)
                .map(|l| l.take(max))
                .unwrap_or_default(),
        }
    }

    pub fn pending(&self, conn: ConnId) -> u64 {
        match &self.buffers {
            Buffers::V7(s) => s.pending(conn),
            Buffers::V6(s) => s.private.get(&conn).map_or(0, |l| l.pending()),
        }
    }

    /// The output buffer size the limit is measured against.
    pub fn used(&self, conn: ConnId) -> u64 {
        match &self.buffers {
            Buffers::V7(s) => s.used(conn),
            Buffers::V6(s) => s.private.get(&conn).map_or(0, |l| l.used()),
        }
    }

    /// `oll` for the client info string.
    pub fn oll(&self, conn: ConnId) -> u64 {
        match &self.buffers {
            Buffers::V7(s) => s.oll(conn),
            Buffers::V6(s) => s.private.get(&conn).map_or(0, |l| l.nodes.len() as u64),
        }
    }

    /// `beforeSleep`'s `incrementalTrimReplicationBacklog(10 * REPL_BACKLOG_TRIM_BLOCKS_PER_CALL)`:
    /// after every turn of the event loop, not only when a block is added, so the backlog
    /// shrinks back to its size when writes stop and when a replica that pinned old blocks
    /// leaves. (6.x's ring never outgrows its size.)
    pub fn trim_before_sleep(&mut self) {
        let (size, mro) = (self.backlog_size, self.offset);
        if let Buffers::V7(s) = &mut self.buffers {
            s.trim(size, mro, TRIM_BLOCKS_BEFORE_SLEEP);
        }
    }

    /// Runtime `repl-backlog-size` change. 7.0 keeps history and trims toward the new size;
    /// 6.x (`resizeReplicationBacklog`) throws the old buffer away.
    pub fn resize(&mut self, size: u64) {
        self.backlog_size = size;
        let mro = self.offset;
        match &mut self.buffers {
            Buffers::V7(s) => s.trim(size, mro, TRIM_BLOCKS_PER_CALL),
            Buffers::V6(s) => {
                if let Some(r) = s.ring.as_mut() {
                    if r.size != size {
                        *r = Ring {
                            size,
                            data: VecDeque::new(),
                            histlen: 0,
                            offset: mro + 1,
                        };
                    }
                }
            }
        }
    }

    /// Memory of the replication buffers (7.0 `repl_buffer_mem`; 6.x ring + private lists).
    pub fn mem(&self) -> u64 {
        match &self.buffers {
            Buffers::V7(s) => s.mem,
            Buffers::V6(s) => {
                s.ring.as_ref().map_or(0, |r| r.size)
                    + s.private.values().map(|l| l.used()).sum::<u64>()
            }
        }
    }

    /// Backlog content `[off, off+len)`; used by tests and by the views.
    pub fn backlog_range(&self, off: i64, len: u64) -> Vec<Payload> {
        match &self.buffers {
            Buffers::V7(s) => s.read_range(off, len),
            Buffers::V6(s) => {
                let mut out = Vec::new();
                if let Some(r) = s.ring.as_ref() {
                    copy_range(&r.data, (off - r.offset).max(0) as u64, len, &mut out);
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jemalloc_classes() {
        assert_eq!(jemalloc_usable(16384 + 40), 20480);
        assert_eq!(jemalloc_usable(16384), 16384);
        assert_eq!(jemalloc_usable(65536 + 40), 81920);
        assert_eq!(jemalloc_usable(100), 112);
        assert_eq!(SharedBuffer::block_size_for(10, 1 << 20), 20440);
        // size/16 cap: a 10 MB write into a 1 MB backlog makes 64 KiB-class blocks.
        assert_eq!(SharedBuffer::block_size_for(10 << 20, 1 << 20), 81920 - 40);
    }

    const A: ConnId = ConnId(1);
    const B: ConnId = ConnId(2);

    fn v7_with_backlog(size: u64) -> StreamStore {
        let mut s = StreamStore::new(BufferModel::V7, size);
        s.create_backlog();
        s
    }

    fn feed(s: &mut StreamStore, n: u64, el: &[ConnId]) -> Vec<ConnId> {
        s.feed(&Payload::Phantom(n), el)
    }

    #[test]
    fn v7_backlog_trims_whole_blocks_and_stays_above_size() {
        let size = 16384;
        let mut s = v7_with_backlog(size);
        for _ in 0..100 {
            feed(&mut s, 1000, &[]);
        }
        assert_eq!(s.offset(), 100_000);
        assert!(
            s.histlen() >= size,
            "never trimmed below size: {}",
            s.histlen()
        );
        assert!(
            s.histlen() <= size + 2 * 20440,
            "at most the kept head block plus the filling tail above: {}",
            s.histlen()
        );
        assert_eq!(s.backlog_offset(), s.offset() - s.histlen() as i64 + 1);
    }

    #[test]
    fn v7_lagging_reader_pins_blocks_then_releases() {
        let size = 16384;
        let mut s = v7_with_backlog(size);
        feed(&mut s, 10, &[A]);
        for _ in 0..200 {
            feed(&mut s, 1000, &[A]);
        }
        assert_eq!(s.histlen(), 200_010, "the lagging reader keeps every block");
        assert_eq!(s.pending(A), 200_010);
        let used = s.used(A);
        assert!(used >= 200_010, "used counts whole blocks: {used}");
        let got = s.take(A, u64::MAX);
        assert_eq!(total_len(&got), 200_010);
        assert!(
            s.histlen() < 2 * 20440 + size,
            "released blocks are trimmed: {}",
            s.histlen()
        );
        assert_eq!(s.pending(A), 0);
    }

    #[test]
    fn v7_attach_at_offset_sends_the_right_bytes() {
        let size = 1 << 20;
        let mut s = v7_with_backlog(size);
        for i in 0..50u8 {
            let p = Payload::bytes(vec![i; 1000]);
            s.feed(&p, &[]);
        }
        s.attach_at(B, 25_001);
        let got = s.take(B, u64::MAX);
        assert_eq!(total_len(&got), 25_000);
        match &got[0] {
            Payload::Bytes(b) => assert_eq!(b[0], 25),
            _ => panic!("expected bytes"),
        }
        // Asking for exactly the next byte installs a reader with nothing to send.
        s.attach_at(A, s.offset() + 1);
        assert_eq!(s.pending(A), 0);
        s.feed(&Payload::Phantom(5), &[A, B]);
        assert_eq!(s.pending(A), 5);
    }

    #[test]
    fn v6_ring_and_private_copies() {
        let mut s = StreamStore::new(BufferModel::V6, 100);
        s.create_backlog();
        let chk = feed(&mut s, 30, &[A]);
        assert_eq!(chk, vec![A], "first node appended");
        feed(&mut s, 90, &[A]);
        assert_eq!(s.histlen(), 100);
        assert_eq!(s.backlog_offset(), 21);
        assert_eq!(s.pending(A), 120);
        s.copy_reader(A, B);
        assert_eq!(s.pending(B), 120);
        let _ = s.take(A, 50);
        assert_eq!(s.pending(A), 70);
        assert_eq!(s.pending(B), 120, "private copies are independent");
        s.resize(200);
        assert_eq!(s.histlen(), 0, "6.x resize discards history");
        assert_eq!(s.backlog_offset(), s.offset() + 1);
    }
}

/// Accounting checked against a plain reference model: every stream byte is a function of its
/// offset, so any byte served from the backlog or a buffer can be verified.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod prop {
    use super::super::version::BufferModel;
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn byte_at(off: i64) -> u8 {
        (off.wrapping_mul(31) % 251) as u8
    }

    fn bytes_from(start: i64, len: u64) -> Vec<u8> {
        (0..len as i64).map(|i| byte_at(start + i)).collect()
    }

    fn flatten(chunks: &[Payload]) -> Vec<u8> {
        let mut v = Vec::new();
        for c in chunks {
            match c {
                Payload::Bytes(b) => v.extend_from_slice(b),
                Payload::Phantom(_) => panic!("only real bytes are fed in this test"),
            }
        }
        v
    }

    #[derive(Clone, Debug)]
    enum Op {
        Feed(u64),
        Take(u8, u64),
        Attach(u8, u64),
        Detach(u8),
        Resize(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (1u64..40_000).prop_map(Op::Feed),
            3 => (0u8..3, 1u64..60_000).prop_map(|(r, n)| Op::Take(r, n)),
            1 => (0u8..3, 0u64..200_000).prop_map(|(r, b)| Op::Attach(r, b)),
            1 => (0u8..3).prop_map(Op::Detach),
            1 => (16_384u64..200_000).prop_map(Op::Resize),
        ]
    }

    fn run(model: BufferModel, ops: Vec<Op>) -> Result<(), TestCaseError> {
        let mut size = 50_000u64;
        let mut s = StreamStore::new(model, size);
        s.create_backlog();
        let mut mro = 0i64;
        // reference: reader -> next offset it will receive
        let mut readers: BTreeMap<u8, i64> = BTreeMap::new();
        let mut v6_created_at = 1i64;
        let mut last_h = 0u64;
        for op in ops {
            match op {
                Op::Feed(n) => {
                    let el: Vec<ConnId> = readers.keys().map(|r| ConnId(*r as u64)).collect();
                    s.feed(&Payload::Bytes(bytes_from(mro + 1, n)), &el);
                    mro += n as i64;
                    prop_assert_eq!(s.offset(), mro, "the store owns master_repl_offset");
                }
                Op::Take(r, n) => {
                    if let Some(pos) = readers.get_mut(&r) {
                        let got = flatten(&s.take(ConnId(r as u64), n));
                        let expect_len = n.min((mro - *pos + 1) as u64);
                        prop_assert_eq!(got.len() as u64, expect_len);
                        prop_assert_eq!(&got, &bytes_from(*pos, expect_len));
                        *pos += expect_len as i64;
                    }
                }
                Op::Attach(r, back) => {
                    // PSYNC: any offset inside the acceptance window.
                    let first = s.backlog_offset();
                    let end = first + s.histlen() as i64;
                    let off = (end - back as i64).max(first);
                    s.attach_at(ConnId(r as u64), off);
                    readers.insert(r, off);
                }
                Op::Detach(r) => {
                    s.detach(ConnId(r as u64));
                    readers.remove(&r);
                }
                Op::Resize(n) => {
                    size = n;
                    s.resize(size);
                    if model == BufferModel::V6 {
                        v6_created_at = mro + 1;
                    }
                }
            }
            // Invariants after every step.
            let h = s.histlen();
            let prev_h = std::mem::replace(&mut last_h, h);
            prop_assert_eq!(s.backlog_offset(), mro - h as i64 + 1);
            let content = flatten(&s.backlog_range(s.backlog_offset(), h));
            prop_assert_eq!(content.len() as u64, h);
            prop_assert_eq!(&content, &bytes_from(s.backlog_offset(), h));
            match model {
                BufferModel::V6 => {
                    prop_assert_eq!(h, size.min((mro - v6_created_at + 1) as u64));
                }
                BufferModel::V7 => {
                    // Trimming frees whole blocks only while more than `size` stays.
                    if h < prev_h {
                        prop_assert!(h > size, "trimmed below size: {} <= {}", h, size);
                    }
                    prop_assert!(
                        h >= prev_h.min(size),
                        "lost history below size: {} < {}",
                        h,
                        prev_h.min(size)
                    );
                    if readers.is_empty() {
                        prop_assert!(
                            h <= size + 2 * 81_920,
                            "no reader pins, yet histlen {} >> size {}",
                            h,
                            size
                        );
                    }
                }
            }
            for (r, pos) in &readers {
                let c = ConnId(*r as u64);
                prop_assert_eq!(s.pending(c), (mro - pos + 1) as u64);
                prop_assert!(s.used(c) >= s.pending(c));
                if model == BufferModel::V7 {
                    // A reader can always be served: its bytes are still in the blocks.
                    prop_assert!(*pos >= s.backlog_offset() || h == 0);
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        #[test]
        fn v7_shared_buffer_matches_reference(ops in proptest::collection::vec(op(), 1..120)) {
            run(BufferModel::V7, ops)?;
        }

        #[test]
        fn v6_ring_and_private_lists_match_reference(ops in proptest::collection::vec(op(), 1..120)) {
            run(BufferModel::V6, ops)?;
        }
    }
}
