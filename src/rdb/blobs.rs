//! Decoders for the packed blobs stored inside RDB strings: listpack (7.0's small hashes,
//! zsets, list nodes), intset (small integer sets) and ziplist (files from Redis <= 6.2).
//! Integers are returned as their decimal text, as Redis treats them.
//! Errors are plain strings; the reader adds the byte offset of the blob.

fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | b as u64)
}

fn take<'a>(blob: &'a [u8], pos: usize, n: usize, what: &str) -> Result<&'a [u8], String> {
    blob.get(pos..pos + n)
        .ok_or_else(|| format!("{what} truncated at blob byte {pos}"))
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Decodes a listpack into its elements.
pub fn decode_listpack(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if blob.len() < 7 {
        return Err(format!(
            "listpack of {} bytes is shorter than its header",
            blob.len()
        ));
    }
    let total = le(&blob[0..4]) as usize;
    if total != blob.len() {
        return Err(format!(
            "listpack header says {total} bytes but the blob has {}",
            blob.len()
        ));
    }
    let mut out = Vec::new();
    let mut pos = 6;
    loop {
        let Some(&b) = blob.get(pos) else {
            return Err("listpack has no end byte".into());
        };
        if b == 0xFF {
            break;
        }
        let start = pos;
        let elem: Vec<u8>;
        if b & 0x80 == 0 {
            elem = (b & 0x7f).to_string().into_bytes();
            pos += 1;
        } else if b & 0xC0 == 0x80 {
            let len = (b & 0x3f) as usize;
            elem = take(blob, pos + 1, len, "listpack string")?.to_vec();
            pos += 1 + len;
        } else if b & 0xE0 == 0xC0 {
            let lo = *take(blob, pos + 1, 1, "listpack int13")?
                .first()
                .unwrap_or(&0);
            let v = (((b & 0x1f) as u64) << 8) | lo as u64;
            elem = sign_extend(v, 13).to_string().into_bytes();
            pos += 2;
        } else if b & 0xF0 == 0xE0 {
            let lo = *take(blob, pos + 1, 1, "listpack str12")?
                .first()
                .unwrap_or(&0);
            let len = (((b & 0x0f) as usize) << 8) | lo as usize;
            elem = take(blob, pos + 2, len, "listpack string")?.to_vec();
            pos += 2 + len;
        } else {
            match b {
                0xF0 => {
                    let len = le(take(blob, pos + 1, 4, "listpack str32")?) as usize;
                    elem = take(blob, pos + 5, len, "listpack string")?.to_vec();
                    pos += 5 + len;
                }
                0xF1..=0xF4 => {
                    let n = match b {
                        0xF1 => 2,
                        0xF2 => 3,
                        0xF3 => 4,
                        _ => 8,
                    };
                    let v = le(take(blob, pos + 1, n, "listpack int")?);
                    elem = sign_extend(v, (n * 8) as u32).to_string().into_bytes();
                    pos += 1 + n;
                }
                other => {
                    return Err(format!(
                        "listpack has an invalid encoding byte 0x{other:02x}"
                    ))
                }
            }
        }
        // Skip the backlen (lpEncodeBacklen boundaries).
        let size = pos - start;
        pos += match size {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        };
        out.push(elem);
    }
    Ok(out)
}

/// Decodes an intset into its members (decimal text), in stored (sorted) order.
pub fn decode_intset(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if blob.len() < 8 {
        return Err("intset shorter than its header".into());
    }
    let width = le(&blob[0..4]) as usize;
    let count = le(&blob[4..8]) as usize;
    if ![2, 4, 8].contains(&width) {
        return Err(format!("intset has an invalid encoding width {width}"));
    }
    if blob.len() != 8 + width * count {
        return Err(format!(
            "intset says {count} members of {width} bytes but holds {} bytes",
            blob.len() - 8
        ));
    }
    Ok((0..count)
        .map(|i| {
            let v = le(&blob[8 + i * width..8 + (i + 1) * width]);
            sign_extend(v, (width * 8) as u32).to_string().into_bytes()
        })
        .collect())
}

