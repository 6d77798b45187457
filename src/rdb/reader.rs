//! Reading an RDB: held in memory (a file, a payload received from a master), or parsed as
//! it arrives from a master's socket (`repl-diskless-load`, [`parse_rdb_stream`]).

use std::borrow::Cow;

use super::blobs::{decode_intset, decode_listpack, decode_ziplist};
use super::checksum::{crc64, digest};
use super::{RdbError, Value};

/// Opcodes (rdb.h).
const OP_FUNCTION2: u8 = 245;
const OP_FUNCTION: u8 = 246;
const OP_MODULE_AUX: u8 = 247;
const OP_IDLE: u8 = 248;
const OP_FREQ: u8 = 249;
const OP_AUX: u8 = 250;
const OP_RESIZEDB: u8 = 251;
const OP_EXPIRETIME_MS: u8 = 252;
const OP_EXPIRETIME: u8 = 253;
const OP_SELECTDB: u8 = 254;
const OP_EOF: u8 = 255;

/// One key read from the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub db: u32,
    pub key: Vec<u8>,
    pub value: Value,
    /// Absolute unix time in ms, if the key has a TTL.
    pub expire_ms: Option<i64>,
}

/// What the file said besides its keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RdbInfo {
    pub version: u32,
    /// AUX fields in file order (`redis-ver`, `repl-id`, ...).
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Function library sources (opcode FUNCTION2), kept so a save can carry them on.
    pub functions: Vec<Vec<u8>>,
    pub keys: u64,
    /// False when the stored CRC was 0 ("saved with checksum disabled: no check performed").
    pub checksum_checked: bool,
    /// Bytes the RDB occupied, up to and including the CRC.
    pub len: usize,
}

