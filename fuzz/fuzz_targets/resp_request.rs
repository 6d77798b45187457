//! The RESP request parser (`wire::request::RequestParser`), as a client connection feeds it:
//! the input is cut into reads at points taken from its first bytes, and parsing it in those
//! reads must give exactly what parsing it whole gives (state kept between reads), without
//! panicking, whatever the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replscope::wire::request::RequestParser;
use replscope::wire::{Parsed, RequestLimits};

fn run(input: &[u8], cuts: &[usize], limits: &RequestLimits) -> Vec<Result<Parsed, String>> {
    let mut p = RequestParser::default();
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts.iter().chain(std::iter::once(&input.len())) {
        let end = c.clamp(at, input.len());
        p.feed(&input[at..end]);
        at = end;
        loop {
            match p.next(limits) {
                Ok(None) => break,
                Ok(Some(x)) => out.push(Ok(x)),
                Err(e) => {
                    out.push(Err(e.reply_text()));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let limits = RequestLimits {
        max_bulk_len: if flags & 1 != 0 { 1 << 20 } else { 512 << 20 },
        from_master: flags & 2 != 0,
        unauthenticated: flags & 4 != 0,
    };
    // Cut points from a few bytes of the input itself.
    let step = 1 + (flags as usize >> 3);
    let cuts: Vec<usize> = (1..rest.len()).step_by(step).collect();
    let whole = run(rest, &[], &limits);
    let pieces = run(rest, &cuts, &limits);
    // `consumed` is the request's own length either way; compare the requests.
    let strip = |v: Vec<Result<Parsed, String>>| -> Vec<Result<Vec<Vec<u8>>, String>> {
        v.into_iter()
            .map(|r| {
                r.map(|p| match p {
                    Parsed::Command { args, .. } => args,
                    Parsed::Empty { .. } => Vec::new(),
                })
            })
            .collect()
    };
    assert_eq!(strip(whole), strip(pieces));
});
