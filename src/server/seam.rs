//! The seam to the replication core: feed it, then carry out every output it has (the one
//! rule of the driving loop in `core/mod.rs`; the engine is the core's `Driver`, see
//! `engine/core_side.rs`).

use super::engine::Engine;
use crate::core::{ConnId, Input};

/// Carries out the core's outputs.
pub fn pump(e: &mut Engine) {
    e.pump();
}

/// Feeds the core one input and carries out what it asks.
pub fn core_handle(e: &mut Engine, input: Input) {
    e.core_input(input);
    e.pump();
}

/// Hands the writes executed since the last call to the core.
pub fn flush_propagation(e: &mut Engine) {
    if e.hand_writes_to_core() {
        e.pump();
    }
}

/// The core's timers are due.
pub fn core_timeout(e: &mut Engine) {
    e.core_timeout();
    e.pump();
}

/// Takes up to `max` bytes the core holds for a connection.
pub fn take_outgoing(e: &mut Engine, conn: ConnId, max: usize) -> Vec<u8> {
    let out = e.core_take_outgoing(conn, max);
    e.pump();
    out
}
