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

    pub fn is_phantom(&self) -> bool {
        matches!(self, Payload::Phantom(_))
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

/// Copy `len` bytes starting at `start` out of a chunk list (no consumption).
pub(crate) fn copy_range(list: &VecDeque<Payload>, start: u64, len: u64, out: &mut Vec<Payload>) {
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
}
