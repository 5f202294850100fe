//! The `.oomtrace` file: streaming writer, lazy reader, index, keyframes, verify and repair.

pub mod changelists;
pub mod codec;
pub mod compressor;
pub mod format;
pub mod lru;
pub mod msgpack;
pub mod overview;
pub mod pages;
pub mod partials;
pub mod reader;
pub mod repair;
pub mod seek;
pub mod tracker;
pub mod tuning;
pub mod writer;
