//! TLS to PostgreSQL, as libpq does it: with the URL's `sslmode=prefer` (the default) or `require`, the
//! connection is encrypted whenever the server offers TLS. The server's certificate is checked against a CA only
//! when one is named, as libpq's `sslrootcert` does: the environment's `MESSENGER_PG_ROOT_CERT` (a PEM file).
//! Without it, any certificate is taken (Debian's default cluster serves a self-signed one), but the handshake's
//! signatures are still verified.

use anyhow::{Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The CA file that, when set, every PostgreSQL server certificate must chain to.
pub const ROOT_CERT_ENV: &str = "MESSENGER_PG_ROOT_CERT";

/// Set to `1` to connect to a PostgreSQL server off this machine without checking its certificate.
pub const ALLOW_UNVERIFIED_ENV: &str = "MESSENGER_PG_ALLOW_UNVERIFIED";

/// Without a CA the server's certificate is not checked, and `sslmode=prefer` (the default) falls back to plain
/// text when the server offers no TLS: whoever is on the path could read the tokens or change the data. For a
/// server on this machine that is only said, loudly; for any other it is refused unless `allowed` (the
/// environment's MESSENGER_PG_ALLOW_UNVERIFIED=1).
pub fn check_unverified(config: &postgres::Config, root_cert: Option<&Path>, allowed: bool) -> Result<()> {
    if root_cert.is_some() {
        return Ok(());
    }
    let local = config.get_hosts().iter().all(|host| match host {
        postgres::config::Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        postgres::config::Host::Unix(_) => true,
    });
    anyhow::ensure!(
        local || allowed,
        "PostgreSQL off this machine without {ROOT_CERT_ENV}: its certificate would not be checked and the connection          could fall back to plain text; name its CA in {ROOT_CERT_ENV} (and add sslmode=require), or set          {ALLOW_UNVERIFIED_ENV}=1 to accept that"
    );
    tracing::warn!(
        "PostgreSQL TLS is not verified (no {ROOT_CERT_ENV}): any certificate is taken, and sslmode=prefer falls back          to plain text when the server offers no TLS"
    );
    Ok(())
}

/// Whether the environment allows unverified TLS to a server off this machine.
pub fn unverified_allowed() -> bool {
    std::env::var(ALLOW_UNVERIFIED_ENV).is_ok_and(|v| v == "1")
}

/// The CA file named in the environment, if any.
pub fn root_cert_from_env() -> Option<PathBuf> {
    std::env::var_os(ROOT_CERT_ENV).filter(|path| !path.is_empty()).map(PathBuf::from)
}

/// TLS that checks the server's certificate against `root_cert` (a PEM file) when given, else encrypts only.
pub fn connector(root_cert: Option<&Path>) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let config = match root_cert {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .with_context(|| format!("reading the CA file {}", path.display()))?;
            for cert in certs {
                roots.add(cert.context("a certificate in the CA file")?)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(EncryptOnly(provider))).with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// Takes the server's certificate as it is (no CA was named), and checks that the server holds its key.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, signature, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, signature, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unverified_tls_is_refused_off_this_machine_unless_allowed() {
        let remote: postgres::Config = "postgres://u@db.example.com/x".parse().unwrap();
        assert!(check_unverified(&remote, None, false).is_err());
        assert!(check_unverified(&remote, None, true).is_ok(), "allowed explicitly");
        assert!(check_unverified(&remote, Some(Path::new("/ca.pem")), false).is_ok(), "verified");
        let local: postgres::Config = "postgres://u@127.0.0.1:5432/x".parse().unwrap();
        assert!(check_unverified(&local, None, false).is_ok(), "on this machine: a warning only");
    }
}
