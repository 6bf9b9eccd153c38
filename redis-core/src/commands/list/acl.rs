//! Access control lists.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_acl {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

        /// The user this connection is authenticated as.
        "acl|whoami" fn acl_whoami() { cmd("ACL").with("WHOAMI") }

        /// The ACL categories.
        "acl|cat" fn acl_cat() { cmd("ACL").with("CAT") }

        /// The commands of an ACL category.
        "acl|cat" fn acl_cat_category<C: ToArgs>(category: C) { cmd("ACL").with("CAT").with(category) }

        /// The ACL rules, one line per user.
        "acl|list" fn acl_list() { cmd("ACL").with("LIST") }

        /// The user names.
        "acl|users" fn acl_users() { cmd("ACL").with("USERS") }

        /// The rules of one user (nil when missing).
        "acl|getuser" fn acl_getuser<U: ToArgs>(username: U) { cmd("ACL").with("GETUSER").with(username) }

        /// Create or modify a user with rules (`["on", ">password", "~*", "+@all"]`).
        "acl|setuser" fn acl_setuser<U: ToArgs, R: ToArgs>(username: U, rules: R) {
            cmd("ACL").with("SETUSER").with(username).with(rules)
        }

        /// Delete users; returns how many existed.
        "acl|deluser" fn acl_deluser<U: ToArgs>(usernames: U) { cmd("ACL").with("DELUSER").with(usernames) }

        /// The ACL security log (the server's default of 10 entries).
        "acl|log" fn acl_log() { cmd("ACL").with("LOG") }

        /// The last `count` entries of the ACL log.
        "acl|log" fn acl_log_count(count: u64) { cmd("ACL").with("LOG").with(count) }

        /// Empty the ACL log.
        "acl|log" fn acl_log_reset() { cmd("ACL").with("LOG").with("RESET") }

        /// A random password (256 bits, as hex).
        "acl|genpass" fn acl_genpass() { cmd("ACL").with("GENPASS") }

        /// A random password of `bits` bits, as hex.
        "acl|genpass" fn acl_genpass_bits(bits: u32) { cmd("ACL").with("GENPASS").with(bits) }

        /// Whether a user could run a command line (OK, or the reason it could not).
        "acl|dryrun" fn acl_dryrun<U: ToArgs, A: ToArgs>(username: U, command: A) {
            cmd("ACL").with("DRYRUN").with(username).with(command)
        }

        /// Reload users from the ACL file.
        "acl|load" fn acl_load() { cmd("ACL").with("LOAD") }

        /// Save users to the ACL file.
        "acl|save" fn acl_save() { cmd("ACL").with("SAVE") }

        /// Help text of `ACL`.
        "acl|help" fn acl_help() { cmd("ACL").with("HELP") }
        }
    };
}
