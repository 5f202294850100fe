//! oomreplay's core: the event model and `apply`, the `.oomtrace` store, and the tokenizers, with no Python in
//! it (the `oomreplay-native` crate binds it as `oomreplay._native`).

pub mod error;
pub mod explore;
pub mod ftrace;
pub mod ingest;
pub mod klog;
pub mod model;
pub mod text;

pub use error::{Error, Result};
pub mod store;
