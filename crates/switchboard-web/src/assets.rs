//! The built front-end files in memory: each file with its precompressed variants, its
//! content type, its ETag, and whether its name is hashed.
//!
//! `web/dist` is laid out by `web/vite.config.ts` and `web/scripts/precompress.mjs`: hashed
//! files under `assets/`, entry points (stable URLs) everywhere else. A file that compresses
//! is there only as `FILE.br` and `FILE.gz`: carrying it a third time, as itself, for the rare
//! client that accepts neither would nearly double the binary, so that client gets the gzip
//! copy decoded ([`Asset::identity`]). A file that does not compress (a font, an image) is
//! there as itself only.

use std::collections::HashMap;
use std::io::Read;

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// `web/dist`, embedded in release builds; debug builds read the folder from disk when
/// `iter` and `get` are called, so `cargo build` needs no npm.
#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Dist;

/// One built file, ready to be sent.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The file as built, when the build kept it: only files that do not compress.
    pub body: Option<Bytes>,
    /// `FILE.gz`, kept only when it is smaller than the file. Present whenever `body` is not.
    pub gzip: Option<Bytes>,
    /// `FILE.br`, kept only when it is smaller than the file.
    pub brotli: Option<Bytes>,
    pub content_type: &'static str,
    /// A quoted strong validator of the content, such as `"3f9a…"`: a hash of the file,
    /// or of its gzip copy when that is all there is (it changes with the content too).
    pub etag: String,
    /// Under `assets/`, where every name carries a hash of the content (Vite's
    /// `[name]-[hash]`): such a file never changes, so it may be cached forever.
    pub hashed: bool,
}

/// Every built file, by its path under `web/dist` (`api-docs/index.html`).
#[derive(Debug, Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

impl Assets {
    /// The files this binary carries (release) or finds in `web/dist` (debug builds).
    ///
    /// The ETags come from the hashes rust-embed computed when it embedded the files: hashing
    /// them here would read every byte at start, and an embedded file that is read stays in
    /// the process's memory (about 6 MB of RSS for the API reference alone).
    pub fn embedded() -> Self {
        Self::build(Dist::iter().filter_map(|path| {
            let file = Dist::get(&path)?;
            let bytes = match file.data {
                std::borrow::Cow::Borrowed(bytes) => Bytes::from_static(bytes),
                std::borrow::Cow::Owned(bytes) => Bytes::from(bytes),
            };
            Some((path.into_owned(), bytes, Some(file.metadata.sha256_hash())))
        }))
    }

    /// Groups `FILE.gz` and `FILE.br` with `FILE`. A file may be there only as its
    /// compressed copies; one that has neither itself nor a gzip copy (a lone `FILE.br`)
    /// cannot be sent to every client and is left out.
    pub fn from_files(files: impl IntoIterator<Item = (String, Bytes)>) -> Self {
        Self::build(files.into_iter().map(|(path, bytes)| (path, bytes, None)))
    }

    /// As [`Assets::from_files`], with each file's SHA-256 when it is already known.
    fn build(files: impl IntoIterator<Item = (String, Bytes, Option<[u8; 32]>)>) -> Self {
        let mut plain = HashMap::new();
        let mut gzip = HashMap::new();
        let mut brotli = HashMap::new();
        for (path, bytes, hash) in files {
            let path = path.replace('\\', "/");
            if let Some(original) = path.strip_suffix(".gz") {
                gzip.insert(original.to_owned(), (bytes, hash));
            } else if let Some(original) = path.strip_suffix(".br") {
                brotli.insert(original.to_owned(), bytes);
            } else {
                plain.insert(path, (bytes, hash));
            }
        }
        // Every file the build wrote: itself, or only its gzip copy.
        let mut names: Vec<String> = plain.keys().chain(gzip.keys()).cloned().collect();
        names.sort();
        names.dedup();
        let mut files = HashMap::new();
        for path in names {
            let body = plain.remove(&path);
            let gz = gzip.remove(&path);
            // What the ETag names: the file, or its gzip copy when the file is not here.
            let Some((named, hash)) = body.as_ref().or(gz.as_ref()).cloned() else { continue };
            let hash = hash.unwrap_or_else(|| Sha256::digest(&named).into());
            // With the file at hand, a copy that is not smaller is never worth sending.
            let smaller = |variant: Option<Bytes>| match &body {
                Some((b, _)) => variant.filter(|v| v.len() < b.len()),
                None => variant,
            };
            let asset = Asset {
                gzip: smaller(gz.map(|(bytes, _)| bytes)),
                brotli: smaller(brotli.remove(&path)),
                content_type: content_type(&path),
                etag: format!("\"{}\"", &hex::encode(hash)[..32]),
                hashed: path.starts_with("assets/"),
                body: body.map(|(bytes, _)| bytes),
            };
            files.insert(path, asset);
        }
        Self { files }
    }

