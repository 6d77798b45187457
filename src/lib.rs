//! ReplScope: see, teach and verify Redis replication.
//!
//! - [`core`]: Redis 7.0 replication as sans-IO state machines (no sockets, clock or RNG).
//! - [`sim`]: a deterministic discrete-event simulator around the core (native and wasm).
//! - [`view`]: the snapshots the simulator and the live server produce and the web app draws.
//! - [`wire`]: RESP, the one implementation the core, the server, `compare` and the tests use.
//! - `rdb` (native): RDB v10, for the server and the tests.
//! - `server` (native): a Redis-compatible server on the same core.
//! - `compare` (native): stage a scenario on real servers (replscope server or a real Redis/Valkey version)
//!   and pair what happened with the simulator's prediction.
//! - `cli` (native): `replscope sim | server | advise | compare`.
//! - [`web`]: the Yew teaching app (components on wasm32; URL state and text everywhere).

pub mod core;
pub mod json;
#[cfg(not(target_arch = "wasm32"))]
pub mod rdb;
pub mod sim;
pub mod view;
/// The web app: its pure parts (URL state, text, geometry) build everywhere and are tested
/// natively; the Yew components build for wasm32 only.
pub mod web;
pub mod wire;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
#[cfg(not(target_arch = "wasm32"))]
pub mod compare;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;
