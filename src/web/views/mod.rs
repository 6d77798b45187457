//! SVG views, each a pure function of `crate::view` data (no simulator inside), so they draw a
//! simulation and a live server alike.

pub mod buffers;
pub mod chart;
pub mod log;
pub mod ring;
pub mod spread;
pub mod stage;
pub mod timeline;
