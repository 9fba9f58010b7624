#!/usr/bin/env python3
"""Loads a file that `kiln export weights` wrote, as a user's Python would, and lists it.

    load_weights.py FILE pt           # torch.load(FILE, weights_only=True) where torch has it
    load_weights.py FILE safetensors  # the safetensors package's load_file, else a reader here

Prints how it loaded the file, then one line per tensor in name order:
NAME<TAB>DTYPE<TAB>SHAPE<TAB>SHA256, where SHAPE is "2,3" ("" for a scalar) and SHA256 is
that of the tensor's bytes in row-major order, so that a test can compare every tensor with
kiln's own exactly. Exits 1 with a message when the file does not load as a dict of tensors.
Needs torch; numpy only makes hashing faster.
"""
import hashlib
import inspect
import json
import struct
import sys

import torch


def load_pt(path):
    # weights_only=True is PyTorch 2.6's default and refuses any pickle global but the
    # tensors'; torch 1.13 has the argument too, older ones do not.
    if "weights_only" in inspect.signature(torch.load).parameters:
        return torch.load(path, map_location="cpu", weights_only=True), "torch.load, weights_only=True"
    return torch.load(path, map_location="cpu"), "torch.load (this torch has no weights_only)"


SAFETENSORS_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}


def load_safetensors(path):
    try:
        from safetensors.torch import load_file
    except ImportError:
        pass
    else:
        return load_file(path), "safetensors.torch.load_file"
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header.pop("__metadata__", None)
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = SAFETENSORS_DTYPES[entry["dtype"]]
        if end > begin:
            flat = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype)
        else:
            flat = torch.empty(0, dtype=dtype)  # frombuffer refuses an empty buffer
        tensors[name] = flat.reshape(entry["shape"])
    return tensors, "the reader in load_weights.py (no safetensors package)"


def raw_bytes(tensor):
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    if flat.dtype != torch.uint8:
        flat = flat.view(torch.uint8)
    try:
        return flat.numpy().tobytes()
    except (ImportError, RuntimeError):  # a torch without numpy
        return bytes(flat.tolist())


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("pt", "safetensors"):
        sys.exit("usage: load_weights.py FILE pt|safetensors")
    path, kind = sys.argv[1], sys.argv[2]
    weights, how = load_pt(path) if kind == "pt" else load_safetensors(path)
    if type(weights) is not dict:
        sys.exit(f"{path}: a {type(weights).__name__}, not a dict")
    print(f"loaded {path} with torch {torch.__version__} through {how}")
    for name in sorted(weights):
        tensor = weights[name]
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            sys.exit(f"{path}: {name!r} is a {type(tensor).__name__}, not a named tensor")
        shape = ",".join(str(d) for d in tensor.shape)
        digest = hashlib.sha256(raw_bytes(tensor)).hexdigest()
        print(f"{name}\t{str(tensor.dtype).replace('torch.', '')}\t{shape}\t{digest}")


if __name__ == "__main__":
    main()