impl RdbInfo {
    pub fn aux_str(&self, key: &str) -> Option<String> {
        self.aux
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// A blob decoder (listpack, intset, ziplist).
type BlobDecoder = fn(&[u8]) -> Result<Vec<Vec<u8>>, String>;

/// Where a streaming parse gets more bytes: the next chunk, or None when the transfer ended.
pub type MoreBytes<'a> = &'a mut dyn FnMut() -> Option<Vec<u8>>;

struct Cursor<'a> {
    /// The bytes from absolute offset `base` on: the whole file, or, streaming, what arrived
    /// and may still be needed.
    data: Cow<'a, [u8]>,
    base: usize,
    /// Absolute offset of the next byte to read.
    pos: usize,
    /// Streaming: where more bytes come from.
    more: Option<MoreBytes<'a>>,
    /// Streaming: bytes from here on are kept even once read (a stream value copies its raw
    /// encoding).
    keep_from: Option<usize>,
    /// Streaming: the checksum of the bytes already dropped (before `base`).
    crc: Option<crc::Digest<'static, u64, crc::Table<16>>>,
}

impl<'a> Cursor<'a> {
    fn err(&self, what: impl Into<String>) -> RdbError {
        RdbError {
            offset: self.pos,
            what: what.into(),
        }
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&[u8], RdbError> {
        // More than can ever come (an overflowing length) reads to the end like any length
        // beyond the file, so the error says how much was left, streaming or not.
        let end = self.pos.saturating_add(n);
        while end > self.base + self.data.len() {
            if !self.refill() {
                return Err(self.err(format!(
                    "unexpected end of file reading {what} ({n} bytes wanted, {} left)",
                    self.base + self.data.len() - self.pos
                )));
            }
        }
        let s = &self.data[self.pos - self.base..end - self.base];
        self.pos = end;
        Ok(s)
    }

    /// Streaming: takes the next chunk, first dropping what was read (once that is at least
    /// half the buffer, so each byte moves O(1) times). False at the end of the transfer.
    fn refill(&mut self) -> bool {
        let Some(more) = self.more.as_mut() else {
            return false;
        };
        let Some(chunk) = more() else {
            self.more = None;
            return false;
        };
        let keep = self.keep_from.unwrap_or(self.pos).min(self.pos);
        let drop = keep - self.base;
        let buf = self.data.to_mut();
        if drop > 0 && drop >= buf.len() / 2 {
            if let Some(crc) = self.crc.as_mut() {
                crc.update(&buf[..drop]);
            }
            buf.drain(..drop);
            self.base = keep;
        }
        buf.extend_from_slice(&chunk);
        true
    }

    /// The CRC-64 of the file's bytes before absolute offset `end` (all of them read).
    fn crc_until(&self, end: usize) -> u64 {
        match &self.crc {
            Some(d) => {
                let mut d = d.clone();
                d.update(&self.data[..end - self.base]);
                d.finalize()
            }
            None => crc64(&self.data[..end]),
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8, RdbError> {
        Ok(self.bytes(1, what)?[0])
    }

    /// Length encoding (§2.3). Returns `Err` for the special-encoding form.
    fn len(&mut self, what: &str) -> Result<u64, RdbError> {
        match self.len_or_special(what)? {
            (n, false) => Ok(n),
            (_, true) => Err(self.err(format!(
                "{what}: a special encoding where a length was expected"
            ))),
        }
    }

    /// (value, is_special). For special encodings the value is the low 6 bits.
    fn len_or_special(&mut self, what: &str) -> Result<(u64, bool), RdbError> {
        let b = self.u8(what)?;
        match b >> 6 {
            0 => Ok(((b & 0x3f) as u64, false)),
            1 => {
                let lo = self.u8(what)?;
                Ok(((((b & 0x3f) as u64) << 8) | lo as u64, false))
            }
            2 => match b {
                0x80 => {
                    let s = self.bytes(4, what)?;
                    Ok((u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as u64, false))
                }
                0x81 => {
                    let s = self.bytes(8, what)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    Ok((u64::from_be_bytes(a), false))
                }
                other => Err(self.err(format!("{what}: unknown length encoding 0x{other:02x}"))),
            },
            _ => Ok(((b & 0x3f) as u64, true)),
        }
    }

    /// String encoding (§2.4): raw, int8/16/32, LZF.
    fn string(&mut self, what: &str) -> Result<Vec<u8>, RdbError> {
        let start = self.pos;
        let (n, special) = self.len_or_special(what)?;
        if !special {
            let n = usize::try_from(n)
                .map_err(|_| self.err(format!("{what}: length {n} too large")))?;
            return Ok(self.bytes(n, what)?.to_vec());
        }
        match n {
            0 => Ok((self.u8(what)? as i8).to_string().into_bytes()),
            1 => {
                let s = self.bytes(2, what)?;
                Ok(i16::from_le_bytes([s[0], s[1]]).to_string().into_bytes())
            }
            2 => {
                let s = self.bytes(4, what)?;
                Ok(i32::from_le_bytes([s[0], s[1], s[2], s[3]])
                    .to_string()
                    .into_bytes())
            }
            3 => {
                let clen = self.len(what)?;
                let ulen = self.len(what)?;
                let clen = usize::try_from(clen)
                    .map_err(|_| self.err(format!("{what}: LZF length {clen} too large")))?;
                let comp = self.bytes(clen, what)?;
                let ulen = usize::try_from(ulen).unwrap_or(usize::MAX);
                // rdbLoadLzfStringObject: any length mismatch is corruption.
                super::lzf::decompress(comp, ulen).map_err(|e| RdbError {
                    offset: start,
                    what: format!("{what}: invalid LZF compressed string: {e}"),
                })
            }
            other => Err(RdbError {
                offset: start,
                what: format!("{what}: unknown string encoding {other}"),
            }),
        }
    }

    fn i64_le(&mut self, what: &str) -> Result<i64, RdbError> {
        let s = self.bytes(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(i64::from_le_bytes(a))
    }

    fn blob_elems(&mut self, what: &str, decode: BlobDecoder) -> Result<Vec<Vec<u8>>, RdbError> {
        let start = self.pos;
        let blob = self.string(what)?;
        decode(&blob).map_err(|e| RdbError {
            offset: start,
            what: format!("{what}: {e}"),
        })
    }
}

fn parse_score_text(s: &[u8]) -> Option<f64> {
    let t = std::str::from_utf8(s).ok()?;
    match t {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok().filter(|f| !f.is_nan()),
    }
}

fn pairs(elems: Vec<Vec<u8>>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if elems.len() % 2 != 0 {
        return None;
    }
    let mut it = elems.into_iter();
    let mut out = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Some(out)
}

/// Reads one value of type `t` (the byte before the key).
fn read_value(c: &mut Cursor, t: u8) -> Result<Value, RdbError> {
    let start = c.pos;
    let bad = |what: String| RdbError {
        offset: start,
        what,
    };
    match t {
        0 => Ok(Value::String(c.string("string value")?)),
        1 | 2 => {
            let n = c.len("element count")?;
            let mut v = Vec::with_capacity((n as usize).min(1 << 16));
            for _ in 0..n {
                v.push(c.string("element")?);
            }
            Ok(if t == 1 {
                Value::List(v.into())
            } else {
                Value::Set(v)
            })
        }
        3 | 5 => {
            let n = c.len("zset size")?;
            let mut v = Vec::with_capacity((n as usize).min(1 << 16));
            for _ in 0..n {
                let m = c.string("zset member")?;
                let score = if t == 5 {
                    let s = c.bytes(8, "zset score")?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    f64::from_le_bytes(a)
                } else {
                    match c.u8("zset score")? {
                        253 => f64::NAN,
                        254 => f64::INFINITY,
                        255 => f64::NEG_INFINITY,
                        l => {
                            let txt = c.bytes(l as usize, "zset score")?;
                            parse_score_text(txt)
                                .ok_or_else(|| c.err("zset score is not a number"))?
                        }
                    }
                };
                if score.is_nan() {
                    return Err(c.err("zset score is NaN"));
                }
                v.push((m, score));
            }
            Ok(Value::ZSet(v))
        }
        4 => {
            let n = c.len("hash size")?;
            let mut v = Vec::with_capacity((n as usize).min(1 << 16));
            for _ in 0..n {
                let f = c.string("hash field")?;
                let x = c.string("hash value")?;
                v.push((f, x));
            }
            Ok(Value::Hash(v))
        }
        10 => Ok(Value::List(
            c.blob_elems("list ziplist", decode_ziplist)?.into(),
        )),
        11 => Ok(Value::Set(c.blob_elems("intset", decode_intset)?)),
        // RDB 11 (Redis 7.2, Valkey 8): a small set of strings as one listpack.
        20 => Ok(Value::Set(c.blob_elems("set listpack", decode_listpack)?)),
        12 | 17 => {
            let dec = if t == 12 {
                decode_ziplist
            } else {
                decode_listpack
            };
            let elems = c.blob_elems("zset blob", dec)?;
            let p = pairs(elems).ok_or_else(|| bad("zset blob has an odd element count".into()))?;
            let mut v = Vec::with_capacity(p.len());
            for (m, s) in p {
                let score =
                    parse_score_text(&s).ok_or_else(|| bad("zset blob has a bad score".into()))?;
                v.push((m, score));
            }
            Ok(Value::ZSet(v))
        }
        13 | 16 => {
            let dec = if t == 13 {
                decode_ziplist
            } else {
                decode_listpack
            };
            let elems = c.blob_elems("hash blob", dec)?;
            Ok(Value::Hash(pairs(elems).ok_or_else(|| {
                bad("hash blob has an odd element count".into())
            })?))
        }
        14 | 18 => {
            let nodes = c.len("quicklist node count")?;
            let mut v = Vec::new();
            for _ in 0..nodes {
                let container = if t == 18 {
                    c.len("quicklist container")?
                } else {
                    2
                };
                match container {
                    1 => v.push(c.string("quicklist plain node")?),
                    2 => {
                        let dec = if t == 14 {
                            decode_ziplist
                        } else {
                            decode_listpack
                        };
                        let node_start = c.pos;
                        let elems = c.blob_elems("quicklist node", dec)?;
                        if elems.is_empty() {
                            return Err(RdbError {
                                offset: node_start,
                                what: "quicklist node is empty".into(),
                            });
                        }
                        v.extend(elems);
                    }
                    other => return Err(c.err(format!("quicklist container {other} is unknown"))),
                }
            }
            Ok(Value::List(v.into()))
        }
        15 | 19 | 21 => {
            let kept = c.keep_from.replace(start);
            let skipped = skip_stream(c, t);
            c.keep_from = kept;
            skipped?;
            Ok(Value::Stream {
                type_byte: t,
                payload: c.data[start - c.base..c.pos - c.base].to_vec(),
            })
        }
        6 | 7 => Err(bad(format!(
            "type {t} is a module value; modules are not supported by this server"
        ))),
        9 => Err(bad("type 9 (zipmap, Redis <= 2.4) is not supported".into())),
        // Hashes whose fields have their own TTLs (HEXPIRE): Redis 7.4+ (RDB 12: 22-25) and
        // Valkey 9 (`VALKEY080`: 22). A hash here has no per-field TTL, and loading the
        // fields without theirs would keep data that should expire: refuse the file.
        22..=25 => Err(bad(format!(
            "type {t} is a hash with field expiration (HEXPIRE, Redis 7.4+ / Valkey 9), which this server does not support"
        ))),
        other => Err(bad(format!("Unknown RDB encoding type {other}"))),
    }
}

/// Walks a stream value (§2.8) without interpreting it.
fn skip_stream(c: &mut Cursor, t: u8) -> Result<(), RdbError> {
    let nodes = c.len("stream node count")?;
    for _ in 0..nodes {
        let id = c.string("stream node id")?;
        if id.len() != 16 {
            return Err(c.err("stream node id is not 16 bytes"));
        }
        c.string("stream listpack")?;
    }
    c.len("stream length")?;
    c.len("stream last id")?;
    c.len("stream last id")?;
    if t >= 19 {
        for _ in 0..5 {
            c.len("stream v2 field")?;
        }
    }
    let groups = c.len("stream group count")?;
    for _ in 0..groups {
        c.string("group name")?;
        c.len("group last id")?;
        c.len("group last id")?;
        if t >= 19 {
            c.len("group entries read")?;
        }
        let pel = c.len("group PEL size")?;
        for _ in 0..pel {
            c.bytes(16, "PEL id")?;
            c.bytes(8, "PEL delivery time")?;
            c.len("PEL delivery count")?;
        }
        let consumers = c.len("consumer count")?;
        for _ in 0..consumers {
            c.string("consumer name")?;
            c.bytes(8, "consumer seen time")?;
            if t >= 21 {
                c.bytes(8, "consumer active time")?;
            }
            let n = c.len("consumer PEL size")?;
            c.bytes((n as usize).saturating_mul(16), "consumer PEL")?;
        }
    }
    Ok(())
}

/// The newest `REDIS00NN` format read here: Redis 7.4 and 8.x write 12 (their additions are
/// hash field expiration types, refused by name below).
const MAX_REDIS_VERSION: u32 = 12;
/// Valkey 9 writes `VALKEY080`: the types of RDB 11 plus its own hash with field TTLs.
const VALKEY_VERSION: u32 = 80;

/// The format version of a file from its 9-byte magic (`rdbLoadRio`): `REDIS` + 4 digits, or
/// Valkey 9's `VALKEY` + 3 digits. A newer one is refused with Redis's own words.
fn rdb_version(magic: &[u8]) -> Result<u32, RdbError> {
    let (digits, max) = if magic.starts_with(b"REDIS") {
        (&magic[5..], MAX_REDIS_VERSION)
    } else if magic.starts_with(b"VALKEY") {
        (&magic[6..], VALKEY_VERSION)
    } else {
        return Err(RdbError {
            offset: 0,
            what: "Wrong signature trying to load DB from file".into(),
        });
    };
    let version: u32 = std::str::from_utf8(digits)
        .ok()
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| RdbError {
            offset: 5,
            what: "the RDB version is not a number".into(),
        })?;
    // Valkey calls 12..=79 the "foreign" range (Redis CE 7.4+) and refuses it under its own
    // magic; Redis refuses any version above its own.
    let known = if max == VALKEY_VERSION {
        version == VALKEY_VERSION
    } else {
        (1..=max).contains(&version)
    };
    if !known {
        return Err(RdbError {
            offset: 5,
            what: format!("Can't handle RDB format version {version}"),
        });
    }
    Ok(version)
}

/// Parses a whole RDB, calling `on_entry` for each key. `databases` is the number of logical
/// databases (a SELECTDB at or above it is an error, as it is fatal in Redis).
/// `on_entry` may fail (for example to stop a load); its error text is wrapped with the offset.
pub fn parse_rdb(
    data: &[u8],
    databases: u32,
    on_entry: impl FnMut(Entry) -> Result<(), String>,
) -> Result<RdbInfo, RdbError> {
    let c = Cursor {
        data: Cow::Borrowed(data),
        base: 0,
        pos: 0,
        more: None,
        keep_from: None,
        crc: None,
    };
    parse(c, databases, on_entry)
}

/// [`parse_rdb`] on bytes as they arrive (`more` gives the next chunk, None at the end), as a
/// replica with `repl-diskless-load` parses its master's socket (`rdbLoadRio` on a
/// connection rio): entries reach `on_entry` while the transfer goes on, and only what is not
/// parsed yet is held. It stops at the EOF opcode and its checksum; it does not drain `more`.
pub fn parse_rdb_stream(
    more: MoreBytes<'_>,
    databases: u32,
    on_entry: impl FnMut(Entry) -> Result<(), String>,
) -> Result<RdbInfo, RdbError> {
    let c = Cursor {
        data: Cow::Owned(Vec::new()),
        base: 0,
        pos: 0,
        more: Some(more),
        keep_from: None,
        crc: Some(digest()),
    };
    parse(c, databases, on_entry)
}

fn parse(
    mut c: Cursor<'_>,
    databases: u32,
    mut on_entry: impl FnMut(Entry) -> Result<(), String>,
) -> Result<RdbInfo, RdbError> {
    let magic = c.bytes(9, "magic")?;
    let version = rdb_version(magic)?;
    let mut info = RdbInfo {
        version,
        ..Default::default()
    };
    let mut db = 0u32;
    let mut expire: Option<i64> = None;
    loop {
        let op_at = c.pos;
        let op = c.u8("opcode")?;
        match op {
            OP_EOF => {
                if version >= 5 {
                    let stored = c.i64_le("checksum")? as u64;
                    if stored != 0 {
                        let computed = c.crc_until(op_at + 1);
                        if computed != stored {
                            return Err(RdbError {
                                offset: op_at + 1,
                                what: format!(
                                    "Wrong RDB checksum expected: ({stored:x}) got ({computed:x})"
                                ),
                            });
                        }
                        info.checksum_checked = true;
                    }
                }
                info.len = c.pos;
                return Ok(info);
            }
            OP_SELECTDB => {
                let n = c.len("SELECTDB index")?;
                if n >= databases as u64 {
                    return Err(RdbError {
                        offset: op_at,
                        what: format!(
                            "FATAL: Data file was created with a Redis server configured to handle more than {databases} databases"
                        ),
                    });
                }
                db = n as u32;
            }
            OP_RESIZEDB => {
                c.len("RESIZEDB size")?;
                c.len("RESIZEDB expires")?;
            }
            OP_EXPIRETIME_MS => expire = Some(c.i64_le("expire time")?),
            OP_EXPIRETIME => {
                let s = c.bytes(4, "expire time")?;
                expire = Some(i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as i64 * 1000);
            }
            OP_AUX => {
                let k = c.string("AUX key")?;
                let v = c.string("AUX value")?;
                info.aux.push((k, v));
            }
            OP_IDLE => {
                c.len("IDLE")?;
            }
            OP_FREQ => {
                c.u8("FREQ")?;
            }
            OP_FUNCTION2 => info.functions.push(c.string("function library")?),
            OP_FUNCTION => {
                return Err(RdbError {
                    offset: op_at,
                    what: "the pre-release FUNCTION opcode (7.0-rc) is not supported".into(),
                })
            }
            OP_MODULE_AUX => {
                return Err(RdbError {
                    offset: op_at,
                    what: "the file holds module data (MODULE_AUX); modules are not supported"
                        .into(),
                })
            }
            t => {
                let key = c.string("key")?;
                let value = read_value(&mut c, t)?;
                let entry = Entry {
                    db,
                    key,
                    value,
                    expire_ms: expire.take(),
                };
                info.keys += 1;
                on_entry(entry).map_err(|what| RdbError {
                    offset: c.pos,
                    what,
                })?;
            }
        }
    }
}

// The tests read capture files from tests/fixtures: native only.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn load(bytes: &[u8]) -> (RdbInfo, Vec<Entry>) {
        let mut v = Vec::new();
        let info = parse_rdb(bytes, 16, |e| {
            v.push(e);
            Ok(())
        })
        .unwrap();
        (info, v)
    }

    fn fixture(name: &str) -> Vec<u8> {
        let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn find<'a>(es: &'a [Entry], k: &str) -> &'a Entry {
        es.iter()
            .find(|e| e.key == k.as_bytes())
            .unwrap_or_else(|| panic!("no key {k}"))
    }

