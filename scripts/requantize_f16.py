#!/usr/bin/env python3
"""Writes an F16 copy of a GGUF model for benchmarking (`pip install gguf`).

Every quantized tensor is dequantized with gguf-py and stored as F16 (F32 tensors such as norms stay
F32); metadata is copied unchanged except general.file_type (1 = mostly F16). The result runs the
same network with F16 weights — the weights are the quantized values, not the original checkpoint.

    scripts/requantize_f16.py SRC.gguf DST.gguf
"""
import sys

import numpy as np
import gguf


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dst, arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in ("general.architecture", "general.file_type"):
            continue
        value = field.contents()
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(field.name, value, vtype, sub_type=field.types[-1])
        else:
            writer.add_key_value(field.name, value, vtype)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    for t in reader.tensors:
        if t.tensor_type == gguf.GGMLQuantizationType.F32:
            data = np.array(t.data, dtype=np.float32)
        else:
            data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float16)
        # gguf-py shapes are reversed from GGML's ne order; the writer expects numpy order
        shape = tuple(int(n) for n in reversed(t.shape))
        writer.add_tensor(t.name, data.reshape(shape))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()
