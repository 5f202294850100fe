//! The crate's one error type. Every failure is a value, never a panic: the Python binding turns each variant
//! into the project's exception of the same meaning (`TraceError`, `ValueError`, `OSError`).

use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Error {
    /// A trace file that cannot be read as asked; the message names the file and the place.
    Trace(String),
    /// The file was written by a newer oomreplay.
    Version(String),
    /// No valid trailer: the writer never finished.
    Truncated(String),
    /// A caller's mistake (an unknown kind, times going backwards): Python's ValueError.
    Value(String),
    /// Input that cannot be converted: one line naming the file and the place.
    Input(String),
    Io(io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Trace(m)
            | Error::Version(m)
            | Error::Truncated(m)
            | Error::Value(m)
            | Error::Input(m) => f.write_str(m),
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

pub fn trace_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Trace(msg.into()))
}
