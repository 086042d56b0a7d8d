//! Where attachment bytes live: files under a directory ([`FsBlobStore`]: the data
//! directory's, or one every node of a cluster mounts), or S3-compatible object storage
//! ([`S3BlobStore`], in `blob/s3.rs`) that every node reaches. Both take the same keys
//! and pass the same [`check_blob_store`] story.

mod s3;

use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;

use crate::{Result, StoreError};

pub use s3::{S3BlobStore, S3Settings};

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<()>;
    async fn get(&self, key: &str) -> Result<Bytes>;
    /// Removes the blob; one already gone is not an error (a deletion may be retried).
    async fn delete(&self, key: &str) -> Result<()>;
}

/// Blobs as files under a directory, written to a temporary name, synced, then
/// renamed, so a crash never leaves a half-written attachment under its real key.
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    /// The directory the blobs are in.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

/// Keys are ASCII letters, digits, `-` and `/`-separated segments, so no key can climb
/// out of a directory or mean something else to an object store.
fn check_key(key: &str) -> Result<()> {
    let safe = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/');
    if !safe || key.contains("//") || key.starts_with('/') || key.ends_with('/') {
        return Err(StoreError::Internal(format!("invalid blob key {key:?}").into()));
    }
    Ok(())
}

/// What every blob store must do, run against each implementation by its tests: bytes
/// come back as they went in, a missing key is `NotFound`, a deletion may be repeated,
/// and keys that could escape are refused.
#[cfg(any(test, feature = "testing"))]
pub async fn check_blob_store(store: &dyn BlobStore) {
    let key = format!("check/{}", uuid::Uuid::new_v4().simple());
    store.put(&key, Bytes::from_static(b"hello")).await.expect("put");
    assert_eq!(store.get(&key).await.expect("get"), Bytes::from_static(b"hello"));
    store.put(&key, Bytes::from(vec![7u8; 300_000])).await.expect("a second put replaces the first");
    assert_eq!(store.get(&key).await.expect("get").len(), 300_000);
    assert!(matches!(store.get(&format!("{key}-missing")).await, Err(StoreError::NotFound(_))), "a missing blob is NotFound");
    for bad in ["../etc/passwd", "/abs", "a//b", "a/", "", "sp ace"] {
        assert!(store.get(bad).await.is_err(), "{bad:?} is refused");
        assert!(store.put(bad, Bytes::new()).await.is_err(), "{bad:?} is refused");
    }
    store.delete(&key).await.expect("delete");
    assert!(matches!(store.get(&key).await, Err(StoreError::NotFound(_))), "gone once deleted");
    store.delete(&key).await.expect("deleting again is not an error: a deletion may be retried");
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(StoreError::internal)?;
        }
        let tmp = path.with_extension("partial");
        let mut file = tokio::fs::File::create(&tmp).await.map_err(StoreError::internal)?;
        file.write_all(&bytes).await.map_err(StoreError::internal)?;
        file.sync_all().await.map_err(StoreError::internal)?;
        tokio::fs::rename(&tmp, &path).await.map_err(StoreError::internal)
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(b) => Ok(Bytes::from(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound(switchboard_domain::Entity::Attachment)),
            Err(e) => Err(StoreError::internal(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::internal(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_round_trip_and_keys_cannot_escape_the_root() {
        let dir = tempfile_dir();
        let store = FsBlobStore::new(&dir);
        store.put("ab/cd-1", Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(store.get("ab/cd-1").await.unwrap(), Bytes::from_static(b"hello"));
        assert!(store.get("../etc/passwd").await.is_err());
        assert!(matches!(store.get("ab/missing").await, Err(StoreError::NotFound(_))));
        store.delete("ab/cd-1").await.unwrap();
        assert!(!dir.join("ab/cd-1").exists(), "deleted from the disk");
        store.delete("ab/cd-1").await.expect("deleting again is not an error: a deletion may be retried");
        assert!(store.delete("../etc/passwd").await.is_err());
        check_blob_store(&store).await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sb-blob-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
