//! Measures the RDB writer: 200,000 string keys with 100-byte values, into memory.
//! `cargo run --release --example rdb_write_bench [nocompress]`
fn main() {
    use replscope::rdb::{RdbWriter, Value};
    let t = std::time::Instant::now();
    let mut w = RdbWriter::new(Vec::new()).unwrap();
    w.compression = std::env::args().nth(1).is_none();
    w.select_db(0, 200000, 0).unwrap();
    for i in 0..200000 {
        let mut v = format!("value:{i}").into_bytes();
        v.resize(100, 0);
        w.entry(format!("key:{i}").as_bytes(), &Value::String(v), None)
            .unwrap();
    }
    let out = w.finish().unwrap();
    println!("{} bytes in {:?}", out.len(), t.elapsed());
}
