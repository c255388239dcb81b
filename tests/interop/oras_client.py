"""An independent registry client for the tests: the PyPI `oras` library (oras-py).

    oras_client.py manifest-digest REF         digest of the manifest bytes oras receives
    oras_client.py pull REF DIR                 pull every layer; print "sha256:<hex> <mediaType>"
    oras_client.py push-wasm REF FILE           push FILE as a CNCF Wasm component artifact
All registries are plain HTTP on 127.0.0.1 (the test registry).
"""

import hashlib
import json
import os
import sys
import tempfile

import oras.client

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def client_for(ref):
    return oras.client.OrasClient(hostname=ref.split("/")[0], insecure=True)


def raw_manifest(client, ref):
    container = client.get_container(ref)
    url = f"http://{container.manifest_url()}"
    response = client.do_request(url, "GET", headers={"Accept": MANIFEST})
    response.raise_for_status()
    return response.content


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def main():
    command, ref, *rest = sys.argv[1:]
    client = client_for(ref)
    if command == "manifest-digest":
        print("sha256:" + hashlib.sha256(raw_manifest(client, ref)).hexdigest())
    elif command == "pull":
        outdir = rest[0]
        manifest = json.loads(raw_manifest(client, ref))
        container = client.get_container(ref)
        for layer in manifest["layers"]:
            path = os.path.join(outdir, layer["digest"].replace(":", "-"))
            client.download_blob(container, layer["digest"], path)
            print(sha256_file(path), layer["mediaType"])
    elif command == "push-wasm":
        wasm = os.path.abspath(rest[0])
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "config.json")
            with open(config, "w") as f:
                json.dump({"architecture": "wasm", "os": "wasip2", "layerDigests": [sha256_file(wasm)]}, f)
            client.push(
                target=ref,
                files=[f"{wasm}:application/wasm"],
                manifest_config=f"{config}:application/vnd.wasm.config.v0+json",
                disable_path_validation=True,
                quiet=True,
            )
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
