//! TLS to PostgreSQL, with `sslmode` meaning what it means to `psql` (libpq):
//!
//! | `sslmode` | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | no | - |
//! | `prefer` (default) | if the server offers it | no |
//! | `require` | yes, or no connection | no (as libpq: encryption only) |
//! | `verify-ca` | yes | signed by a trusted authority |
//! | `verify-full` | yes | signed by a trusted authority and issued for the host |
//!
//! Trusted authorities: the file `sslrootcert=PATH` names (PEM), else `~/.postgresql/root.crt`
//! when it exists, else the system's (`sslrootcert=system`: always the system's). The driver
//! knows neither `verify-*` nor `sslrootcert`: both are taken out of the URL here and the
//! driver is told `require` with a verifier that does the checking. TLS itself is rustls with
//! the ring provider.

use crate::StoreError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

/// What the URL asked of TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `disable`, `prefer`, `require`, `verify-ca` or `verify-full`.
    pub mode: String,
    /// `sslrootcert`.
    pub root_cert: Option<String>,
}

/// The URL without `sslmode` and `sslrootcert` (`sslmode` put back as the driver understands
/// it), and the settings. An unknown `sslmode` is an error naming the accepted ones.
pub fn split(url: &str) -> Result<(String, TlsSettings), StoreError> {
    let mut settings = TlsSettings { mode: "prefer".into(), root_cert: None };
    let Some((base, query)) = url.split_once('?') else { return Ok((url.to_owned(), settings)) };
    let mut kept: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => settings.mode = v.to_owned(),
            "sslrootcert" => settings.root_cert = Some(percent_decode(v)),
            _ => kept.push(pair.to_owned()),
        }
    }
    let driver_mode = match settings.mode.as_str() {
        "disable" | "prefer" | "require" => settings.mode.as_str(),
        "verify-ca" | "verify-full" => "require",
        other => {
            return Err(StoreError::Url(format!(
                "sslmode={other} is not a TLS mode; accepted: disable, prefer, require, verify-ca, verify-full"
            )));
        }
    };
    kept.push(format!("sslmode={driver_mode}"));
    Ok((format!("{base}?{}", kept.join("&")), settings))
}

/// `%XX` escapes decoded (a path in a URL's query).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex =
            b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The connector for these settings (`None` for `disable`).
pub fn connector(
    s: &TlsSettings,
    target: &str,
) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, StoreError> {
    // ring, not aws-lc-rs (which needs a C and CMake build): rustls deprecates ring's provider
    // for lacking post-quantum key exchange, which PostgreSQL servers built with OpenSSL 3.0
    // (Debian 12's) do not offer either.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Open { path: target.to_owned(), message: format!("TLS: {e}") })?;
    let config = match s.mode.as_str() {
        "disable" => return Ok(None),
        "prefer" | "require" => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptionOnly(provider)))
            .with_no_client_auth(),
        mode => {
            let roots = Arc::new(trusted_roots(s, target)?);
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| StoreError::Open { path: target.to_owned(), message: format!("TLS: {e}") })?;
            let verifier: Arc<dyn ServerCertVerifier> =
                if mode == "verify-ca" { Arc::new(ChainOnly(webpki)) } else { webpki };
            builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
        }
    };
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
}

fn trusted_roots(s: &TlsSettings, target: &str) -> Result<rustls::RootCertStore, StoreError> {
    let open_err = |message: String| StoreError::Open { path: target.to_owned(), message };
    let mut roots = rustls::RootCertStore::empty();
    let file = match s.root_cert.as_deref() {
        Some("system") => None,
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".postgresql/root.crt")).filter(|p| p.is_file()),
    };
    match file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| open_err(format!("sslrootcert {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(open_err(format!("sslrootcert {}: no certificate in it", path.display())));
            }
            for c in certs {
                roots.add(c).map_err(|e| open_err(format!("sslrootcert {}: {e}", path.display())))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(open_err(
                    "sslmode verify-*: no trusted certificate authority (give sslrootcert=PATH)".into(),
                ));
            }
        }
    }
    Ok(roots)
}

/// `prefer` and `require`: the connection is encrypted and the handshake's signatures are
/// checked, but not who signed the server's certificate (libpq's meaning of `require`).
#[derive(Debug)]
struct EncryptionOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptionOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the certificate must chain to a trusted authority; the host name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_as_libpq_reads_them() {
        let (url, s) = split("postgres://a@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&x=1").expect("ok");
        assert_eq!(url, "postgres://a@h/db?x=1&sslmode=require");
        assert_eq!(s, TlsSettings { mode: "verify-full".into(), root_cert: Some("/tmp/ca.pem".into()) });
        let (url, s) = split("postgres://a@h/db").expect("ok");
        assert_eq!((url.as_str(), s.mode.as_str()), ("postgres://a@h/db", "prefer"));
        let e = split("postgres://a@h/db?sslmode=always").expect_err("unknown mode");
        assert!(e.to_string().contains("verify-full"), "{e}");
    }
}
