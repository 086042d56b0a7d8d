//! Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph, Garage, R2…) through the
//! `object_store` crate, so every node of a cluster reads what any node wrote. One object
//! per blob, under its key; the bucket must exist.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, PutPayload, RetryConfig};

use super::{BlobStore, check_key};
use crate::{Result, StoreError};

/// Where the bucket is and how to sign in. Unset credentials and region come from the
/// environment as AWS tools read them (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, or the instance's role).
/// `Debug` is written by hand: it never shows the secret.
#[derive(Clone, Default)]
pub struct S3Settings {
    pub bucket: String,
    /// Unset: AWS S3 itself. For other servers, `https://s3.example.com` (an `http://`
    /// endpoint is allowed, for a server on a private network).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Blobs as objects of one bucket. `Debug` names the bucket only: the client holds the
/// credentials.
pub struct S3BlobStore {
    s3: AmazonS3,
    bucket: String,
}

impl std::fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore").field("bucket", &self.bucket).finish_non_exhaustive()
    }
}

impl S3BlobStore {
    /// A client for the bucket; nothing is sent until the first blob is read or written.
    pub fn new(settings: &S3Settings) -> Result<Self> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&settings.bucket)
            // An upload waits for its blob: a stuck server must fail it in seconds, not
            // in the crate's default three minutes of retries.
            .with_retry(RetryConfig { max_retries: 3, retry_timeout: Duration::from_secs(30), ..RetryConfig::default() })
            .with_client_options(ClientOptions::new().with_timeout(Duration::from_secs(30)).with_connect_timeout(Duration::from_secs(5)));
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &settings.region {
            builder = builder.with_region(region);
        }
        if let Some(key) = &settings.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let s3 = builder.build().map_err(|e| StoreError::Internal(format!("S3 bucket {:?}: {e}", settings.bucket).into()))?;
        Ok(Self { s3, bucket: settings.bucket.clone() })
    }

    fn path(key: &str) -> Result<Path> {
        check_key(key)?;
        Path::parse(key).map_err(|e| StoreError::Internal(format!("invalid blob key {key:?}: {e}").into()))
    }

    /// A missing object is `NotFound`; anything else, a missing bucket included (S3
    /// answers it with a 404 too), is the storage failing: `Unavailable`, naming the bucket.
    fn failed(&self, what: &str, e: object_store::Error) -> StoreError {
        match e {
            object_store::Error::NotFound { .. } if !format!("{e:?}").contains("NoSuchBucket") => {
                StoreError::NotFound(switchboard_domain::Entity::Attachment)
            }
            e => StoreError::Unavailable(format!("S3 {what} in bucket {:?}: {e}", self.bucket)),
        }
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        // One PUT: an object appears whole or not at all, so no temporary name is needed.
        self.s3.put(&Self::path(key)?, PutPayload::from(bytes)).await.map_err(|e| self.failed("upload", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        let got = self.s3.get(&Self::path(key)?).await.map_err(|e| self.failed("download", e))?;
        got.bytes().await.map_err(|e| self.failed("download", e))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match self.s3.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed("deletion", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use switchboard_services::EphemeralS3;

    use super::*;
    use crate::blob::check_blob_store;

    fn settings(s3: &EphemeralS3, bucket: &str) -> S3Settings {
        S3Settings { endpoint: Some(s3.endpoint().into()), ..settings_for(bucket) }
    }

    fn settings_for(bucket: &str) -> S3Settings {
        S3Settings {
            bucket: bucket.into(),
            endpoint: None,
            region: Some("us-east-1".into()),
            access_key_id: Some("switchboard".into()),
            secret_access_key: Some("hunter2-secret".into()),
        }
    }

    #[tokio::test]
    async fn blobs_round_trip_through_a_real_s3_server() {
        let s3 = EphemeralS3::start().await.expect("an S3 server");
        s3.create_bucket("uploads").await.unwrap();
        let store = S3BlobStore::new(&settings(&s3, "uploads")).unwrap();
        check_blob_store(&store).await;

        // Another node's client, built from the same settings, reads what this one wrote.
        store.put("ab/shared-1", Bytes::from_static(b"from node A")).await.unwrap();
        let other = S3BlobStore::new(&settings(&s3, "uploads")).unwrap();
        assert_eq!(other.get("ab/shared-1").await.unwrap(), Bytes::from_static(b"from node A"));
    }

    #[tokio::test]
    async fn a_missing_bucket_or_server_is_an_error_that_says_so_not_a_missing_file() {
        let s3 = EphemeralS3::start().await.expect("an S3 server");
        let store = S3BlobStore::new(&settings(&s3, "nobody-made-this")).unwrap();
        let err = store.put("ab/cd", Bytes::from_static(b"x")).await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(err.to_string().contains("nobody-made-this"), "{err}");
        let err = store.get("ab/cd").await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "a missing bucket is not a missing file: {err:?}");

        let port = s3.endpoint().rsplit(':').next().unwrap().to_owned();
        drop(s3);
        let gone = S3BlobStore::new(&S3Settings { endpoint: Some(format!("http://127.0.0.1:{port}")), ..settings_for("uploads") }).unwrap();
        let err = gone.get("ab/cd").await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "a server that is gone: {err:?}");
    }

    #[test]
    fn the_secret_never_reaches_a_debug_print() {
        let settings = S3Settings { bucket: "b".into(), secret_access_key: Some("hunter2-secret".into()), ..S3Settings::default() };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("***"), "{printed}");
        let store = S3BlobStore::new(&S3Settings { access_key_id: Some("AKIA".into()), ..settings }).unwrap();
        let printed = format!("{store:?}");
        assert!(!printed.contains("hunter2") && printed.contains("\"b\""), "{printed}");
    }
}
