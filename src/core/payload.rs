//! Stream chunks that are either real bytes (native server) or only counted (simulator).
//!
//! The same buffering code carries both: a simulated 256 MB output buffer is a handful of
//! `Phantom` chunks, a real one holds the real bytes.

use std::collections::VecDeque;

/// A piece of data travelling through the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Real bytes.
    Bytes(Vec<u8>),
    /// `n` bytes that exist only as a count (simulated data: RDB bodies, bulk writes).
    Phantom(u64),
}

impl Payload {
    pub fn bytes(b: impl Into<Vec<u8>>) -> Payload {
        Payload::Bytes(b.into())
    }

    pub fn len(&self) -> u64 {
        match self {
            Payload::Bytes(b) => b.len() as u64,
            Payload::Phantom(n) => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sub-range `[start, start+len)` (clamped to the payload).
    pub fn slice(&self, start: u64, len: u64) -> Payload {
        match self {
            Payload::Bytes(b) => {
                let s = (start as usize).min(b.len());
                let e = (start.saturating_add(len) as usize).min(b.len());
                Payload::Bytes(b[s..e].to_vec())
            }
            Payload::Phantom(n) => {
                let s = start.min(*n);
                let e = start.saturating_add(len).min(*n);
                Payload::Phantom(e - s)
            }
        }
    }
}

/// Append `p` to a chunk list, merging adjacent phantoms (and small byte runs) so lists stay
/// short.
pub(crate) fn push_merged(list: &mut VecDeque<Payload>, p: Payload) {
    if p.is_empty() {
        return;
    }
    match (list.back_mut(), p) {
        (Some(Payload::Phantom(a)), Payload::Phantom(b)) => *a += b,
        (Some(Payload::Bytes(a)), Payload::Bytes(b)) if a.len() + b.len() <= 64 * 1024 => {
            a.extend_from_slice(&b)
        }
        (_, p) => list.push_back(p),
    }
}

/// Total length of a chunk list.
pub(crate) fn total_len<'a>(it: impl IntoIterator<Item = &'a Payload>) -> u64 {
    it.into_iter().map(Payload::len).sum()
}

/// The chunks of one buffer block. Almost every block holds a single chunk (one counted length
/// in the simulator, one run of bytes in the server), so that case is kept inline: appending
/// and freeing blocks then allocates nothing beyond the block itself. At 100,000 simulated
/// writes a second blocks come and go thousands of times a second, and this was most of the
/// simulator's time. Merging follows `push_merged` exactly, so chunk boundaries are unchanged.
#[derive(Clone, Debug, Default)]
pub(crate) enum Chunks {
    #[default]
    Empty,
    One(Payload),
    Many(VecDeque<Payload>),
}

impl Chunks {
    pub(crate) fn push_merged(&mut self, p: Payload) {
        if p.is_empty() {
            return;
        }
        match self {
            Chunks::Empty => *self = Chunks::One(p),
            Chunks::One(cur) => match (cur, p) {
                (Payload::Phantom(a), Payload::Phantom(b)) => *a += b,
                (Payload::Bytes(a), Payload::Bytes(b)) if a.len() + b.len() <= 64 * 1024 => {
                    a.extend_from_slice(&b)
                }
                (_, p) => {
                    let Chunks::One(first) = std::mem::take(self) else {
                        unreachable!()
                    };
                    *self = Chunks::Many(VecDeque::from([first, p]));
                }
            },
            Chunks::Many(list) => push_merged(list, p),
        }
    }

    /// Copy `len` bytes starting at `start` (no consumption).
    pub(crate) fn copy_range(&self, start: u64, len: u64, out: &mut Vec<Payload>) {
        match self {
            Chunks::Empty => {}
            Chunks::One(p) => copy_range(std::iter::once(p), start, len, out),
            Chunks::Many(list) => copy_range(list, start, len, out),
        }
    }
}

/// Copy `len` bytes starting at `start` out of a chunk list (no consumption).
pub(crate) fn copy_range<'a>(
    list: impl IntoIterator<Item = &'a Payload>,
    start: u64,
    len: u64,
    out: &mut Vec<Payload>,
) {
    let mut pos = 0u64;
    let end = start.saturating_add(len);
    for c in list {
        let cl = c.len();
        let cs = pos;
        let ce = pos + cl;
        pos = ce;
        if ce <= start {
            continue;
        }
        if cs >= end {
            break;
        }
        let s = start.max(cs) - cs;
        let e = end.min(ce) - cs;
        out.push(c.slice(s, e - s));
    }
}