/// Decodes a ziplist (Redis <= 6.2 small lists, hashes and zsets).
pub fn decode_ziplist(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if blob.len() < 11 {
        return Err("ziplist shorter than its header".into());
    }
    let mut out = Vec::new();
    let mut pos = 10;
    loop {
        let Some(&first) = blob.get(pos) else {
            return Err("ziplist has no end byte".into());
        };
        if first == 0xFF {
            break;
        }
        pos += if first == 0xFE { 5 } else { 1 };
        let enc = *take(blob, pos, 1, "ziplist entry")?.first().unwrap_or(&0);
        match enc >> 6 {
            0 => {
                let len = (enc & 0x3f) as usize;
                out.push(take(blob, pos + 1, len, "ziplist string")?.to_vec());
                pos += 1 + len;
            }
            1 => {
                let lo = *take(blob, pos + 1, 1, "ziplist length")?
                    .first()
                    .unwrap_or(&0);
                let len = (((enc & 0x3f) as usize) << 8) | lo as usize;
                out.push(take(blob, pos + 2, len, "ziplist string")?.to_vec());
                pos += 2 + len;
            }
            2 => {
                let l = take(blob, pos + 1, 4, "ziplist length")?;
                let len = u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize;
                out.push(take(blob, pos + 5, len, "ziplist string")?.to_vec());
                pos += 5 + len;
            }
            _ => {
                let (n, bits) = match enc {
                    0xC0 => (2, 16),
                    0xD0 => (4, 32),
                    0xE0 => (8, 64),
                    0xF0 => (3, 24),
                    0xFE => (1, 8),
                    0xF1..=0xFD => {
                        out.push(((enc & 0x0f) as i64 - 1).to_string().into_bytes());
                        pos += 1;
                        continue;
                    }
                    other => return Err(format!("ziplist has an invalid encoding 0x{other:02x}")),
                };
                let v = le(take(blob, pos + 1, n, "ziplist int")?);
                out.push(sign_extend(v, bits).to_string().into_bytes());
                pos += 1 + n;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn listpack_from_spec() {
        // spec §2.7: list [a,b,1,2,300,-5,70000]
        let blob = [
            0x1c, 0, 0, 0, 7, 0, 0x81, 0x61, 2, 0x81, 0x62, 2, 1, 1, 2, 1, 0xc1, 0x2c, 2, 0xdf,
            0xfb, 2, 0xf2, 0x70, 0x11, 0x01, 4, 0xff,
        ];
        assert_eq!(
            decode_listpack(&blob).unwrap(),
            strs(&["a", "b", "1", "2", "300", "-5", "70000"])
        );
    }

    #[test]
    fn listpack_errors_do_not_panic() {
        assert!(decode_listpack(&[1, 2]).is_err());
        assert!(decode_listpack(&[8, 0, 0, 0, 1, 0, 0x85, 0x61]).is_err());
        assert!(decode_listpack(&[7, 0, 0, 0, 0, 0, 0xf5]).is_err());
    }

    #[test]
    fn intset_from_spec() {
        let blob = [
            4, 0, 0, 0, 5, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
            0xa0, 0x86, 1, 0,
        ];
        assert_eq!(
            decode_intset(&blob).unwrap(),
            strs(&["-4", "1", "2", "3", "100000"])
        );
        assert!(decode_intset(&blob[..20]).is_err());
    }

    #[test]
    fn ziplist_strings_and_ints() {
        // header (10 bytes), entries: "ab", int8 -3, immediate 5, end.
        let mut blob = vec![0u8; 10];
        blob.extend_from_slice(&[0, 0x02, b'a', b'b']);
        blob.extend_from_slice(&[4, 0xFE, 0xFD]);
        blob.extend_from_slice(&[3, 0xF6]);
        blob.push(0xFF);
        assert_eq!(decode_ziplist(&blob).unwrap(), strs(&["ab", "-3", "5"]));
    }
}
