//! Publishing and pub/sub introspection (subscribing is a client flow, not here).
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_pubsub {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

        /// Publish a message; returns how many clients received it.
        "publish" fn publish<C: ToArgs, M: ToArgs>(channel: C, message: M) {
            cmd("PUBLISH").with(channel).with(message)
        }

        /// Publish a message to a shard channel; returns how many clients received it.
        "spublish" fn spublish<C: ToArgs, M: ToArgs>(channel: C, message: M) {
            cmd("SPUBLISH").with(channel).with(message)
        }

        /// Channels with at least one subscriber.
        "pubsub|channels" fn pubsub_channels() { cmd("PUBSUB").with("CHANNELS") }

        /// Channels with at least one subscriber, matching a glob pattern.
        "pubsub|channels" fn pubsub_channels_pattern<P: ToArgs>(pattern: P) {
            cmd("PUBSUB").with("CHANNELS").with(pattern)
        }

        /// Subscriber counts of channels, as `[channel, count, ...]`.
        "pubsub|numsub" fn pubsub_numsub<C: ToArgs>(channels: C) { cmd("PUBSUB").with("NUMSUB").with(channels) }

        /// Number of pattern subscriptions.
        "pubsub|numpat" fn pubsub_numpat() { cmd("PUBSUB").with("NUMPAT") }

        /// Shard channels with at least one subscriber.
        "pubsub|shardchannels" fn pubsub_shardchannels() { cmd("PUBSUB").with("SHARDCHANNELS") }

        /// Shard channels with at least one subscriber, matching a glob pattern.
        "pubsub|shardchannels" fn pubsub_shardchannels_pattern<P: ToArgs>(pattern: P) {
            cmd("PUBSUB").with("SHARDCHANNELS").with(pattern)
        }

        /// Subscriber counts of shard channels, as `[channel, count, ...]`.
        "pubsub|shardnumsub" fn pubsub_shardnumsub<C: ToArgs>(channels: C) {
            cmd("PUBSUB").with("SHARDNUMSUB").with(channels)
        }

        /// Help text of `PUBSUB`.
        "pubsub|help" fn pubsub_help() { cmd("PUBSUB").with("HELP") }
        }
    };
}
