// GGUFPatch: a copy of a real model file with one header value changed — e.g. a smaller block
// count, which makes a draft model of the same vocabulary out of a model's first layers.

import Foundation

public enum GGUFPatch {
    /// A copy of the GGUF file at `path` with the UInt32 value of `key` set to `value` in place (the
    /// file keeps its size and tensors), in a fresh temporary file; nil when `key` is not a UInt32
    /// in its header. The caller removes the copy.
    public static func copy(of path: String, settingUInt32 key: String, to value: UInt32) throws -> String? {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var needle: [UInt8] = []
        withUnsafeBytes(of: UInt64(key.utf8.count).littleEndian) { needle.append(contentsOf: $0) }
        needle.append(contentsOf: key.utf8)
        withUnsafeBytes(of: UInt32(4).littleEndian) { needle.append(contentsOf: $0) }  // GGUF uint32 type
        let header = min(bytes.count, 64 << 20) - needle.count - 4
        guard header > 0, let at = (0..<header).first(where: { i in
            bytes[i] == needle[0] && bytes[i..<i + needle.count].elementsEqual(needle)
        }) else { return nil }
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(at + needle.count..<at + needle.count + 4, with: $0) }
        let copy = NSTemporaryDirectory() + "sirocco-patched-\(UUID().uuidString).gguf"
        guard FileManager.default.createFile(atPath: copy, contents: Data(bytes)) else { return nil }
        return copy
    }
}