    #[test]
    fn one_key_23_bytes() {
        let (info, es) = load(&fixture("handmade_one_key_23_bytes.rdb"));
        assert!(info.checksum_checked);
        assert_eq!(es.len(), 1);
        assert_eq!(es[0].value, Value::String(b"v".to_vec()));
    }

    #[test]
    fn empty_zero_crc() {
        let (info, es) = load(&fixture("handmade_empty_18_bytes_zero_crc.rdb"));
        assert!(!info.checksum_checked);
        assert!(es.is_empty());
    }

    #[test]
    fn real_7015_all_types() {
        let (info, es) = load(&fixture("master7015_all_types_disk.rdb"));
        assert!(info.checksum_checked);
        assert_eq!(info.version, 10);
        assert_eq!(info.aux_str("redis-ver").as_deref(), Some("7.0.15"));
        assert_eq!(info.functions.len(), 1);
        assert_eq!(es.len(), 18);
        assert_eq!(find(&es, "s:int8").value, Value::String(b"-7".to_vec()));
        assert_eq!(
            find(&es, "s:int32").value,
            Value::String(b"2000000000".to_vec())
        );
        assert_eq!(find(&es, "s:lzf").value, Value::String(vec![b'a'; 72]));
        assert_eq!(find(&es, "s:exp").expire_ms, Some(1795338857925));
        let small: Vec<Vec<u8>> = ["a", "b", "1", "2", "300", "-5", "70000"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        assert_eq!(find(&es, "l:small").value, Value::List(small.into()));
        match &find(&es, "l:big").value {
            Value::List(v) => {
                assert_eq!(v.len(), 300);
                assert_eq!(v[299], b"element-number-300");
            }
            other => panic!("{other:?}"),
        }
        match &find(&es, "h:big").value {
            Value::Hash(v) => assert_eq!(v.len(), 600),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            find(&es, "z:small").value,
            Value::ZSet(vec![
                (b"c".to_vec(), -1.0),
                (b"a".to_vec(), 1.0),
                (b"b".to_vec(), 2.5)
            ])
        );
        match &find(&es, "z:big").value {
            Value::ZSet(v) => assert_eq!(v[0], (b"m200".to_vec(), 200.0)),
            other => panic!("{other:?}"),
        }
        match &find(&es, "set:int").value {
            Value::Set(v) => assert_eq!(v.len(), 5),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            find(&es, "st").value,
            Value::Stream { type_byte: 19, .. }
        ));
        assert_eq!(find(&es, "db1key").db, 1);
    }