/// Byte chunks longer than this are cut into pieces of this size before a part of one is
/// taken: slicing copies, and taking 64 KiB at a time off a 100 MB RDB file by copying the
/// rest each time moved gigabytes per transfer (a replica of ours took seconds per 100 MB to
/// receive its RDB, under the server's lock, and never caught up under writes: issue 12).
const SPLIT_BYTES: usize = 64 * 1024;

/// Remove up to `max` bytes from the front of a chunk list.
pub(crate) fn take_front(list: &mut VecDeque<Payload>, max: u64) -> Vec<Payload> {
    let mut out = Vec::new();
    let mut left = max;
    while left > 0 {
        let Some(front) = list.front_mut() else { break };
        let fl = front.len();
        if fl <= left {
            left -= fl;
            if let Some(p) = list.pop_front() {
                out.push(p);
            }
        } else if matches!(front, Payload::Bytes(b) if b.len() > SPLIT_BYTES) {
            // Cut it once (each byte copied once), then take whole pieces.
            if let Some(Payload::Bytes(b)) = list.pop_front() {
                for piece in b.rchunks(SPLIT_BYTES) {
                    list.push_front(Payload::Bytes(piece.to_vec()));
                }
            }
        } else {
            let head = front.slice(0, left);
            *front = front.slice(left, fl - left);
            out.push(head);
            left = 0;
        }
    }
    out
}

/// Drop `n` bytes from the front of a chunk list.
pub(crate) fn drop_front(list: &mut VecDeque<Payload>, n: u64) {
    let _ = take_front(list, n);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_and_take_mix_bytes_and_phantoms() {
        let mut l = VecDeque::new();
        push_merged(&mut l, Payload::bytes(b"abc".to_vec()));
        push_merged(&mut l, Payload::Phantom(10));
        push_merged(&mut l, Payload::Phantom(5));
        push_merged(&mut l, Payload::bytes(b"xyz".to_vec()));
        assert_eq!(l.len(), 3, "adjacent phantoms merge");
        assert_eq!(total_len(&l), 21);
        let mut out = Vec::new();
        copy_range(&l, 2, 3, &mut out);
        // The inline form gives the same chunks as the list form.
        let mut c = Chunks::default();
        for p in [
            Payload::bytes(b"abc".to_vec()),
            Payload::Phantom(10),
            Payload::Phantom(5),
            Payload::bytes(b"xyz".to_vec()),
        ] {
            c.push_merged(p);
        }
        let mut from_chunks = Vec::new();
        c.copy_range(2, 3, &mut from_chunks);
        assert_eq!(from_chunks, out);
        assert_eq!(
            out,
            vec![Payload::bytes(b"c".to_vec()), Payload::Phantom(2)]
        );
        let t = take_front(&mut l, 5);
        assert_eq!(total_len(&t), 5);
        assert_eq!(total_len(&l), 16);
        let t = take_front(&mut l, 100);
        assert_eq!(t.last(), Some(&Payload::bytes(b"xyz".to_vec())));
        assert!(l.is_empty());
    }

    #[test]
    fn taking_a_large_chunk_in_parts_keeps_every_byte_in_order() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut l = VecDeque::from([Payload::bytes(big.clone()), Payload::Phantom(3)]);
        let mut got = Vec::new();
        loop {
            let t = take_front(&mut l, 10_000);
            if t.is_empty() {
                break;
            }
            assert!(total_len(&t) <= 10_000);
            // What is left is in pieces: the next take copies no more than it takes.
            assert!(l.iter().all(|p| p.len() <= SPLIT_BYTES as u64));
            for p in t {
                match p {
                    Payload::Bytes(b) => got.extend_from_slice(&b),
                    Payload::Phantom(n) => assert_eq!(n, 3),
                }
            }
        }
        assert_eq!(got, big);
    }
}
