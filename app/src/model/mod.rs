//! Wire types shared by the UI and the server, and the newtypes that parse user input.
//!
//! Everything here is plain data: it derives `Serialize` because it crosses the wire. It must never
//! hold a secret (a password, a hash, a session id) nor a database row or git object as such.

mod builds;
mod compare;
mod compiled;
mod coverage;
mod exports;
mod history;
mod input;
mod notices;
mod releases;
mod requirements;
mod review;
mod room;
mod sarif;
mod views;

pub use builds::*;
pub use compare::*;
pub use compiled::*;
pub use coverage::*;
pub use exports::*;
pub use history::*;
pub use input::*;
pub use notices::*;
pub use releases::*;
pub use requirements::*;
pub use review::*;
pub use room::*;
pub use sarif::*;
pub use views::*;
