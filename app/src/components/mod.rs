//! Pieces shared by pages: the page frame, error panels, breadcrumbs, times and the islands.

pub mod islands;
pub mod layout;
pub mod notices;
pub mod review;
pub mod time;
