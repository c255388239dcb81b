"""A TUF repository, as Sigstore publishes its trust material, for the tests.

Writes into --dir a repository (consistent snapshots) whose targets are the given
`trusted_root.json` and `signing_config.v0.2.json`, signed with one ECDSA key per role, plus
`root.json` (the bootstrap root a client is given), and serves it on 127.0.0.1 until killed,
printing one JSON line with its URL. With --tamper the served trusted_root.json target is
changed after signing, so a correct client must refuse it.
"""

import argparse
import functools
import hashlib
import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)


def build(out: str, files: dict, tamper: bool):
    expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)
    signers = {role: CryptoSigner.generate_ecdsa() for role in ("root", "targets", "snapshot", "timestamp")}
    root = Root(expires=expires, consistent_snapshot=True)
    for role, signer in signers.items():
        root.add_key(signer.public_key, role)
    os.makedirs(os.path.join(out, "targets"), exist_ok=True)

    targets = Targets(expires=expires)
    for name, path in files.items():
        data = open(path, "rb").read()
        target = TargetFile.from_data(name, data, ["sha256"])
        targets.targets[name] = target
        digest = hashlib.sha256(data).hexdigest()
        if tamper and name == "trusted_root.json":
            data = data.replace(b"spin-tests", b"spin-evil!", 1)
        with open(os.path.join(out, "targets", f"{digest}.{name}"), "wb") as f:
            f.write(data)

    def write(md: Metadata, filename: str, signer):
        md.sign(signer)
        md.to_file(os.path.join(out, filename))
        return md

    root_md = write(Metadata(root), "1.root.json", signers["root"])
    shutil.copy(os.path.join(out, "1.root.json"), os.path.join(out, "root.json"))
    targets_md = write(Metadata(targets), "1.targets.json", signers["targets"])
    snapshot = Snapshot(expires=expires)
    snapshot.meta["targets.json"] = MetaFile(version=targets_md.signed.version)
    snapshot_md = write(Metadata(snapshot), "1.snapshot.json", signers["snapshot"])
    timestamp = Timestamp(expires=expires)
    timestamp.snapshot_meta = MetaFile(version=snapshot_md.signed.version)
    write(Metadata(timestamp), "timestamp.json", signers["timestamp"])
    return root_md


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--trusted-root", required=True)
    parser.add_argument("--signing-config", required=True)
    parser.add_argument("--tamper", action="store_true")
    args = parser.parse_args()
    repo = os.path.join(args.dir, "repository")
    build(repo, {"trusted_root.json": args.trusted_root, "signing_config.v0.2.json": args.signing_config}, args.tamper)
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=repo))
    print(json.dumps({"url": f"http://127.0.0.1:{server.server_address[1]}", "root": os.path.join(repo, "root.json")}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
