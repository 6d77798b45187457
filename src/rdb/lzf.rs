//! An LZF compressor producing liblzf's token format (what `lzf_decompress` reads).
//!
//! Why not `lzf-rust`'s compressor: it zeroes a 64 Ki-entry hash table on every call, which
//! costs ~5 µs per string; an RDB with millions of small values spends seconds there. liblzf
//! (and so Redis) does not clear its table between calls either: a stale entry only costs a
//! byte comparison, because every candidate match is verified before use. Decoding still
//! uses `lzf-rust`.

use std::cell::RefCell;

const HLOG: usize = 14;
const HSIZE: usize = 1 << HLOG;
/// Longest back-reference distance (13 bits + 1).
const MAX_OFF: usize = 1 << 13;
/// Longest match: 7 + 255 (length byte) + 2.
const MAX_MATCH: usize = 264;
/// Longest literal run per control byte.
const MAX_LIT: usize = 32;

thread_local! {
    /// Positions + 1 of the last occurrence of each 3-byte hash (0 = none).
    static HTAB: RefCell<Vec<u32>> = RefCell::new(vec![0; HSIZE]);
}

fn hash(a: u8, b: u8, c: u8) -> usize {
    let v = ((a as u32) << 16) | ((b as u32) << 8) | c as u32;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HLOG)) as usize
}

/// Compresses `input` into `out` (appending). Returns the compressed length, or `None` if it
/// would exceed `max_out` bytes (the caller then stores the string raw).
pub fn compress(input: &[u8], out: &mut Vec<u8>, max_out: usize) -> Option<usize> {
    let start = out.len();
    let n = input.len();
    if n == 0 {
        return None;
    }
    HTAB.with(|cell| {
        let mut htab = cell.borrow_mut();
        let mut ctrl = out.len();
        out.push(0);
        let mut lit = 0usize;
        let mut ip = 0usize;
        while ip + 2 < n {
            let h = hash(input[ip], input[ip + 1], input[ip + 2]);
            let cand = htab[h] as usize;
            htab[h] = (ip + 1) as u32;
            let found = cand
                .checked_sub(1)
                .filter(|&r| r < ip && ip - r <= MAX_OFF && input[r..r + 3] == input[ip..ip + 3]);
            if let Some(r) = found {
                let off = ip - r - 1;
                let maxlen = (n - ip).min(MAX_MATCH);
                let mut ml = 3;
                while ml < maxlen && input[r + ml] == input[ip + ml] {
                    ml += 1;
                }
                // Close the literal run (or drop its unused control byte).
                if lit > 0 {
                    out[ctrl] = (lit - 1) as u8;
                } else {
                    out.pop();
                }
                let len = ml - 2;
                if len < 7 {
                    out.push(((off >> 8) as u8) | ((len as u8) << 5));
                } else {
                    out.push(((off >> 8) as u8) | (7 << 5));
                    out.push((len - 7) as u8);
                }
                out.push(off as u8);
                ctrl = out.len();
                out.push(0);
                lit = 0;
                ip += ml;
            } else {
                out.push(input[ip]);
                lit += 1;
                ip += 1;
                if lit == MAX_LIT {
                    out[ctrl] = (MAX_LIT - 1) as u8;
                    ctrl = out.len();
                    out.push(0);
                    lit = 0;
                }
            }
            if out.len() - start > max_out + 1 {
                out.truncate(start);
                return None;
            }
        }
        while ip < n {
            out.push(input[ip]);
            lit += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[ctrl] = (MAX_LIT - 1) as u8;
                ctrl = out.len();
                out.push(0);
                lit = 0;
            }
        }
        if lit > 0 {
            out[ctrl] = (lit - 1) as u8;
        } else {
            out.pop();
        }
        let len = out.len() - start;
        if len > max_out {
            out.truncate(start);
            return None;
        }
        Some(len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) {
        let mut out = Vec::new();
        if let Some(n) = compress(data, &mut out, data.len() + data.len() / 16 + 64) {
            assert_eq!(n, out.len());
            let back = lzf_rust::decompress_into_vec(&out, data.len()).expect("valid stream");
            assert_eq!(back, data);
        }
    }

    #[test]
    fn roundtrips_through_the_liblzf_decoder() {
        roundtrip(&[b'a'; 72]);
        roundtrip(b"abcabcabcabcabcabcabcabcabc hello hello hello world");
        let mut v = b"value:123".to_vec();
        v.resize(100, 0);
        roundtrip(&v);
        let mut x: u32 = 12345;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 7) as u8 + b'a'
            })
            .collect();
        roundtrip(&noise);
        let long: Vec<u8> = (0..100_000).map(|i| (i % 251) as u8).collect();
        roundtrip(&long);
        for len in 1..70 {
            roundtrip(&vec![b'z'; len]);
        }
    }

    #[test]
    fn compresses_repetitive_data_and_gives_up_on_noise() {
        let mut out = Vec::new();
        let n = compress(&[b'a'; 1000], &mut out, 996).unwrap();
        assert!(n < 40, "{n}");
        let mut out = Vec::new();
        let mut x: u64 = 1;
        let noise: Vec<u8> = (0..64)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect();
        assert_eq!(compress(&noise, &mut out, 60), None);
        assert!(out.is_empty());
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_input_roundtrips(data in proptest::collection::vec(0u8..4, 0..3000)) {
            roundtrip(&data);
        }
    }
}
