//! Inputs the fuzz targets (fuzz/) once crashed on, replayed through the same checks in the
//! normal test suite. A file in tests/fixtures/fuzz is named `<target>-<what it found>`.

#![cfg(not(target_arch = "wasm32"))]

use replscope::wire::request::RequestParser;
use replscope::wire::{Parsed, RequestLimits};

/// The resp_request target's check: parsing in reads gives what parsing whole gives.
fn resp_request(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let limits = RequestLimits {
        max_bulk_len: if flags & 1 != 0 { 1 << 20 } else { 512 << 20 },
        from_master: flags & 2 != 0,
        unauthenticated: flags & 4 != 0,
    };
    let run = |step: usize| {
        let mut p = RequestParser::default();
        let mut out = Vec::new();
        for piece in rest.chunks(step.max(1)) {
            p.feed(piece);
            loop {
                match p.next(&limits) {
                    Ok(None) => break,
                    Ok(Some(Parsed::Command { args, .. })) => out.push(Ok(args)),
                    Ok(Some(Parsed::Empty { .. })) => out.push(Ok(Vec::new())),
                    Err(e) => {
                        out.push(Err(e.reply_text()));
                        return out;
                    }
                }
            }
        }
        out
    };
    assert_eq!(run(rest.len()), run(1 + (flags as usize >> 3)));
}

/// The web_url target's check: any query gives a state, and that state's own query reads
/// back the same, with no notices.
fn web_url(data: &[u8]) {
    use replscope::web::model::{SimValidator, DEFAULT_PRESET};
    use replscope::web::url;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = url::check_reads_back(text, DEFAULT_PRESET, &SimValidator) {
        panic!("{e}");
    }
}

/// The rdb_file target's check: parsing in chunks (as a diskless load reads a socket) gives
/// what parsing the whole file gives, errors included.
fn rdb_file(data: &[u8]) {
    let collect = |streaming: bool| {
        let mut entries = Vec::new();
        let on_entry = |e| {
            entries.push(e);
            Ok(())
        };
        let res = if streaming {
            let size = 1 + data.first().copied().unwrap_or(0) as usize % 61;
            let mut chunks = data.chunks(size).map(<[u8]>::to_vec);
            let mut more = || chunks.next();
            replscope::rdb::parse_rdb_stream(&mut more, 16, on_entry)
        } else {
            replscope::rdb::parse_rdb(data, 16, on_entry)
        };
        (res, entries)
    };
    assert_eq!(collect(false), collect(true));
}

#[test]
fn every_saved_crash_is_fixed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("tests/fixtures/fuzz") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        match name.split('-').next() {
            Some("resp_request") => resp_request(&data),
            Some("web_url") => web_url(&data),
            Some("rdb_file") => rdb_file(&data),
            other => panic!("{name}: no replay for target {other:?}"),
        }
        n += 1;
    }
    assert!(n > 0, "the saved crashes are replayed");
}
