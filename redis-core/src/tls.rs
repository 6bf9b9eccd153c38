//! Turning a [`TlsConfig`] into a native-tls connector, once for both clients.
//!
//! Building the connector is configuration, not I/O: the clients wrap their own sockets
//! with it (`native-tls` for blocking, `tokio-native-tls` for async).

use std::sync::Once;

use crate::config::TlsConfig;
use crate::error::{Error, Result};

/// A connector that verifies certificates and host names unless a `danger_` flag says
/// otherwise, in which case a warning is printed once per process.
pub fn connector(tls: &TlsConfig) -> Result<native_tls::TlsConnector> {
    let mut b = native_tls::TlsConnector::builder();
    if let Some(pem) = &tls.ca_cert_pem {
        let cert = native_tls::Certificate::from_pem(pem)
            .map_err(|e| Error::Tls(format!("bad CA certificate: {e}")))?;
        b.add_root_certificate(cert);
    }
    if let Some((cert, key)) = &tls.client_cert_pem {
        let id = native_tls::Identity::from_pkcs8(cert, key)
            .map_err(|e| Error::Tls(format!("bad client certificate or key: {e}")))?;
        b.identity(id);
    }
    if tls.danger_accept_invalid_certs || tls.danger_accept_invalid_hostnames {
        static WARN: Once = Once::new();
        WARN.call_once(|| {
            eprintln!(
                "WARNING redis client: TLS certificate or host name verification is DISABLED; \
                 connections can be intercepted. Never do this in production."
            )
        });
        b.danger_accept_invalid_certs(tls.danger_accept_invalid_certs);
        b.danger_accept_invalid_hostnames(tls.danger_accept_invalid_hostnames);
    }
    b.build()
        .map_err(|e| Error::Tls(format!("cannot set up TLS: {e}")))
}
