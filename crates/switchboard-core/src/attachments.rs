//! Uploads: size-capped, type-sniffed from their bytes (never trusting the name or
//! the declared type), images measured, bytes kept in the blob store.

use bytes::Bytes;
use switchboard_domain::*;

use crate::{Core, Error, Result};

pub struct Upload {
    pub filename: String,
    pub bytes: Bytes,
}

/// Types we accept, by their sniffed MIME type. Plain UTF-8 text is accepted too.
const ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "audio/mpeg",
    "audio/ogg",
    "video/mp4",
    "video/webm",
];

fn clean_filename(raw: &str) -> Result<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if name.is_empty() || name == "." || name == ".." {
        return Err(ValidationError::new("filename", "must name a file").into());
    }
    Ok(name)
}

/// The MIME type of `bytes` judged by their content.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    match infer::get(bytes) {
        Some(t) => ALLOWED.iter().find(|a| **a == t.mime_type()).copied(),
        None if std::str::from_utf8(bytes).is_ok() => Some("text/plain; charset=utf-8"),
        None => None,
    }
}

impl Core {
    #[tracing::instrument(skip_all, fields(workspace.id = %ws), err(level = "info"))]
    pub async fn upload(&self, ws: WorkspaceId, uploader: Actor, upload: Upload) -> Result<Attachment> {
        let limit = self.limits.max_upload_bytes;
        if upload.bytes.len() as u64 > limit {
            return Err(Error::TooLarge { limit });
        }
        if upload.bytes.is_empty() {
            return Err(ValidationError::new("file", "is empty").into());
        }
        let filename = clean_filename(&upload.filename)?;
        let content_type = sniff(&upload.bytes).ok_or_else(|| {
            let found = infer::get(&upload.bytes).map(|t| t.mime_type()).unwrap_or("application/octet-stream");
            Error::UnsupportedMediaType(found.to_owned())
        })?;
        let (width, height) = match content_type.starts_with("image/") {
            true => imagesize::blob_size(&upload.bytes).map(|s| (Some(s.width as u32), Some(s.height as u32))).unwrap_or((None, None)),
            false => (None, None),
        };
        let id = AttachmentId::new();
        let attachment = Attachment {
            id,
            workspace_id: ws,
            uploader,
            filename,
            content_type: content_type.to_owned(),
            size: upload.bytes.len() as u64,
            width,
            height,
            blob_key: format!("{ws}/{id}"),
            created_at: self.now(),
        };
        // Bytes first: a row never points at a missing blob.
        self.blobs.put(&attachment.blob_key, upload.bytes).await?;
        self.store.create_attachment(&attachment).await?;
        Ok(attachment)
    }

    /// A visitor's upload: counted against the visitor's bucket and their site's before
    /// anything is written.
    #[tracing::instrument(skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id), err(level = "info"))]
    pub async fn visitor_upload(&self, v: &crate::Visitor, upload: Upload) -> Result<Attachment> {
        self.limit(crate::LimitKind::UploadPerVisitor, crate::LimitKey::Contact(v.contact.id)).await?;
        self.limit(crate::LimitKind::UploadPerSite, crate::LimitKey::Site(v.site.id)).await?;
        self.upload(v.workspace_id(), v.actor(), upload).await
    }

    /// An attachment and its bytes, if `reader` may see it: agents see their
    /// workspace's files; a visitor sees their own uploads and the team's.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %ws, attachment.id = %id), err(level = "debug"))]
    pub async fn download(&self, ws: WorkspaceId, reader: Actor, id: AttachmentId) -> Result<(Attachment, Bytes)> {
        let a = self.store.attachment(ws, id).await?;
        if let Actor::Contact(_) = reader
            && a.uploader != reader
            && !a.uploader.is_team_side()
        {
            return Err(Error::NotFound(Entity::Attachment));
        }
        let bytes = self.blobs.get(&a.blob_key).await?;
        Ok((a, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_content_not_names() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x08\x08\x02\0\0\0";
        assert_eq!(sniff(png), Some("image/png"));
        assert_eq!(sniff("سلام".as_bytes()), Some("text/plain; charset=utf-8"));
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0"), None, "executables are refused");
    }

    #[test]
    fn filenames_lose_their_paths() {
        assert_eq!(clean_filename("C:\\Users\\a\\report.pdf").unwrap(), "report.pdf");
        assert_eq!(clean_filename("../../etc/passwd").unwrap(), "passwd");
        assert!(clean_filename("dir/").is_err());
    }
}
