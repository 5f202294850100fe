//! The event vocabulary, the machine state and the one function that moves between them.

pub mod apply;
pub mod digest;
pub mod event;
mod locks;
mod memory;
mod ooms;
pub mod reads;
pub mod schema;
pub mod state;
pub mod table;
pub mod value;
mod victims;

pub use apply::{apply, apply_only, Ev};
pub use event::{Event, Src};
pub use memory::zone_key;
pub use state::State;
pub use table::{Key, Page, PageRef, Rec, Table};
pub use value::{Str, Value};
