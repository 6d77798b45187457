//! The teaching web app, built by trunk for wasm32.
//!
//! Pure modules (URL state, text, geometry) build on every target so they are unit-tested
//! natively; the Yew components (`app`, `views`) build for wasm32 only.

pub mod format;
pub mod i18n;
pub mod url;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
pub mod views;
#[cfg(target_arch = "wasm32")]
pub use app::{render_into, start};
