// KVCacheFile: an InferenceContext's KV cache saved to disk, as llama.cpp's session and slot files
// are, so a resumed conversation is not read again. The file holds only the positions in use, in the
// cache's own type, and says what they were made from: the model (file size and content
// fingerprint), the cache type and geometry, each layer's window and the exact token ids. It is
// untrusted input: every count and size is checked against the model and the file's length before
// anything is read or allocated, every F16 value is checked to be finite, and a checksum over the
// whole file catches damage. It never decides which file to use: callers name it.
//
// Layout, little-endian:
//   0  "SIROCKV\0"                      magic
//   8  u32 version (1)                  12  u32 cache type (0 F16, 1 Q8_0)
//  16  u64 model file size              24  u64 model fingerprint (GGUFFile.contentFingerprint)
//  32  u32 layers, u32 KV heads, u32 head size, u32 bytes per row
//  48  u32 positions held n             52  u32 context length of the context that saved it
//  56  per layer: u32 window (0: full attention), u32 first position stored (0 unless the layer's
//      rolling buffer has wrapped: then n - window)
//      n × u32 token ids, the tokens whose keys and values the rows hold
//      rows: per layer, keys then values, per KV head, positions first..<n in order, each `bytes per
//      row` (F16 values, or Q8_0 blocks of an F16 scale and 32 int8 values: ggml's block_q8_0)
//      u64 XXH64 (seed 0) of every byte before it

import Foundation

#if _endian(big)
#error("KV cache files are read and written as memory holds them: little-endian hosts only")
#endif

/// A KV cache file that cannot be used because it is not one, or is damaged.
public enum KVCacheFileError: Error, CustomStringConvertible, Equatable {
    case notACacheFile(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, expected: Int, actual: Int)
    case corrupt(path: String, reason: String)

    /// What is wrong, without the path (for messages that name the file themselves).
    public var reason: String {
        switch self {
        case .notACacheFile: return "not a Sirocco KV cache file"
        case let .unsupportedVersion(_, version): return "KV cache file version \(version); this Sirocco reads version \(KVCacheFile.version)"
        case let .truncated(_, expected, actual): return "KV cache file cut short (\(actual) of \(expected) bytes)"
        case let .corrupt(_, reason): return "damaged KV cache file (\(reason))"
        }
    }

    public var description: String {
        switch self {
        case let .notACacheFile(path), let .unsupportedVersion(path, _), let .truncated(path, _, _), let .corrupt(path, _):
            return "\(TerminalText.escaped(path)): \(reason)"
        }
    }
}

/// The cache file's constants and fixed header.
enum KVCacheFile {
    static let magic: [UInt8] = Array("SIROCKV\0".utf8)
    static let version: UInt32 = 1
    static let fixedHeaderBytes = 56
    static let trailerBytes = 8

    static func code(_ type: KVCacheType) -> UInt32 {
        switch type {
        case .f16: 0
        case .q8_0: 1
        }
    }

    static func type(code: UInt32) -> KVCacheType? {
        switch code {
        case 0: .f16
        case 1: .q8_0
        default: nil
        }
    }

    /// The fixed header's fields.
    struct Header {
        var type: KVCacheType
        var modelSize: UInt64
        var fingerprint: UInt64
        var layers, kvHeads, headDim, rowBytes, positions, contextLength: Int
    }

    /// Whether the first bytes of the file at `path` are a cache file's: a file that is not
    /// one is never overwritten (nil: there is no file, or it is empty).
    static func startsWithMagic(_ path: String) -> Bool? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return false }
        guard st.st_size > 0 else { return nil }
        var head = [UInt8](repeating: 0, count: magic.count)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        return n == magic.count && head == magic
    }
}

