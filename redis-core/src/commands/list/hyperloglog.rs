//! HyperLogLog.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_hyperloglog {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

        /// Add elements to a HyperLogLog; returns 1 if its estimate changed.
        "pfadd" fn pfadd<K: ToArgs, E: ToArgs>(key: K, elements: E) { cmd("PFADD").with(key).with(elements) }

        /// Approximate number of distinct elements in the union of HyperLogLogs.
        "pfcount" fn pfcount<K: ToArgs>(keys: K) { cmd("PFCOUNT").with(keys) }

        /// Merge HyperLogLogs into `destination`.
        "pfmerge" fn pfmerge<D: ToArgs, K: ToArgs>(destination: D, sources: K) {
            cmd("PFMERGE").with(destination).with(sources)
        }
        }
    };
}
