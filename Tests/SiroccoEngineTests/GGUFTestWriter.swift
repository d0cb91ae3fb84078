// A tiny GGUF writer for tests: builds valid files, then tests corrupt them byte by byte.

import Foundation
@testable import SiroccoEngine

struct GGUFTestWriter {
    enum Value {
        case u32(UInt32), i32(Int32), f32(Float), bool(Bool), string(String), strings([String]), f32s([Float]), i32s([Int32])
    }
    struct Tensor {
        var name: String
        var dims: [UInt64]
        var type: UInt32
        var data: [UInt8]
    }

    var version: UInt32 = 3
    var metadata: [(String, Value)] = []
    var tensors: [Tensor] = []
    var alignment = 32

    private func put<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }
    private func putString(_ s: String, _ out: inout [UInt8]) {
        put(UInt64(s.utf8.count), &out)
        out.append(contentsOf: s.utf8)
    }

    /// The bytes of the file and the offset where tensor data starts.
    func build() -> (bytes: [UInt8], dataStart: Int) {
        var out: [UInt8] = []
        put(UInt32(0x4655_4747), &out)
        put(version, &out)
        put(UInt64(tensors.count), &out)
        put(UInt64(metadata.count), &out)
        for (key, value) in metadata {
            putString(key, &out)
            switch value {
            case let .u32(v): put(UInt32(4), &out); put(v, &out)
            case let .i32(v): put(UInt32(5), &out); put(v, &out)
            case let .f32(v): put(UInt32(6), &out); put(v.bitPattern, &out)
            case let .bool(v): put(UInt32(7), &out); out.append(v ? 1 : 0)
            case let .string(v): put(UInt32(8), &out); putString(v, &out)
            case let .strings(a):
                put(UInt32(9), &out); put(UInt32(8), &out); put(UInt64(a.count), &out)
                for s in a { putString(s, &out) }
            case let .f32s(a):
                put(UInt32(9), &out); put(UInt32(6), &out); put(UInt64(a.count), &out)
                for f in a { put(f.bitPattern, &out) }
            case let .i32s(a):
                put(UInt32(9), &out); put(UInt32(5), &out); put(UInt64(a.count), &out)
                for i in a { put(i, &out) }
            }
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, o) in zip(tensors, offsets) {
            putString(t.name, &out)
            put(UInt32(t.dims.count), &out)
            for d in t.dims { put(d, &out) }
            put(t.type, &out)
            put(UInt64(o), &out)
        }
        while out.count % alignment != 0 { out.append(0) }
        let dataStart = out.count
        for t in tensors {
            out.append(contentsOf: t.data)
            while (out.count - dataStart) % alignment != 0 { out.append(0) }
        }
        return (out, dataStart)
    }

    /// `bytes`, a GGUF file without tensors, with the string value of `key` replaced by `value`
    /// (nil if the key is not stored as a string). A file with tensors would need them realigned.
    static func replacingString(_ key: String, with value: String, in bytes: [UInt8]) -> [UInt8]? {
        var needle: [UInt8] = []
        withUnsafeBytes(of: UInt64(key.utf8.count).littleEndian) { needle.append(contentsOf: $0) }
        needle.append(contentsOf: key.utf8)
        withUnsafeBytes(of: UInt32(8).littleEndian) { needle.append(contentsOf: $0) }  // GGUF string type
        guard bytes.count >= 16, bytes[8..<16].allSatisfy({ $0 == 0 }),  // tensor count 0
              let at = (0...(bytes.count - needle.count - 8)).first(where: { bytes[$0..<$0 + needle.count].elementsEqual(needle) })
        else { return nil }
        let lengthAt = at + needle.count
        let oldLength = bytes[lengthAt..<lengthAt + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
        var out = Array(bytes[..<lengthAt])
        withUnsafeBytes(of: UInt64(value.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: value.utf8)
        out.append(contentsOf: bytes[(lengthAt + 8 + oldLength)...])
        return out
    }

    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func write(_ bytes: [UInt8], name: String = "test") -> String {
        let path = NSTemporaryDirectory() + "sirocco-\(name)-\(UUID().uuidString).gguf"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    static func f32Tensor(_ name: String, _ values: [Float], dims: [UInt64]? = nil) -> Tensor {
        var data: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return Tensor(name: name, dims: dims ?? [UInt64(values.count)], type: 0, data: data)
    }
}
