//! Converts the simulator's preset files (`src/sim/presets/*.toml`) to JSON in `OUT_DIR`, for
//! the web build: the page reads them with the browser's JSON.parse (`src/json.rs`) and so
//! carries no TOML parser. The native build keeps reading the TOML files; a unit test checks
//! both give the same scenarios.
//! Also turns the lessons (`src/web/lessons/*.toml`) into Rust statics (`build/lessons.rs`).

use std::collections::BTreeSet;
use std::path::Path;

#[path = "build/lessons.rs"]
mod lessons;

fn main() {
    let src = Path::new("src/sim/presets");
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-changed=build/lessons.rs");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir).join("presets");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/presets");
    let mut files: Vec<_> = std::fs::read_dir(src)
        .expect("read src/sim/presets")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut names = BTreeSet::new();
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("read a preset");
        let value: toml::Value = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not valid TOML: {e}", path.display()));
        let json = serde_json::to_string(&value).expect("TOML values convert to JSON");
        let name = path.file_stem().expect("a file name").to_string_lossy();
        std::fs::write(out.join(format!("{name}.json")), json).expect("write a JSON preset");
        names.insert(name.to_string());
    }
    lessons::generate(
        Path::new("src/web/lessons"),
        &names,
        &Path::new(&out_dir).join("lessons.rs"),
    );
}
