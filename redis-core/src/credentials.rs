//! Where the handshake gets its user name and password.
//!
//! The handshake never reads a password from the config directly; it asks a
//! [`CredentialsProvider`]. A static user/password is the default provider. Rotating tokens
//! (cloud managed identities) are another provider that hands out the newest token, so the
//! handshake and re-authentication need no change when credentials start to rotate.

use std::fmt;
use std::sync::Arc;

use crate::error::Result;

/// A secret string (password, token). Never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A user name (optional: `default` when absent) and a password or token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// ACL user; `None` authenticates the `default` user (`requirepass`).
    pub username: Option<String>,
    /// Password or token.
    pub password: Secret,
}

/// Supplies the credentials the handshake sends.
///
/// Called once per handshake (and, later, on each re-authentication). It must return
/// quickly and not block on I/O: a provider that fetches tokens should refresh them in the
/// background and return the latest one here.
pub trait CredentialsProvider: Send + Sync + fmt::Debug {
    /// The credentials to use now, or `None` for no authentication.
    fn credentials(&self) -> Result<Option<Credentials>>;
}

/// The default provider: fixed credentials from the URL or config (or none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaticCredentials(pub Option<Credentials>);

impl CredentialsProvider for StaticCredentials {
    fn credentials(&self) -> Result<Option<Credentials>> {
        Ok(self.0.clone())
    }
}

/// A shared provider, as stored in the connection config.
pub type SharedCredentials = Arc<dyn CredentialsProvider>;