    #[test]
    fn eof_capture_and_legacy_types_load() {
        let (_, es) = load(&fixture("master7015_all_types_eof.rdb"));
        assert_eq!(es.len(), 25); // rdbdump.py counts 25 keys too
        let (_, es) = load(&fixture("handmade_legacy_types.rdb"));
        assert!(es.iter().any(|e| e.db == 3));
        let (_, es) = load(&fixture("handmade_lzf_value_by_lzf-rust.rdb"));
        assert!(!es.is_empty());
        load(&fixture("handmade_strings_min_nocrc.rdb"));
        load(&fixture("handmade_strings_with_aux_crc.rdb"));
    }

    /// Files saved by Redis 8.2.3 (RDB 12), Valkey 8.1.8 (RDB 11) and Valkey 9.1.2
    /// (`VALKEY080`) from the same commands: strings, small and large lists, sets (ints,
    /// strings: a set listpack, type 20, since RDB 11; large), hashes, zsets, a stream, a
    /// TTL, a second db.
    #[test]
    fn newer_formats_of_redis_and_valkey_load() {
        for (name, version) in [
            ("redis823_types.rdb", 12),
            ("valkey818_types.rdb", 11),
            ("valkey912_types.rdb", 80),
        ] {
            let (info, es) = load(&fixture(name));
            assert_eq!(info.version, version, "{name}");
            assert!(info.checksum_checked, "{name}");
            assert_eq!(es.len(), 15, "{name}");
            let set = |k: &str| match &find(&es, k).value {
                Value::Set(v) => {
                    let mut v = v.clone();
                    v.sort();
                    v
                }
                other => panic!("{name} {k}: {other:?}"),
            };
            let strs = |l: &[&str]| l.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
            assert_eq!(set("ss"), strs(&["a", "b", "c"]), "{name}");
            assert_eq!(set("si"), strs(&["1", "2", "3"]), "{name}");
            assert_eq!(set("sb").len(), 200, "{name}");
            assert_eq!(find(&es, "n").value, Value::String(b"12345".to_vec()));
            assert_eq!(find(&es, "big").value, Value::String(vec![b'a'; 3000]));
            assert_eq!(find(&es, "e").expire_ms, Some(4102444800000), "{name}");
            assert_eq!(find(&es, "d2").db, 2, "{name}");
            assert_eq!(
                find(&es, "z").value,
                Value::ZSet(vec![(b"a".to_vec(), 1.0), (b"b".to_vec(), 2.5)])
            );
            match &find(&es, "hb").value {
                Value::Hash(v) => assert_eq!(v.len(), 200, "{name}"),
                other => panic!("{other:?}"),
            }
            match &find(&es, "lb").value {
                Value::List(v) => assert_eq!(v.back().map(|x| &x[..]), Some(&b"e200"[..])),
                other => panic!("{other:?}"),
            }
            assert!(
                matches!(find(&es, "st").value, Value::Stream { .. }),
                "{name}"
            );
        }
    }

