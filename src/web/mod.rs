//! The teaching web app, built by trunk for wasm32.
//!
//! The model (state, actions, URL, text, geometry) builds on every target so it is
//! unit-tested natively; the Yew components (`app`, `panels`, `views`) build for wasm32 only.

pub mod caption;
pub mod causes;
pub mod format;
pub mod i18n;
pub mod labels;
pub mod lessons;
pub mod live;
pub mod model;
pub mod params;
pub mod presets_zh;
pub mod run;
pub mod sizing;
pub mod spread_run;
pub mod stage;
pub mod tour;
pub mod url;
pub mod versions;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod deck;
#[cfg(target_arch = "wasm32")]
mod handout;
#[cfg(target_arch = "wasm32")]
mod live_view;
#[cfg(target_arch = "wasm32")]
mod panels;
#[cfg(target_arch = "wasm32")]
pub mod spread_workers;
#[cfg(target_arch = "wasm32")]
mod version_view;
#[cfg(target_arch = "wasm32")]
pub mod views;
#[cfg(target_arch = "wasm32")]
pub use app::{render_into, start};