    /// True when there is nothing to serve: the binary was built before `cargo xtask web`.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.files.get(path)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The bytes this process carries for its files, compressed copies included.
    pub fn embedded_bytes(&self) -> usize {
        let len = |b: &Option<Bytes>| b.as_ref().map_or(0, Bytes::len);
        self.files.values().map(|a| len(&a.body) + len(&a.gzip) + len(&a.brotli)).sum()
    }
}

impl Asset {
    /// The file as built, for a client that accepts no compression: the file itself, or
    /// its gzip copy decoded. Fails only if the embedded gzip copy is corrupt.
    pub fn identity(&self) -> std::io::Result<Bytes> {
        if let Some(body) = &self.body {
            return Ok(body.clone());
        }
        let gz = self.gzip.as_ref().expect("an asset without its file has its gzip copy (Assets::build)");
        let mut decoded = Vec::with_capacity(gz.len() * 4);
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut decoded)?;
        Ok(Bytes::from(decoded))
    }
}

/// The `Content-Type` for a file name; text types say they are UTF-8.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("avif") => "image/avif",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("otf") => "font/otf",
        Some("wasm") => "application/wasm",
        Some("mp3") => "audio/mpeg",
        Some("ogg") => "audio/ogg",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, body: &[u8]) -> (String, Bytes) {
        (path.to_owned(), Bytes::copy_from_slice(body))
    }

    #[test]
    fn a_build_pairs_each_file_with_its_compressed_copies() {
        let big = vec![b'a'; 1000];
        let assets = Assets::from_files([
            file("assets/app-3f9a.js", &big),
            file("assets/app-3f9a.js.gz", b"gz"),
            file("assets/app-3f9a.js.br", b"br"),
            file("api-docs/index.html", b"<p>hi</p>"),
            file("api-docs/index.html.gz", b"a gzip bigger than the page itself"),
            file("orphan.js.br", b"br"),
            file("assets/lib-77aa.js.gz", b"gzip of lib"),
            file("assets/lib-77aa.js.br", b"br of lib"),
        ]);
        assert_eq!(assets.len(), 3, "the variants are not files of their own");
        let app = assets.get("assets/app-3f9a.js").unwrap();
        assert_eq!(app.gzip.as_deref(), Some(&b"gz"[..]));
        assert_eq!(app.brotli.as_deref(), Some(&b"br"[..]));
        assert!(app.hashed);
        assert_eq!(app.content_type, "text/javascript; charset=utf-8");

        let page = assets.get("api-docs/index.html").unwrap();
        assert!(page.gzip.is_none(), "a compressed copy larger than the file is never sent");
        assert!(!page.hashed, "pages keep their name from build to build");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert!(assets.get("orphan.js").is_none(), "a lone brotli copy could not be sent to every client");

        let lib = assets.get("assets/lib-77aa.js").unwrap();
        assert!(lib.body.is_none(), "the build kept only the compressed copies of a file that compresses");
        assert_eq!((lib.gzip.as_deref(), lib.brotli.as_deref()), (Some(&b"gzip of lib"[..]), Some(&b"br of lib"[..])));
        assert_eq!(assets.embedded_bytes(), 1000 + 2 + 2 + 9 + 11 + 9);
    }

    #[test]
    fn the_etag_changes_with_the_content_only() {
        let one = Assets::from_files([file("a.js", b"one"), file("b.js", b"one")]);
        let two = Assets::from_files([file("a.js", b"two")]);
        let etag = |assets: &Assets, path: &str| assets.get(path).unwrap().etag.clone();
        assert_eq!(etag(&one, "a.js"), etag(&one, "b.js"));
        assert_ne!(etag(&one, "a.js"), etag(&two, "a.js"));
        assert!(etag(&one, "a.js").starts_with('"') && etag(&one, "a.js").ends_with('"'));
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("assets/x.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("assets/font-1a.woff2"), "font/woff2");
        assert_eq!(content_type("widget.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
