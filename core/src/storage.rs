//! Object storage for avatars, behind one interface with two backends: a local directory (the
//! default; this server serves it under `/storage/`) and any S3-compatible service. Both are
//! `object_store` stores: the code that writes avatars does not know which one it has.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};

/// The URL path under which a local store is served.
pub const LOCAL_ROUTE: &str = "/storage";

/// Where objects go, from the environment (see docs/configuration.md).
#[derive(Debug, Clone)]
pub enum StorageSettings {
    Local { dir: PathBuf, public_url: Option<String> },
    S3(S3Settings),
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Where clients fetch objects; by default `<endpoint>/<bucket>` (path style).
    pub public_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("object storage: {0}")]
pub struct StorageError(#[from] object_store::Error);

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// Prefix of every public URL, without a trailing slash.
    public_url: String,
    /// S3 keeps the content type per object; a local directory cannot (it is served as JPEG).
    typed: bool,
}

impl Storage {
    /// `served_at` is this server's own base URL, for a local store without a public URL.
    pub fn open(settings: &StorageSettings, served_at: &str) -> anyhow::Result<Self> {
        match settings {
            StorageSettings::Local { dir, public_url } => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create the storage directory {}: {e}", dir.display()))?;
                let store = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
                let public_url = public_url.clone().unwrap_or_else(|| format!("{served_at}{LOCAL_ROUTE}"));
                Ok(Self { store: Arc::new(store), public_url: trim(public_url), typed: false })
            }
            StorageSettings::S3(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_region(&s3.region)
                    .with_bucket_name(&s3.bucket)
                    .with_virtual_hosted_style_request(false);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                if let (Some(key), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder.with_access_key_id(key).with_secret_access_key(secret);
                }
                let public_url = match (&s3.public_url, &s3.endpoint) {
                    (Some(url), _) => url.clone(),
                    (None, Some(endpoint)) => format!("{}/{}", trim(endpoint.clone()), s3.bucket),
                    (None, None) => format!("https://{}.s3.{}.amazonaws.com", s3.bucket, s3.region),
                };
                Ok(Self { store: Arc::new(builder.build()?), public_url: trim(public_url), typed: true })
            }
        }
    }

    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_url)
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &'static str) -> Result<(), StorageError> {
        let mut options = PutOptions::default();
        if self.typed {
            let mut attributes = Attributes::new();
            attributes.insert(Attribute::ContentType, content_type.into());
            attributes.insert(Attribute::CacheControl, "public, max-age=31536000, immutable".into());
            options.attributes = attributes;
        }
        self.store.put_opts(&Path::from(key), PutPayload::from(bytes), options).await?;
        Ok(())
    }

    /// `None` when there is no such object.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let path = Path::parse(key).map_err(|e| StorageError(e.into()))?;
        match self.store.get(&path).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deleting what is not there succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn trim(mut url: String) -> String {
    while url.ends_with('/') {
        url.pop();
    }
    url
}
