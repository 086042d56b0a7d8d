//! A tiny GeoIP database for tests (`geoip.database`): writes a MaxMind DB (`.mmdb`)
//! file that maps a few networks to a country, in the shape GeoIP2 Country databases
//! have (`{"country": {"iso_code": "TR"}}`). No crate on crates.io writes MMDB, so this
//! is the format, minimally (https://maxmind.github.io/MaxMind-DB/):
//!
//! - a binary search tree over the address's bits (an IPv6 tree, IPv4 networks under
//!   `::/96` as MaxMind's own files have them), each node two 24-bit records: a node
//!   number, `node_count` for "no data", or `node_count + 16 + offset` into the data;
//! - 16 zero bytes, then the data section (one record per country);
//! - `\xAB\xCD\xEFMaxMind.com` and the metadata map (node count, record size, IP version,
//!   format version 2.0, …).
//!
//! Overlapping networks are not supported (a test names disjoint ones).

use std::collections::HashMap;
use std::net::IpAddr;

/// One record of a node: where a bit leads.
#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// An `.mmdb` file mapping each network (`"203.0.113.0/24"`, `"2001:db8::/32"`, or an
/// address alone) to its country's ISO code. Panics on a malformed network: the
/// fixture is the test's own.
pub fn country_database(networks: &[(&str, &str)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets: HashMap<&str, usize> = HashMap::new();
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty; 2]];
    for (network, iso) in networks {
        let offset = *offsets.entry(iso).or_insert_with(|| {
            let at = data.len();
            map_header(&mut data, 1);
            string(&mut data, "country");
            map_header(&mut data, 1);
            string(&mut data, "iso_code");
            string(&mut data, iso);
            at
        });
        let (bits, prefix) = network_bits(network);
        let mut node = 0;
        for i in 0..prefix {
            let bit = ((bits >> (127 - i)) & 1) as usize;
            if i + 1 == prefix {
                nodes[node][bit] = Rec::Data(offset);
                break;
            }
            node = match nodes[node][bit] {
                Rec::Node(next) => next,
                Rec::Empty => {
                    nodes.push([Rec::Empty; 2]);
                    let next = nodes.len() - 1;
                    nodes[node][bit] = Rec::Node(next);
                    next
                }
                Rec::Data(_) => panic!("{network} overlaps another network of the fixture"),
            };
        }
    }

    let count = nodes.len();
    let value = |r: Rec| match r {
        Rec::Empty => count,
        Rec::Node(n) => n,
        Rec::Data(offset) => count + 16 + offset,
    };
    let mut file = Vec::new();
    for [left, right] in &nodes {
        for r in [left, right] {
            let v = value(*r) as u32;
            assert!(v < 1 << 24, "the fixture outgrew 24-bit records");
            file.extend_from_slice(&v.to_be_bytes()[1..]);
        }
    }
    file.extend_from_slice(&[0; 16]);
    file.extend_from_slice(&data);
    file.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let meta = &mut file;
    map_header(meta, 9);
    string(meta, "binary_format_major_version");
    uint(meta, 5, 2);
    string(meta, "binary_format_minor_version");
    uint(meta, 5, 0);
    string(meta, "build_epoch");
    uint(meta, 9, 1_700_000_000);
    string(meta, "database_type");
    string(meta, "Switchboard-Test-Country");
    string(meta, "description");
    map_header(meta, 1);
    string(meta, "en");
    string(meta, "Switchboard's GeoIP test fixture");
    string(meta, "ip_version");
    uint(meta, 5, 6);
    string(meta, "languages");
    control(meta, 11, 1);
    string(meta, "en");
    string(meta, "node_count");
    uint(meta, 6, count as u64);
    string(meta, "record_size");
    uint(meta, 5, 24);
    file
}

/// The network's 128 bits (IPv4 under `::/96`) and its prefix length in that tree.
fn network_bits(network: &str) -> (u128, usize) {
    let (addr, len) = network.split_once('/').map_or((network, None), |(a, l)| (a, Some(l)));
    let addr: IpAddr = addr.parse().unwrap_or_else(|_| panic!("{network}: not an address"));
    let len: Option<usize> = len.map(|l| l.parse().unwrap_or_else(|_| panic!("{network}: not a prefix length")));
    match addr {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 96 + len.unwrap_or(32)),
        IpAddr::V6(v6) => (u128::from(v6), len.unwrap_or(128)),
    }
}

/// A field's control byte(s): its type (extended types, 8 and up, take a second byte)
/// and size (29 and up take one to three more bytes).
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (bits, extra): (u8, Vec<u8>) = match size {
        0..29 => (size as u8, vec![]),
        29..285 => (29, vec![(size - 29) as u8]),
        285..65_821 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if kind <= 7 {
        out.push((kind << 5) | bits);
    } else {
        out.push(bits);
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}

fn map_header(out: &mut Vec<u8>, pairs: usize) {
    control(out, 7, pairs);
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// An unsigned integer of type `kind` (5: uint16, 6: uint32, 9: uint64), in as few
/// big-endian bytes as it needs.
fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::GeoIp;

    #[test]
    fn the_fixture_is_a_database_the_reader_understands() {
        let db = country_database(&[("203.0.113.0/24", "TR"), ("198.51.100.7", "DE"), ("2001:db8::/32", "IR")]);
        let geo = GeoIp::from_bytes(db).expect("a well-formed .mmdb");
        let country = |ip: &str| geo.country(ip.parse().unwrap());
        assert_eq!(country("203.0.113.9").as_deref(), Some("TR"));
        assert_eq!(country("::ffff:203.0.113.200").as_deref(), Some("TR"), "an IPv4 address reached over IPv6");
        assert_eq!(country("198.51.100.7").as_deref(), Some("DE"));
        assert_eq!(country("198.51.100.8"), None, "only the one address");
        assert_eq!(country("2001:db8:1::5").as_deref(), Some("IR"));
        assert_eq!(country("192.0.2.1"), None, "not in the database");
    }

    #[test]
    fn a_missing_or_malformed_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("GeoLite2-Country.mmdb");
        let err = GeoIp::open(&missing).unwrap_err().to_string();
        assert!(err.contains("GeoLite2-Country.mmdb"), "{err}");
        let garbage = dir.path().join("country.mmdb");
        std::fs::write(&garbage, b"this is not a database").unwrap();
        let err = GeoIp::open(&garbage).unwrap_err().to_string();
        assert!(err.contains("country.mmdb") && err.contains("not a MaxMind DB"), "{err}");
    }
}