extension InferenceContext {
    /// Writes the cached positions (`tokens` and their keys and values) to `path`, atomically and
    /// durably (`AtomicFile`), for `restoreCache`. A file there that is not a KV cache file is left
    /// alone: that is `FileError.cannotWrite`.
    public func saveCache(to path: String) throws {
        if KVCacheFile.startsWithMagic(path) == false {
            throw FileError.cannotWrite(path: path, reason: "the file there is not a Sirocco KV cache; it is left as it is")
        }
        let n = cache.count
        precondition(tokens.count == n, "the cache holds \(n) positions for \(tokens.count) tokens")
        let fingerprint = model.file.contentFingerprint()
        try AtomicFile.write(to: path) { sink in
            var hash = XXHash64()
            func emit(_ bytes: UnsafeRawBufferPointer) {
                hash.update(bytes)
                sink.append(bytes)
            }
            func emit<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { emit($0) } }
            KVCacheFile.magic.withUnsafeBytes { emit($0) }
            emit(KVCacheFile.version)
            emit(KVCacheFile.code(cache.type))
            emit(UInt64(model.file.fileSize))
            emit(fingerprint)
            for v in [cache.layerCount, cache.kvHeadCount, cache.headDim, cache.rowBytes, n, contextLength] { emit(UInt32(v)) }
            for l in 0..<cache.layerCount {
                emit(UInt32(cache.windows[l] ?? 0))
                emit(UInt32(firstStoredPosition(layer: l)))
            }
            tokens.withUnsafeBytes { emit($0) }  // TokenID is Int32: already little-endian here
            let rowBytes = cache.rowBytes
            let chunkRows = max(1, (1 << 20) / rowBytes)
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkRows * rowBytes, alignment: 64)
            defer { chunk.deallocate() }
            for l in 0..<cache.layerCount {
                let first = firstStoredPosition(layer: l)
                for rows in [cache.keyRows, cache.valueRows] {
                    for h in 0..<cache.kvHeadCount {
                        let region = rows(l, h)
                        var p = first
                        while p < n {
                            let count = min(chunkRows, n - p)
                            for i in 0..<count { region.export(cache.cell(layer: l, position: p + i), to: chunk + i * rowBytes) }
                            emit(UnsafeRawBufferPointer(start: chunk, count: count * rowBytes))
                            p += count
                        }
                    }
                }
            }
            sink.append(hash.finish())
        }
    }

    /// The first position whose keys and values layer `l` still holds (0 until a rolling buffer wraps).
    private func firstStoredPosition(layer l: Int) -> Int {
        max(0, cache.count - cache.span(layer: l))
    }

    /// Loads the KV cache saved at `path` by `saveCache` when it was made with this model and cache
    /// type: of the tokens it holds, those that begin `expected` (and that every layer still holds
    /// the keys and values for) become this context's, so only what follows them is evaluated.
    /// Returns how many. 0 — another model or cache type, no shared prefix, a rolling buffer that
    /// has moved past the prefix, a context too short — leaves the context as it was. A file that
    /// is damaged, cut short or not a cache file throws `KVCacheFileError` (and `FileError` when it
    /// cannot be read); the context is then empty if its cells had been overwritten already. The
    /// logits of the last restored token are not kept: evaluate at least one token next.
    @discardableResult
    public func restoreCache(from path: String, tokens expected: [TokenID]) throws -> Int {
        let reader = try CacheFileReader(path: path)
        guard reader.size >= KVCacheFile.fixedHeaderBytes + KVCacheFile.trailerBytes else {
            if reader.size >= KVCacheFile.magic.count, try reader.peekMagic() {
                throw KVCacheFileError.truncated(path: path, expected: KVCacheFile.fixedHeaderBytes + KVCacheFile.trailerBytes,
                                                 actual: reader.size)
            }
            throw KVCacheFileError.notACacheFile(path: path)
        }
        let header = try readHeader(reader)
        guard header.modelSize == UInt64(model.file.fileSize), header.fingerprint == model.file.contentFingerprint(),
              header.type == cache.type else { return 0 }
        guard header.layers == cache.layerCount, header.kvHeads == cache.kvHeadCount, header.headDim == cache.headDim,
              header.rowBytes == cache.rowBytes else {
            throw reader.corrupt("its geometry (\(header.layers) layers, \(header.kvHeads) KV heads of \(header.headDim)) is not this model's")
        }
        let n = header.positions
        // the layer table: each layer's window must be the model's
        var first: [Int] = []
        let table = try reader.take(8 * header.layers)
        for l in 0..<header.layers {
            let window = Int(UInt32(littleEndian: table.loadUnaligned(fromByteOffset: 8 * l, as: UInt32.self)))
            let start = Int(UInt32(littleEndian: table.loadUnaligned(fromByteOffset: 8 * l + 4, as: UInt32.self)))
            guard window == cache.windows[l] ?? 0 else {
                throw reader.corrupt("layer \(l) has window \(window), the model \(cache.windows[l] ?? 0)")
            }
            guard start <= n, (window == 0 && start == 0) || (window > 0 && n - start <= window && (start == 0 || n - start == window)) else {
                throw reader.corrupt("layer \(l) starts at position \(start) of \(n)")
            }
            first.append(start)
        }
        // the whole file's size follows from the header: check it before reading on
        var expectedSize = KVCacheFile.fixedHeaderBytes + 8 * header.layers + 4 * n + KVCacheFile.trailerBytes
        for l in 0..<header.layers { expectedSize += 2 * header.kvHeads * (n - first[l]) * header.rowBytes }
        guard reader.size >= expectedSize else { throw KVCacheFileError.truncated(path: path, expected: expectedSize, actual: reader.size) }
        guard reader.size == expectedSize else { throw reader.corrupt("\(reader.size - expectedSize) bytes more than its header describes") }

        var saved = [TokenID]()
        saved.reserveCapacity(n)
        let vocabulary = model.config.vocabularySize
        while saved.count < n {
            let count = min(n - saved.count, 1 << 16)
            let ids = try reader.take(4 * count)
            for i in 0..<count {
                let id = Int32(littleEndian: ids.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                guard id >= 0 && Int(id) < vocabulary else { throw reader.corrupt("token id \(id) is not in the vocabulary") }
                saved.append(id)
            }
        }

        // the prefix to restore: shared with `expected`, within this context, and held by every layer
        var keep = 0
        while keep < min(n, expected.count, contextLength), saved[keep] == expected[keep] { keep += 1 }
        for l in 0..<header.layers where max(0, keep - cache.span(layer: l)) < first[l] { keep = 0 }
        guard keep > 0 else { return 0 }

        reset()
        do {
            for l in 0..<header.layers {
                let oldest = max(0, keep - cache.span(layer: l))
                for rows in [cache.keyRows, cache.valueRows] {
                    for h in 0..<header.kvHeads {
                        let region = rows(l, h)
                        for p in first[l]..<n {
                            let row = try reader.take(header.rowBytes)
                            guard p >= oldest && p < keep else { continue }
                            guard region.import(row, into: cache.cell(layer: l, position: p)) else {
                                throw reader.corrupt("a key or value at position \(p) of layer \(l) is not finite")
                            }
                        }
                    }
                }
            }
            try reader.checkTrailer()
        } catch {
            reset()
            throw error
        }
        cache.count = keep
        tokens = Array(saved[..<keep])
        return keep
    }

    private func readHeader(_ reader: CacheFileReader) throws -> KVCacheFile.Header {
        let p = try reader.take(KVCacheFile.fixedHeaderBytes)
        guard Array(UnsafeRawBufferPointer(start: p, count: KVCacheFile.magic.count)) == KVCacheFile.magic else {
            throw KVCacheFileError.notACacheFile(path: reader.path)
        }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        guard u32(8) == KVCacheFile.version else { throw KVCacheFileError.unsupportedVersion(path: reader.path, version: u32(8)) }
        guard let type = KVCacheFile.type(code: u32(12)) else { throw reader.corrupt("unknown cache type \(u32(12))") }
        return KVCacheFile.Header(type: type, modelSize: u64(16), fingerprint: u64(24), layers: Int(u32(32)),
                                  kvHeads: Int(u32(36)), headDim: Int(u32(40)), rowBytes: Int(u32(44)),
                                  positions: Int(u32(48)), contextLength: Int(u32(52)))
    }
}

