//! What a replica reads from its master: the handshake replies, the RDB's framing (`$<len>`
//! or `$EOF:<mark>`) and the RDB itself, then the command stream. The bytes reach the real
//! path of `replscope server` without its sockets: the replication core's parser (through its
//! public API, `Input::Received` on the master link), then the server's RDB loader and the
//! command table for every command the stream carries. Any bytes: no panic, no abort, no
//! allocation far beyond the input.
#![no_main]

use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use replscope::core::{ConnId, Input, Payload};
use replscope::server::engine::Engine;
use replscope::server::log::Logger;
use replscope::server::rdbfile::{load_rdb, load_rdb_stream};
use replscope::server::types::Action;
use replscope::server::{config_from_args, dispatch, seam};

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A diskless load parsing while the RDB arrives: its generation, the chunks so far.
struct Streaming {
    gen: u64,
    got: Vec<Vec<u8>>,
    chunks: Receiver<Vec<u8>>,
}

/// Carries out what the engine asked for, as the driver would; returns the master link.
fn carry_out(e: &mut Engine, link: &mut Option<ConnId>, streaming: &mut Option<Streaming>) {
    for a in e.take_actions() {
        match a {
            Action::Connect { conn, .. } => {
                *link = Some(conn);
                seam::core_handle(e, Input::Connected { conn });
            }
            Action::Load(data) => {
                let (dbs, delay, now) = e.load_params();
                let res = load_rdb(&data, dbs, delay, false, now);
                e.load_done(&data, res);
                seam::pump(e);
            }
            Action::LoadStream { gen, chunks } => {
                *streaming = Some(Streaming {
                    gen,
                    got: Vec::new(),
                    chunks,
                })
            }
            Action::Bgsave(_) | Action::Shutdown => {}
        }
    }
    // The loader thread's part, without a thread: once the transfer is over (the engine let
    // go of its end), parse what arrived chunk by chunk and report, as `run_stream_load` does.
    let Some(s) = streaming.as_mut() else { return };
    loop {
        match s.chunks.try_recv() {
            Ok(c) => s.got.push(c),
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => break,
        }
    }
    let Some(s) = streaming.take() else { return };
    let (dbs, delay, now) = e.load_params();
    let mut got = s.got.into_iter();
    let mut more = || got.next();
    let res = load_rdb_stream(&mut more, dbs, delay, false, now);
    e.stream_load_done(s.gen, res);
    seam::pump(e);
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let cfg = config_from_args(&args(&[
        "--port", "6390", "--loglevel", "warning", "--save", "",
        // swapdb: the received RDB is loaded from memory, not written to dir.
        "--repl-diskless-load", "swapdb",
    ]))
    .expect("config");
    let log = Arc::new(Logger::new("/dev/null").expect("/dev/null"));
    let mut e = Engine::new(cfg, log, replscope::server::commands::apply_from_master).expect("engine");
    e.init_core(6390, None).expect("core");
    seam::pump(&mut e);
    let client = e.add_client("127.0.0.1:40000".into(), "127.0.0.1:6390".into(), Default::default());
    seam::pump(&mut e);
    let replicaof = ["REPLICAOF", "127.0.0.1", "6379"].map(|s| s.as_bytes().to_vec());
    dispatch::execute(&mut e, client, replicaof.to_vec());
    let (mut link, mut streaming) = (None, None);
    carry_out(&mut e, &mut link, &mut streaming);
    let Some(conn) = link else { return };
    // The input arrives in reads of a size the first byte picks, but in at most ~64 reads:
    // each read runs the whole path (core, engine, replies), and inputs cut into single bytes
    // spent the fuzzer's time there (1.3 ms an input, 0.3 ms now).
    let size = (1 + step as usize * 4).max(stream.len() / 64 + 1);
    for piece in stream.chunks(size) {
        seam::core_handle(
            &mut e,
            Input::Received {
                conn,
                payload: Payload::Bytes(piece.to_vec()),
            },
        );
        carry_out(&mut e, &mut link, &mut streaming);
        // What the replica sends back (REPLCONF ACK, ...) is taken, as the socket would.
        let _ = seam::take_outgoing(&mut e, conn, 1 << 20);
        let _ = seam::take_outgoing(&mut e, ConnId(client), 1 << 20);
    }
});
