//! The blocking cluster client. Built on the pure modules of this crate
//! ([`request`](crate::request), [`plan`](crate::plan), [`topology`](crate::topology)) and
//! redis-sync; it only does the I/O they ask for.