/// Reads a cache file front to back through one buffer, hashing every byte before the trailer.
private final class CacheFileReader {
    let path: String
    /// The file's length when opened.
    let size: Int
    private let fd: Int32
    private let buffer: UnsafeMutableRawPointer
    /// 4 MiB, or less for a smaller file.
    private let capacity: Int
    private var lo = 0, hi = 0
    /// Bytes read from the file so far.
    private var offset = 0
    private var hash = XXHash64()

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw FileError.cannotRead(path: path, reason: reason)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FileError.notARegularFile(path: path, kind: RegularFile.kind(st.st_mode))
        }
        size = Int(st.st_size)
        capacity = min(4 << 20, max(size, 64))
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        buffer.deallocate()
        close(fd)
    }

    func corrupt(_ reason: String) -> KVCacheFileError { .corrupt(path: path, reason: reason) }

    /// Whether the file begins with the magic (for a file too short to hold a header).
    func peekMagic() throws -> Bool {
        let n = KVCacheFile.magic.count
        return Array(UnsafeRawBufferPointer(start: try take(n), count: n)) == KVCacheFile.magic
    }

    /// The next `n` bytes, valid until the next call. More than the buffer holds is more than the
    /// file holds (the callers take at most a few hundred KiB at a time).
    func take(_ n: Int) throws -> UnsafeRawPointer {
        guard n <= capacity else { throw KVCacheFileError.truncated(path: path, expected: offset - (hi - lo) + n, actual: size) }
        if hi - lo < n { try fill(n) }
        defer { lo += n }
        return UnsafeRawPointer(buffer + lo)
    }

    /// Reads until `n` bytes are buffered; a file that ends first is cut short.
    private func fill(_ n: Int) throws {
        if lo > 0 {
            buffer.copyMemory(from: buffer + lo, byteCount: hi - lo)
            hi -= lo
            lo = 0
        }
        while hi < n {
            let got = read(fd, buffer + hi, capacity - hi)
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw FileError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
            guard got > 0 else { throw KVCacheFileError.truncated(path: path, expected: size, actual: offset) }
            // every byte before the trailer is checksummed
            let hashed = max(0, min(got, size - KVCacheFile.trailerBytes - offset))
            hash.update(UnsafeRawBufferPointer(start: buffer + hi, count: hashed))
            offset += got
            hi += got
        }
    }

    /// Reads the trailer and compares it with the checksum of everything before it.
    func checkTrailer() throws {
        let stored = UInt64(littleEndian: try take(KVCacheFile.trailerBytes).loadUnaligned(as: UInt64.self))
        guard offset == size else { throw corrupt("the file grew while it was read") }
        guard stored == hash.finish() else { throw corrupt("checksum mismatch") }
    }
}