    /// A hash with a field TTL (HEXPIRE) is refused by name, not loaded without its TTL.
    #[test]
    fn hashes_with_field_ttls_are_refused_by_name() {
        for (name, t) in [
            ("redis823_hash_field_ttl.rdb", 25),
            ("valkey912_hash_field_ttl.rdb", 22),
        ] {
            let e = parse_rdb(&fixture(name), 16, |_| Ok(())).unwrap_err();
            assert!(
                e.what
                    .starts_with(&format!("type {t} is a hash with field expiration")),
                "{name}: {e}"
            );
        }
    }

    #[test]
    fn corruption_is_an_error_never_a_panic() {
        let good = fixture("master7015_all_types_disk.rdb");
        // Wrong CRC.
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        let e = parse_rdb(&bad, 16, |_| Ok(())).unwrap_err();
        assert!(e.what.contains("Wrong RDB checksum"), "{e}");
        // Every truncation fails cleanly.
        for cut in (0..good.len()).step_by(37) {
            assert!(
                parse_rdb(&good[..cut], 16, |_| Ok(())).is_err(),
                "cut {cut}"
            );
        }
        // Flipping bytes never panics.
        for i in (9..good.len() - 9).step_by(11) {
            let mut b = good.clone();
            b[i] = b[i].wrapping_add(0x5b);
            let _ = parse_rdb(&b, 16, |_| Ok(()));
        }
        // Versions newer than those read here, in Redis's words.
        for (magic, v) in [
            (&b"REDIS0013"[..], 13),
            (b"VALKEY081", 81),
            (b"VALKEY012", 12),
        ] {
            let mut f = magic.to_vec();
            f.push(0xff);
            let e = parse_rdb(&f, 16, |_| Ok(())).unwrap_err();
            assert_eq!(e.what, format!("Can't handle RDB format version {v}"));
        }
        let e = parse_rdb(b"REDIS00x2\xff", 16, |_| Ok(())).unwrap_err();
        assert!(e.what.contains("not a number"), "{e}");
        // Module type.
        let e = parse_rdb(b"REDIS0010\x07\x01k", 16, |_| Ok(())).unwrap_err();
        assert!(e.what.contains("module"), "{e}");
    }

