//! The seam to the replication core: feed it, then carry out every output it has (the one
//! rule of the driving loop in `core/mod.rs`). The engine carries out each output on its own
//! state; the one it cannot is `Output::Apply`, a command from our master's stream, which
//! runs through the command table one layer up.

use super::commands::apply_from_master;
use super::engine::Engine;
use crate::core::{ConnId, Input, Output};

/// Drains the core's outputs.
pub fn pump(e: &mut Engine) {
    while let Some(out) = e.poll_core_output() {
        match out {
            Output::Apply { argv } => apply_from_master(e, &argv),
            other => e.carry_out(other),
        }
    }
}

/// Feeds the core one input and carries out what it asks.
pub fn core_handle(e: &mut Engine, input: Input) {
    e.core_input(input);
    pump(e);
}

/// Hands the writes executed since the last call to the core.
pub fn flush_propagation(e: &mut Engine) {
    if e.hand_writes_to_core() {
        pump(e);
    }
}

/// The core's timers are due.
pub fn core_timeout(e: &mut Engine) {
    e.core_timeout();
    pump(e);
}

/// Takes up to `max` bytes the core holds for a connection.
pub fn take_outgoing(e: &mut Engine, conn: ConnId, max: usize) -> Vec<u8> {
    let out = e.core_take_outgoing(conn, max);
    pump(e);
    out
}
