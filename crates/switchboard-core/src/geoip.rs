//! GeoIP (`geoip.database`, issue 15): the country a visitor connects from, for the live
//! list, their visits and the `country` condition of proactive rules. Reads a MaxMind or
//! DB-IP `.mmdb` file (GeoIP2/GeoLite2 Country or City, DB-IP Country Lite: each keeps
//! `country.iso_code`), loaded whole into memory once at start and shared read-only by
//! every visitor: a lookup is a walk down the file's search tree, no I/O, no lock.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{PathElement, Reader};

/// An open GeoIP database.
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
}

/// Why a GeoIP database could not be opened; names the file.
#[derive(Debug, thiserror::Error)]
#[error("GeoIP database {}: {reason}", path.display())]
pub struct GeoIpError {
    pub path: PathBuf,
    pub reason: String,
}

impl GeoIp {
    /// Reads and checks the file: missing, unreadable or not an MMDB file is an error
    /// that names it (a server must not start half-configured).
    pub fn open(path: &Path) -> Result<Self, GeoIpError> {
        let error = |reason: String| GeoIpError { path: path.to_owned(), reason };
        let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
        Self::from_bytes(bytes).map_err(error)
    }

    /// A database already in memory (what [`GeoIp::open`] reads).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        let reader = Reader::from_source(bytes).map_err(|e| format!("not a MaxMind DB (.mmdb) file: {e}"))?;
        Ok(Self { reader })
    }

    /// The ISO 3166-1 alpha-2 code of the address's country, upper case; `None` when the
    /// database has no (well-formed) country for it.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        // An IPv4 client reached over IPv6 (`::ffff:a.b.c.d`) is looked up as IPv4.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let found = self.reader.lookup(ip).ok()?;
        let code: String = found.decode_path(&[PathElement::Key("country"), PathElement::Key("iso_code")]).ok()??;
        (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic())).then(|| code.to_ascii_uppercase())
    }
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.reader.metadata();
        f.debug_struct("GeoIp").field("database_type", &m.database_type).field("build_epoch", &m.build_epoch).finish()
    }
}