    /// `data` fed in chunks of `size` bytes.
    fn stream(data: &[u8], size: usize) -> Result<(RdbInfo, Vec<Entry>), RdbError> {
        let mut chunks = data.chunks(size).map(<[u8]>::to_vec);
        let mut more = || chunks.next();
        let mut v = Vec::new();
        let info = parse_rdb_stream(&mut more, 16, |e| {
            v.push(e);
            Ok(())
        })?;
        Ok((info, v))
    }

    fn whole(data: &[u8]) -> Result<(RdbInfo, Vec<Entry>), RdbError> {
        let mut v = Vec::new();
        let info = parse_rdb(data, 16, |e| {
            v.push(e);
            Ok(())
        })?;
        Ok((info, v))
    }

    /// Parsing as the bytes arrive gives what parsing the whole file gives, whatever the
    /// chunks: the same keys, aux fields and checksum verdict, and the same error at the same
    /// offset for a corrupt or cut file.
    #[test]
    fn streaming_parse_equals_the_whole_file_parse() {
        let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
        let mut files = 0;
        for f in std::fs::read_dir(&dir).unwrap() {
            let path = f.unwrap().path();
            if path.extension().is_none_or(|e| e != "rdb") {
                continue;
            }
            files += 1;
            let good = std::fs::read(&path).unwrap();
            let mut bad_crc = good.clone();
            let n = bad_crc.len();
            bad_crc[n - 1] ^= 1;
            let mut cases = vec![good.clone(), bad_crc, good[..good.len() / 2].to_vec()];
            for i in (9..good.len().saturating_sub(9)).step_by(97) {
                let mut b = good.clone();
                b[i] = b[i].wrapping_add(0x5b);
                cases.push(b);
            }
            for data in &cases {
                let expected = whole(data);
                for size in [1, 3, 64, 4096, data.len().max(1)] {
                    assert_eq!(
                        stream(data, size),
                        expected,
                        "{} in chunks of {size}",
                        path.display()
                    );
                }
            }
        }
        assert!(files >= 10, "only {files} fixtures");
    }
}
