//! Blobs: existence checks, cross-repository mounts, uploads (chunked, falling back to one
//! monolithic PUT for registries that refuse chunks) and downloads (resumed with `Range`,
//! never more than the descriptor's size, digest checked by the store on commit).

use super::body::{Pace, check_encoding, read_capped};
use super::{Op, ProgressFn, RegistryClient, RegistryError, scope};
use crate::package::{Blob, BlobData, Descriptor};
use crate::reference::Reference;
use crate::store::BlobWriter;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use spin_app::Digest;
use std::io::Read;

/// Upload chunk size: few requests per blob, small enough to show progress.
const CHUNK: usize = 8 << 20;

/// How an upload went wrong.
enum Upload {
    /// The registry does not take chunks: start again, monolithic.
    RefusesChunks,
    /// Anything else.
    Failed(RegistryError),
}

impl From<RegistryError> for Upload {
    fn from(e: RegistryError) -> Self {
        Self::Failed(e)
    }
}

/// A blob's bytes in chunks of at most [`CHUNK`].
struct Chunks {
    source: Box<dyn Read + Send>,
}

impl Chunks {
    fn open(data: &BlobData) -> std::io::Result<Self> {
        let source: Box<dyn Read + Send> = match data {
            BlobData::Bytes(b) => Box::new(std::io::Cursor::new(b.clone())),
            BlobData::File(p) => Box::new(std::fs::File::open(p)?),
        };
        Ok(Self { source })
    }

    fn next(&mut self) -> std::io::Result<Option<bytes::Bytes>> {
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match self.source.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        buf.truncate(filled);
        Ok((filled > 0).then(|| bytes::Bytes::from(buf)))
    }
}

impl RegistryClient {
    /// Does the repository already have this blob?
    pub async fn blob_exists(&self, r: &Reference, digest: &Digest) -> Result<bool, RegistryError> {
        let op = Op::new(
            format!("check blob {digest} in {}", r.repository_url()),
            r.registry(),
            true,
        );
        let url = self.url(r, "blobs", &digest.to_string());
        let head = || self.http.head(&url);
        self.retrying(&op, || async {
            let response = self.send(&op, &scope(r, true), &head).await?;
            match response.status() {
                s if s.is_success() => Ok(true),
                StatusCode::NOT_FOUND => Ok(false),
                _ => Err(op.status(response).await),
            }
        })
        .await
    }

    /// Try to mount a blob from another repository of the same registry; whether it worked.
    pub async fn mount(&self, r: &Reference, from_repository: &str, digest: &Digest) -> bool {
        let op = Op::new(
            format!(
                "mount {digest} from {from_repository} into {}",
                r.repository_url()
            ),
            r.registry(),
            true,
        );
        let url = format!(
            "{}/v2/{}/blobs/uploads/?mount={digest}&from={from_repository}",
            self.base(r.registry()),
            r.repository()
        );
        let scopes = format!("{} repository:{from_repository}:pull", scope(r, true));
        let post = || self.http.post(&url).header(CONTENT_LENGTH, 0);
        matches!(
            self.send(&op, &scopes, &post).await.map(|r| r.status()),
            Ok(StatusCode::CREATED)
        )
    }

