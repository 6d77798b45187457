//! The scenario loader (`sim::Scenario::from_toml`): a bad file is an error naming what is
//! wrong, never a panic; a good one survives a round trip through `to_toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replscope::sim::Scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Scenario::from_toml(text) {
        let again = Scenario::from_toml(&s.to_toml()).expect("a scenario's own TOML loads");
        assert_eq!(again.to_toml(), s.to_toml());
    }
});
