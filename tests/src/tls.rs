//! Test certificates, made once per test process with the `openssl` command.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::output_with_timeout;

/// Certificates and keys for TLS tests: where they are on disk and their PEM bytes.
///
/// All keys are ECDSA P-256 in PKCS#8 PEM (`BEGIN PRIVATE KEY`). The server certificate
/// is signed by `ca_cert` and names `DNS:localhost` and `IP:127.0.0.1`. The client
/// certificate is signed by the same CA (for mutual TLS). `other_ca_cert` is an unrelated CA
/// that signed nothing the server uses, and `other_client_cert` is a client certificate
/// signed by it: both are for tests that must fail verification.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Path of the CA certificate that signed the server and client certificates.
    pub ca_cert: PathBuf,
    /// PEM of [`TlsFiles::ca_cert`]; what `Config::tls.ca_cert_pem` should trust.
    pub ca_cert_pem: Vec<u8>,
    /// Path of the server certificate.
    pub server_cert: PathBuf,
    /// PEM of [`TlsFiles::server_cert`].
    pub server_cert_pem: Vec<u8>,
    /// Path of the server private key.
    pub server_key: PathBuf,
    /// PEM of [`TlsFiles::server_key`].
    pub server_key_pem: Vec<u8>,
    /// Path of the client certificate (signed by the CA).
    pub client_cert: PathBuf,
    /// PEM of [`TlsFiles::client_cert`].
    pub client_cert_pem: Vec<u8>,
    /// Path of the client private key.
    pub client_key: PathBuf,
    /// PEM of [`TlsFiles::client_key`].
    pub client_key_pem: Vec<u8>,
    /// Path of a second CA certificate that has nothing to do with the server.
    pub other_ca_cert: PathBuf,
    /// PEM of [`TlsFiles::other_ca_cert`].
    pub other_ca_cert_pem: Vec<u8>,
    /// Path of a client certificate signed by the unrelated CA.
    pub other_client_cert: PathBuf,
    /// PEM of [`TlsFiles::other_client_cert`].
    pub other_client_cert_pem: Vec<u8>,
    /// Path of the key of [`TlsFiles::other_client_cert`].
    pub other_client_key: PathBuf,
    /// PEM of [`TlsFiles::other_client_key`].
    pub other_client_key_pem: Vec<u8>,
}

/// File name and PEM bytes of each generated file, in a fixed order.
struct Generated {
    files: Vec<(&'static str, Vec<u8>)>,
}

const OPENSSL_CONF: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

const FILES: [&str; 8] = [
    "ca.crt",
    "server.crt",
    "server.key",
    "client.crt",
    "client.key",
    "other-ca.crt",
    "other-client.crt",
    "other-client.key",
];

fn openssl(dir: &Path, args: &[&str]) {
    let mut cmd = Command::new("openssl");
    cmd.current_dir(dir).args(args);
    match output_with_timeout(&mut cmd, Duration::from_secs(60)) {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "openssl {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("openssl not found: install it with `apt-get install -y openssl`")
        }
        Err(e) => panic!("cannot run openssl {}: {e}", args.join(" ")),
    }
}

fn new_ca(dir: &Path, name: &str, cn: &str) {
    let key = format!("{name}.key");
    let crt = format!("{name}.crt");
    let subj = format!("/CN={cn}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-config",
            "openssl.cnf",
            "-extensions",
            "v3_ca",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "3650",
            "-subj",
            &subj,
        ],
    );
}

fn new_leaf(dir: &Path, name: &str, cn: &str, ca: &str, ext: &str, serial: u32) {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let crt = format!("{name}.crt");
    let ca_crt = format!("{ca}.crt");
    let ca_key = format!("{ca}.key");
    let subj = format!("/CN={cn}");
    let serial = format!("{serial}");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-config",
            "openssl.cnf",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &subj,
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-set_serial",
            &serial,
            "-days",
            "3650",
            "-extfile",
            "openssl.cnf",
            "-extensions",
            ext,
            "-out",
            &crt,
        ],
    );
}

fn generate() -> Generated {
    let dir = tempfile::Builder::new()
        .prefix("redis-test-certs-")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temp dir for certificates: {e}"));
    let d = dir.path();
    fs::write(d.join("openssl.cnf"), OPENSSL_CONF)
        .unwrap_or_else(|e| panic!("cannot write openssl.cnf: {e}"));
    new_ca(d, "ca", "Redis Test CA");
    new_ca(d, "other-ca", "Unrelated Test CA");
    new_leaf(d, "server", "localhost", "ca", "server_ext", 2);
    new_leaf(d, "client", "redis-test-client", "ca", "client_ext", 3);
    new_leaf(
        d,
        "other-client",
        "redis-test-client",
        "other-ca",
        "client_ext",
        4,
    );
    let files = FILES
        .iter()
        .map(|name| {
            let pem = fs::read(d.join(name))
                .unwrap_or_else(|e| panic!("cannot read generated {name}: {e}"));
            (*name, pem)
        })
        .collect();
    Generated { files }
}

fn generated() -> &'static Generated {
    static CERTS: OnceLock<Generated> = OnceLock::new();
    CERTS.get_or_init(generate)
}

impl TlsFiles {
    /// Writes this process's test certificates into `dir` and describes them.
    ///
    /// The certificates are generated once per test process (openssl is slow) and then
    /// copied into each server's own directory, so nothing outlives the test's temp dirs.
    pub fn write_to(dir: &Path) -> TlsFiles {
        let g = generated();
        let mut paths = Vec::new();
        let mut pems = Vec::new();
        for (name, pem) in &g.files {
            let path = dir.join(name);
            fs::write(&path, pem)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            paths.push(path);
            pems.push(pem.clone());
        }
        let mut paths = paths.into_iter();
        let mut pems = pems.into_iter();
        let mut next = || (paths.next().unwrap(), pems.next().unwrap());
        let (ca_cert, ca_cert_pem) = next();
        let (server_cert, server_cert_pem) = next();
        let (server_key, server_key_pem) = next();
        let (client_cert, client_cert_pem) = next();
        let (client_key, client_key_pem) = next();
        let (other_ca_cert, other_ca_cert_pem) = next();
        let (other_client_cert, other_client_cert_pem) = next();
        let (other_client_key, other_client_key_pem) = next();
        TlsFiles {
            ca_cert,
            ca_cert_pem,
            server_cert,
            server_cert_pem,
            server_key,
            server_key_pem,
            client_cert,
            client_cert_pem,
            client_key,
            client_key_pem,
            other_ca_cert,
            other_ca_cert_pem,
            other_client_cert,
            other_client_cert_pem,
            other_client_key,
            other_client_key_pem,
        }
    }
}
