//! Deterministic randomness for replication IDs and EOF marks.
//!
//! Redis draws these from the OS; the core must stay reproducible, so the driver seeds a
//! splitmix64 generator and every "random" ID derives from that seed.

/// splitmix64: tiny, fast, good enough for IDs (not for cryptography).
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits (exact in f64 on every target, so the simulator's
    /// draws are the same natively and in wasm32).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// 40 lowercase hex chars, the shape of a replid (`CONFIG_RUN_ID_SIZE`) and of an EOF mark
    /// (`RDB_EOF_MARK_SIZE`).
    pub fn hex40(&mut self) -> String {
        let mut s = String::with_capacity(40);
        while s.len() < 40 {
            let v = self.next_u64();
            s.push_str(&format!("{v:016x}"));
        }
        s.truncate(40);
        s
    }
}

/// The cleared replid2 value: forty zeros.
pub const ZERO_REPLID: &str = "0000000000000000000000000000000000000000";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids_and_shape() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        let x = a.hex40();
        assert_eq!(x, b.hex40());
        assert_eq!(x.len(), 40);
        assert!(x
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(x, a.hex40(), "consecutive ids differ");
    }
}
