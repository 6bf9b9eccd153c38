//! Connection commands: PING, ECHO, SELECT, CLIENT ....
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_connection {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

        /// Ping the server (replies PONG).
        "ping" fn ping() { cmd("PING") }

        /// Ping with a message (replies with the message).
        "ping" fn ping_message<M: ToArgs>(message: M) { cmd("PING").with(message) }

        /// Return the message.
        "echo" fn echo<M: ToArgs>(message: M) { cmd("ECHO").with(message) }

        /// Switch this connection to another database. A client that reconnects goes back to
        /// the database in its config.
        "select" fn select(db: i64) { cmd("SELECT").with(db) }

        /// Reset this connection's state (database, name, tracking, auth to default user...).
        "reset" fn reset() { cmd("RESET") }

        /// This connection's id.
        "client|id" fn client_id() { cmd("CLIENT").with("ID") }

        /// Information about this connection (one `CLIENT LIST` line).
        "client|info" fn client_info() { cmd("CLIENT").with("INFO") }

        /// Information about all connections, one per line.
        "client|list" fn client_list() { cmd("CLIENT").with("LIST") }

        /// Information about the connections with these ids.
        "client|list" fn client_list_ids<I: ToArgs>(ids: I) { cmd("CLIENT").with("LIST").with("ID").with(ids) }

        /// This connection's name (nil when unset).
        "client|getname" fn client_getname() { cmd("CLIENT").with("GETNAME") }

        /// Set the connection's name.
        "client|setname" fn client_setname<N: ToArgs>(name: N) { cmd("CLIENT").with("SETNAME").with(name) }

        /// Set `lib-name` or `lib-ver` of this connection (Redis 7.2+).
        "client|setinfo" fn client_setinfo<A: ToArgs, V: ToArgs>(attribute: A, value: V) {
            cmd("CLIENT").with("SETINFO").with(attribute).with(value)
        }

        /// Close connections matching filters given as pairs, e.g. `("ID", 12)` or
        /// `("ADDR", "10.0.0.1:5000")`; returns how many were closed.
        "client|kill" fn client_kill<F: ToArgs>(filters: F) { cmd("CLIENT").with("KILL").with(filters) }

        /// Suspend all clients for `timeout` milliseconds.
        "client|pause" fn client_pause(timeout: u64) { cmd("CLIENT").with("PAUSE").with(timeout) }

        /// Suspend writing clients for `timeout` milliseconds (`PAUSE ... WRITE`).
        "client|pause" fn client_pause_write(timeout: u64) {
            cmd("CLIENT").with("PAUSE").with(timeout).with("WRITE")
        }

        /// Resume paused clients.
        "client|unpause" fn client_unpause() { cmd("CLIENT").with("UNPAUSE") }

        /// Exclude this connection from eviction (or not).
        "client|no-evict" fn client_no_evict(on: bool) {
            cmd("CLIENT").with("NO-EVICT").with(if on { "ON" } else { "OFF" })
        }

        /// Do not update keys' access time on this connection's reads (Redis 7.2+).
        "client|no-touch" fn client_no_touch(on: bool) {
            cmd("CLIENT").with("NO-TOUCH").with(if on { "ON" } else { "OFF" })
        }

        /// Turn on server-assisted client caching for this connection.
        "client|tracking" fn client_tracking_on(options: ClientTrackingOptions) {
            cmd("CLIENT").with("TRACKING").with("ON").with(options)
        }

        /// Turn off server-assisted client caching for this connection.
        "client|tracking" fn client_tracking_off() { cmd("CLIENT").with("TRACKING").with("OFF") }

        /// With tracking OPTIN/OPTOUT: track (or not) the keys read by the next command.
        "client|caching" fn client_caching(yes: bool) {
            cmd("CLIENT").with("CACHING").with(if yes { "YES" } else { "NO" })
        }

        /// The client id invalidations are redirected to (0: none, -1: tracking off).
        "client|getredir" fn client_getredir() { cmd("CLIENT").with("GETREDIR") }

        /// This connection's tracking state.
        "client|trackinginfo" fn client_trackinginfo() { cmd("CLIENT").with("TRACKINGINFO") }

        /// Unblock a client blocked in a blocking command (it gets a timeout reply); returns
        /// 1 if it was blocked.
        "client|unblock" fn client_unblock(client_id: i64) { cmd("CLIENT").with("UNBLOCK").with(client_id) }

        /// Unblock a client blocked in a blocking command with an UNBLOCKED error.
        "client|unblock" fn client_unblock_error(client_id: i64) {
            cmd("CLIENT").with("UNBLOCK").with(client_id).with("ERROR")
        }

        /// Help text of `CLIENT`.
        "client|help" fn client_help() { cmd("CLIENT").with("HELP") }
        }
    };
}