    /// The absolute URL an upload continues at.
    fn location(
        &self,
        op: &Op,
        r: &Reference,
        response: &reqwest::Response,
    ) -> Result<reqwest::Url, RegistryError> {
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                op.protocol("started an upload without saying where to send it (no Location)")
            })?;
        let base = reqwest::Url::parse(&format!("{}/v2/", self.base(r.registry())))
            .map_err(|e| op.protocol(e.to_string()))?;
        base.join(location)
            .map_err(|e| op.protocol(format!("gave an upload Location that is not a URL ({e})")))
    }

    async fn start_upload(&self, op: &Op, r: &Reference) -> Result<reqwest::Url, RegistryError> {
        let url = format!(
            "{}/v2/{}/blobs/uploads/",
            self.base(r.registry()),
            r.repository()
        );
        let post = || self.http.post(&url).header(CONTENT_LENGTH, 0);
        let response = self.send(op, &scope(r, true), &post).await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(op.status(response).await);
        }
        self.location(op, r, &response)
    }

    /// Upload a blob (chunked, falling back to monolithic), reporting bytes sent.
    pub async fn push_blob(
        &self,
        r: &Reference,
        blob: &Blob,
        progress: ProgressFn,
    ) -> Result<(), RegistryError> {
        let d = &blob.descriptor;
        let op = Op::new(
            format!("upload {} to {}", d.digest, r.repository_url()),
            r.registry(),
            true,
        );
        self.retrying(&op, || async {
            match self.upload_chunked(&op, r, blob, &progress).await {
                Ok(()) => Ok(()),
                Err(Upload::Failed(e)) => Err(e),
                Err(Upload::RefusesChunks) => self.upload_monolithic(&op, r, blob, &progress).await,
            }
        })
        .await
    }

    async fn upload_chunked(
        &self,
        op: &Op,
        r: &Reference,
        blob: &Blob,
        progress: &ProgressFn,
    ) -> Result<(), Upload> {
        let mut location = self.start_upload(op, r).await?;
        let mut chunks = Chunks::open(&blob.data).map_err(|e| op.local(e))?;
        let mut sent = 0u64;
        loop {
            let chunk = chunks.next().map_err(|e| op.local(e))?;
            let Some(chunk) = chunk else { break };
            let end = sent + chunk.len() as u64 - 1;
            let url = location.clone();
            let patch = || {
                self.http
                    .patch(url.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .header(CONTENT_RANGE, format!("{sent}-{end}"))
                    .body(chunk.clone())
            };
            let response = self.send(op, &scope(r, true), &patch).await?;
            match response.status() {
                StatusCode::ACCEPTED | StatusCode::NO_CONTENT | StatusCode::CREATED => {}
                StatusCode::RANGE_NOT_SATISFIABLE
                | StatusCode::BAD_REQUEST
                | StatusCode::METHOD_NOT_ALLOWED
                | StatusCode::NOT_IMPLEMENTED => return Err(Upload::RefusesChunks),
                _ => return Err(Upload::Failed(op.status(response).await)),
            }
            location = self.location(op, r, &response)?;
            sent = end + 1;
            progress(sent);
        }
        self.finish_upload(op, r, location, blob, None).await?;
        progress(blob.descriptor.size);
        Ok(())
    }

    async fn upload_monolithic(
        &self,
        op: &Op,
        r: &Reference,
        blob: &Blob,
        progress: &ProgressFn,
    ) -> Result<(), RegistryError> {
        let location = self.start_upload(op, r).await?;
        let bytes = match &blob.data {
            BlobData::Bytes(b) => bytes::Bytes::from(b.clone()),
            BlobData::File(p) => {
                let read = std::fs::read(p).map_err(|e| op.local(format!("{}: {e}", p.display())));
                bytes::Bytes::from(read?)
            }
        };
        self.finish_upload(op, r, location, blob, Some(bytes))
            .await?;
        progress(blob.descriptor.size);
        Ok(())
    }

    /// `PUT <location>?digest=…`, with the whole blob for a monolithic upload.
    async fn finish_upload(
        &self,
        op: &Op,
        r: &Reference,
        mut location: reqwest::Url,
        blob: &Blob,
        body: Option<bytes::Bytes>,
    ) -> Result<(), RegistryError> {
        location
            .query_pairs_mut()
            .append_pair("digest", &blob.descriptor.digest.to_string());
        let put = || {
            let request = self
                .http
                .put(location.clone())
                .header(CONTENT_TYPE, "application/octet-stream");
            match &body {
                Some(b) => request.body(b.clone()),
                None => request.header(CONTENT_LENGTH, 0),
            }
        };
        self.send_ok(op, &scope(r, true), &put).await?;
        Ok(())
    }

    /// Download a blob into `writer`, resuming from what it already holds; the caller
    /// commits (which checks the digest). Never more than the descriptor's size is written.
    pub async fn pull_blob(
        &self,
        r: &Reference,
        descriptor: &Descriptor,
        writer: &mut BlobWriter,
        progress: ProgressFn,
    ) -> Result<(), RegistryError> {
        let op = Op::new(
            format!("download {} from {}", descriptor.digest, r.repository_url()),
            r.registry(),
            false,
        );
        // Not `retrying`: every attempt needs `writer` mutably.
        let mut attempts = super::retry::Attempts::new(&self.options.retry, &self.budget);
        loop {
            match self.pull_once(&op, r, descriptor, writer, &progress).await {
                Ok(()) => return Ok(()),
                Err(e) => attempts.wait_or_fail(&op.what, e).await?,
            }
        }
    }

    async fn pull_once(
        &self,
        op: &Op,
        r: &Reference,
        descriptor: &Descriptor,
        writer: &mut BlobWriter,
        progress: &ProgressFn,
    ) -> Result<(), RegistryError> {
        let local = |e: crate::store::StoreError| op.local(e);
        if writer.offset() > descriptor.size {
            writer.restart().map_err(local)?;
        }
        let offset = writer.offset();
        progress(offset);
        if offset == descriptor.size {
            return Ok(());
        }
        let url = self.url(r, "blobs", &descriptor.digest.to_string());
        let get = || {
            let request = self.http.get(&url);
            if offset > 0 {
                request.header(RANGE, format!("bytes={offset}-"))
            } else {
                request
            }
        };
        let response = self.send(op, &scope(r, false), &get).await?;
        match response.status() {
            StatusCode::PARTIAL_CONTENT if offset > 0 => {
                let starts_at = response
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes "))
                    .and_then(|v| v.split('-').next())
                    .and_then(|v| v.parse::<u64>().ok());
                if starts_at != Some(offset) {
                    writer.restart().map_err(local)?;
                    return Err(op.protocol(format!(
                        "answered a request for bytes from {offset} with another range; starting over"
                    )));
                }
            }
            StatusCode::OK => {
                // The registry ignored the range: start over.
                writer.restart().map_err(local)?;
            }
            _ => return Err(op.status(response).await),
        }
        check_encoding(&response, op)?;
        let mut stream = response.bytes_stream();
        let mut pace = Pace::new(&self.options.timeouts);
        while let Some(chunk) = pace.next(&mut stream, op).await? {
            if writer.offset() + chunk.len() as u64 > descriptor.size {
                writer.restart().map_err(local)?;
                return Err(op.protocol(format!(
                    "sent more than the {} bytes the manifest declares; refusing it",
                    descriptor.size
                )));
            }
            writer.write(&chunk).map_err(local)?;
            progress(writer.offset());
        }
        if writer.offset() < descriptor.size {
            return Err(RegistryError::Interrupted {
                what: op.what.clone(),
                registry: op.registry.clone(),
                detail: format!(
                    "it ended after {} of {} bytes",
                    writer.offset(),
                    descriptor.size
                ),
            });
        }
        Ok(())
    }

    /// A small blob (an attached artifact) in memory, refused above `max_bytes` (declared
    /// or sent) and checked against its digest.
    pub async fn fetch_small_blob(
        &self,
        r: &Reference,
        descriptor: &Descriptor,
        max_bytes: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let op = Op::new(
            format!("download {} from {}", descriptor.digest, r.repository_url()),
            r.registry(),
            false,
        );
        if descriptor.size > max_bytes {
            return Err(RegistryError::TooLarge {
                what: op.what,
                registry: r.registry().to_string(),
                kind: "a descriptor for an attached artifact",
                limit: max_bytes,
            });
        }
        let url = self.url(r, "blobs", &descriptor.digest.to_string());
        let get = || self.http.get(&url);
        let bytes = self
            .retrying(&op, || async {
                let response = self.send_ok(&op, &scope(r, false), &get).await?;
                read_capped(
                    response,
                    descriptor.size,
                    "an attached artifact larger than its descriptor says",
                    &op,
                    &self.options.timeouts,
                )
                .await
            })
            .await?;
        if Digest::of_bytes(&bytes) != descriptor.digest {
            return Err(op.protocol("sent content that does not match the digest; refusing it"));
        }
        Ok(bytes)
    }
}
