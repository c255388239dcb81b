"""A malicious OCI registry for the security tests: each repository `evil/<case>` misbehaves
in one way, so a test can check that `spin` refuses it without using unbounded memory,
disk or time.

    evil_registry.py PORT WORKDIR COMPONENT_WASM

Cases (repository `evil/<case>`, tag `v1`):
  huge            the manifest declares 1 GiB (Content-Length) and streams zeros
  endless         the manifest is chunked and never ends
  gzip            the manifest is sent `Content-Encoding: gzip`: 1 MB that expands to 1 GiB
  drip            the manifest arrives one byte every half second
  stall           the manifest's headers arrive, then nothing
  silent          the request is read and never answered
  redirect        the manifest request is answered 307 without a Location
  bomb            a Spin app whose files archive is 2 MB of gzip expanding to a 2 GiB file
  entries         a Spin app whose files archive holds 150,000 empty files
  oversize        a Spin app whose component blob is longer than its descriptor says
  referrers       a valid Spin app whose referrers list never ends
  tag             a valid Spin app without the referrers API whose fallback tag never ends
Everything listens on 127.0.0.1 only.
"""

import hashlib
import io
import json
import os
import sys
import tarfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, workdir, component_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(workdir, exist_ok=True)
COMPONENT = open(component_path, "rb").read()


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def cached(name, make):
    """Build a large payload once per work directory."""
    path = os.path.join(workdir, name)
    if not os.path.exists(path):
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            make(f)
        os.rename(tmp, path)
    return open(path, "rb").read()


