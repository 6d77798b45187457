//! LZF in liblzf's token format: a compressor (what `lzf_decompress` reads) and a decoder
//! that allocates only for bytes it really produces.
//!
//! Why not `lzf-rust`'s compressor: it zeroes a 64 Ki-entry hash table on every call, which
//! costs ~5 µs per string; an RDB with millions of small values spends seconds there. liblzf
//! (and so Redis) does not clear its table between calls either: a stale entry only costs a
//! byte comparison, because every candidate match is verified before use.
//!
//! Why our own decoder: an RDB string says how long it will be once decompressed, and a
//! decoder that allocates that length up front can be told 2^40 or 2^64 bytes by a corrupt
//! file or a rogue master (an abort, or a capacity-overflow panic). [`decompress`] refuses a
//! length no input of that size can produce (a 3-byte token yields at most 264 bytes), then
//! grows its output as tokens decode.

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

/// Most bytes one input byte can become: a 3-byte back-reference copies at most 264.
pub const MAX_RATIO: usize = 88;

/// Decompresses `input`, which must produce exactly `out_len` bytes (Redis treats anything
/// else, and an empty result, as corruption). Memory used is at most `out_len`, and
/// `out_len` is refused beyond `MAX_RATIO × input.len()`.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, String> {
    if out_len == 0 {
        return Err("an LZF string cannot decompress to 0 bytes".into());
    }
    if out_len / MAX_RATIO > input.len() {
        return Err(format!(
            "{} compressed bytes cannot decompress to {out_len} bytes",
            input.len()
        ));
    }
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve(out_len.min(1 << 20))
        .map_err(|e| format!("cannot allocate the LZF output: {e}"))?;
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            // A literal run of ctrl + 1 bytes.
            let n = ctrl + 1;
            if out.len() + n > out_len {
                return Err("LZF data decompresses past its stated length".into());
            }
            let lit = input
                .get(ip..ip + n)
                .ok_or("LZF literal run runs past the input")?;
            out.extend_from_slice(lit);
            ip += n;
        } else {
            // A back-reference: length (3 bits, 7 = one more byte), 13-bit distance.
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip).ok_or("LZF back-reference is cut short")? as usize;
                ip += 1;
            }
            let low = *input.get(ip).ok_or("LZF back-reference is cut short")? as usize;
            ip += 1;
            let dist = ((ctrl & 0x1f) << 8) + low + 1;
            let len = len + 2;
            if out.len() + len > out_len {
                return Err("LZF data decompresses past its stated length".into());
            }
            let from = out
                .len()
                .checked_sub(dist)
                .ok_or("LZF back-reference points before the start")?;
            // Byte by byte: a reference may overlap what it produces (runs).
            for k in 0..len {
                let b = out[from + k];
                out.push(b);
            }
        }
    }
    if out.len() != out_len {
        return Err(format!(
            "LZF data decompresses to {} bytes, not the {out_len} stated",
            out.len()
        ));
    }
    Ok(out)
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
            assert_eq!(decompress(&out, data.len()).expect("ours too"), data);
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
    fn huge_or_wrong_lengths_are_errors_not_allocations() {
        let mut out = Vec::new();
        compress(&[b'a'; 1000], &mut out, 996).unwrap();
        for claim in [1u64 << 40, u64::MAX, 999, 1001, 0] {
            let claim = usize::try_from(claim).unwrap_or(usize::MAX);
            assert!(decompress(&out, claim).is_err(), "{claim}");
        }
        // A back-reference before the start, and truncated tokens.
        assert!(decompress(&[0xe0, 0xff, 0x00], 300).is_err());
        assert!(decompress(&[0x05, b'a'], 6).is_err());
        assert!(decompress(&[0x00, b'a', 0x20], 4).is_err());
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