def gzip_of_zeros(out, total, tar_name=None):
    """gzip (as a stream) of `total` zero bytes, optionally as the one file of a tar."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    if tar_name is not None:
        info = tarfile.TarInfo(tar_name)
        info.size = total
        out.write(z.compress(info.tobuf(format=tarfile.GNU_FORMAT)))
    chunk = bytes(1 << 20)
    left = total
    while left > 0:
        n = min(left, len(chunk))
        out.write(z.compress(chunk[:n]))
        left -= n
    if tar_name is not None:
        out.write(z.compress(bytes((512 - total % 512) % 512) + bytes(1024)))
    out.write(z.flush())


def many_entries(out, n):
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=9) as t:
        for i in range(n):
            info = tarfile.TarInfo(f"f/{i}")
            info.size = 0
            t.addfile(info, io.BytesIO(b""))


def spin_app(name, archive=None, component=COMPONENT, declared_component=None, files=()):
    """Blobs and manifest of a Spin app: one component, optional archive layer."""
    blobs = {}

    def add(data):
        d = digest(data)
        blobs[d] = data
        return d

    wasm_digest = add(component) if declared_component is None else digest(declared_component)
    if declared_component is not None:
        blobs[wasm_digest] = component
    lock_files = [{"digest": d, "path": p} for (p, d) in files]
    locked = {
        "spin_lock_version": 1,
        "metadata": {"name": name, "trigger": {"type": "http"}, "triggers": {}},
        "triggers": [{"id": "t", "trigger_type": "http", "trigger_config": {"component": "c", "route": "/..."}}],
        "components": [{
            "id": "c",
            "source": {"content_type": "application/wasm", "digest": wasm_digest},
            "files": lock_files,
        }],
    }
    locked_bytes = json.dumps(locked).encode()
    config = json.dumps({"architecture": "wasm", "os": "wasip1", "config": {"Labels": {"com.fermyon.spin.lockedAppDigest": digest(locked_bytes)}}}).encode()
    layers = [{"mediaType": "application/vnd.wasm.content.layer.v1+wasm", "digest": wasm_digest,
               "size": len(declared_component if declared_component is not None else component)}]
    if archive is not None:
        layers.append({"mediaType": "application/vnd.wasm.content.bundle.v1.tar+gzip", "digest": add(archive), "size": len(archive)})
    layers.append({"mediaType": "application/vnd.fermyon.spin.application.v1+config", "digest": add(locked_bytes), "size": len(locked_bytes)})
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": add(config), "size": len(config)},
        "layers": layers,
    }).encode()
    return manifest, blobs


APPS = {}
APPS_LOCK = threading.Lock()


def app_for(case):
    with APPS_LOCK:
        if case in APPS:
            return APPS[case]
        if case == "bomb":
            archive = cached("bomb.tgz", lambda f: gzip_of_zeros(f, 2 << 30, "big.bin"))
            app = spin_app("bomb", archive, files=[("/big.bin", digest(b""))])
        elif case == "entries":
            archive = cached("entries.tgz", lambda f: many_entries(f, 150_000))
            app = spin_app("entries", archive, files=[("/f/0", digest(b""))])
        elif case == "oversize":
            declared = COMPONENT + b"oversize"
            app = spin_app("oversize", component=declared + bytes(1 << 20), declared_component=declared)
        else:
            app = spin_app(case)
        APPS[case] = app
        return app


GZIP_BOMB = None


def gzip_manifest():
    global GZIP_BOMB
    if GZIP_BOMB is None:
        GZIP_BOMB = cached("manifest.gz", lambda f: gzip_of_zeros(f, 1 << 30))
    return GZIP_BOMB


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stdout.write("%s\n" % (fmt % args))
        sys.stdout.flush()

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def stream_forever(self, chunk, declared=None, chunked=False):
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        if declared is not None:
            self.send_header("Content-Length", str(declared))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while True:
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def parts(self):
        path = self.path.split("?")[0]
        if not path.startswith("/v2/evil/"):
            return None
        rest = path[len("/v2/evil/"):]
        case, _, tail = rest.partition("/")
        kind, _, target = tail.partition("/")
        return case, kind, target

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path == "/v2/":
            return self.send(200, b"{}", [("Content-Type", "application/json")])
        parts = self.parts()
        if parts is None:
            return self.send(404)
        case, kind, target = parts
        manifest, blobs = app_for(case)
        mdigest = digest(manifest)
        manifest_headers = [("Content-Type", "application/vnd.oci.image.manifest.v1+json"), ("Docker-Content-Digest", mdigest)]
        if kind == "manifests" and target == "v1" and self.command == "HEAD":
            return self.send(200, manifest, manifest_headers)
        if kind == "manifests" and case in ("huge", "endless", "gzip", "drip", "stall", "silent", "redirect"):
            return self.misbehave(case)
        if kind == "manifests" and case == "tag" and target.startswith("sha256-"):
            return self.stream_forever(b'{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"' + mdigest.encode() + b'","size":1},', chunked=True)
        if kind == "manifests" and target in ("v1", mdigest):
            return self.send(200, manifest, manifest_headers)
        if kind == "referrers" and case == "referrers":
            return self.stream_forever(b'{"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"' + mdigest.encode() + b'","size":1},', chunked=True)
        if kind == "blobs" and target in blobs:
            return self.send(200, blobs[target], [("Content-Type", "application/octet-stream"), ("Docker-Content-Digest", target)])
        return self.send(404, b'{"errors":[{"code":"NOT_FOUND","message":"unknown"}]}', [("Content-Type", "application/json")])

    def misbehave(self, case):
        if case == "huge":
            return self.stream_forever(bytes(65536), declared=1 << 30)
        if case == "endless":
            return self.stream_forever(b" " * 65536, chunked=True)
        if case == "gzip":
            body = gzip_manifest()
            return self.send(200, body, [("Content-Type", "application/vnd.oci.image.manifest.v1+json"), ("Content-Encoding", "gzip")])
        if case == "drip":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                return
        if case == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(3600)
            return
        if case == "silent":
            time.sleep(3600)
            return
        if case == "redirect":
            return self.send(307)


class Server(ThreadingHTTPServer):
    daemon_threads = True


# Build the large payloads before accepting connections, so no test waits on them.
gzip_manifest()
app_for("bomb")
app_for("entries")
server = Server(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
