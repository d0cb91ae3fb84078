// GGUFFile: a memory-mapped GGUF model file (versions 2 and 3).
// Parses the header, metadata and tensor infos with bounds checks on every read, so a truncated
// or corrupt file becomes a GGUFError, never a crash. Tensor data is never copied: callers get
// pointers into the mapping, which lives as long as the GGUFFile.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A GGUF file mapped read-only into memory.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let fileSize: Int
    public let alignment: Int
    /// Metadata in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// Where the tensor data begins: everything before is header, metadata and tensor infos.
    public let tensorDataOffset: Int
    private let tensorIndex: [String: Int]
    private let base: UnsafeRawPointer

    /// Maps and parses the file at `path`.
    public init(path: String) throws(GGUFError) {
        self.path = path
        // non-blocking: a FIFO or device is refused by the check below instead of blocking here
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw .cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .cannotOpen(file: path, reason: "is \(RegularFile.kind(st.st_mode)), not a regular file")
        }
        let size = Int(st.st_size)
        guard size >= 4 else {
            if size == 0 { throw .cannotOpen(file: path, reason: "the file is empty") }
            throw .notGGUF(file: path)
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .cannotOpen(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        let base = UnsafeRawPointer(mapped)
        do {
            var parser = Parser(base: base, size: size, file: path)
            let header = try parser.parseHeader()
            self.version = header.version
            self.metadataKeys = header.keys
            self.metadata = header.metadata
            self.alignment = header.alignment
            self.tensors = header.tensors
            self.tensorDataOffset = header.dataStart
            var index: [String: Int] = [:]
            for (i, t) in header.tensors.enumerated() { index[t.name] = i }
            self.tensorIndex = index
        } catch {
            munmap(mapped, size)
            throw error
        }
        self.base = base
        self.fileSize = size
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), fileSize)
    }

    /// A cheap identity of the file's contents, for caches made from it: XXH64 of everything before
    /// the tensor data (metadata, vocabulary, tensor names, types and offsets) and of 16 samples
    /// of 4 KiB spread over the weights — not a hash of gigabytes of weights.
    public func contentFingerprint() -> UInt64 {
        var hash = XXHash64()
        hash.update(UnsafeRawBufferPointer(start: base, count: tensorDataOffset))
        let weights = fileSize - tensorDataOffset
        let sample = min(4096, weights)
        if sample > 0 {
            for i in 0..<16 {
                let offset = tensorDataOffset + (weights - sample) / 15 * i
                hash.update(UnsafeRawBufferPointer(start: base + offset, count: sample))
            }
        }
        return hash.finish()
    }

    /// Maps the pages of `tensors` into the process now, so the first forward pass does not fault
    /// them in a page at a time (as llama.cpp's warm-up run does; 0.1–0.2 s for the 1 GB 1.5B here
    /// when the page cache holds the file, a read from disk when it does not).
    public func prefault(_ tensors: [GGUFTensorInfo]) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let populateRead: Int32 = 22  // MADV_POPULATE_READ, Linux 5.14
        for t in tensors where t.byteCount > 0 {
            let start = (Int(bitPattern: base) + t.fileOffset) / page * page
            let end = Int(bitPattern: base) + t.fileOffset + t.byteCount
            guard let p = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            if madvise(p, end - start, populateRead) == 0 { continue }
            // elsewhere: a read of one byte a page
            var sum: UInt8 = 0
            for address in stride(from: start, to: end, by: page) {
                sum &+= UnsafeRawPointer(bitPattern: address)!.load(as: UInt8.self)
            }
            prefaultSink = sum
        }
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Pointer to a tensor's data inside the mapping (valid while this object lives).
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        base + tensor.fileOffset
    }

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func float(_ key: String) -> Float? { metadata[key]?.floatValue }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }
    public func stringArray(_ key: String) -> [String]? {
        metadata[key]?.arrayValue?.compactMap(\.stringValue)
    }
    public func floatArray(_ key: String) -> [Float]? {
        metadata[key]?.arrayValue?.compactMap(\.floatValue)
    }
    public func intArray(_ key: String) -> [Int]? {
        metadata[key]?.arrayValue?.compactMap(\.intValue)
    }
}

/// Where `prefault` leaves what it read, so the reads are not optimised away.
nonisolated(unsafe) private var prefaultSink: UInt8 = 0

/// Bounds-checked reader over the mapped bytes.
private struct Parser {
    let base: UnsafeRawPointer
    let size: Int
    let file: String
    var offset = 0

    init(base: UnsafeRawPointer, size: Int, file: String) {
        self.base = base
        self.size = size
        self.file = file
    }

    struct Header {
        var version: UInt32
        var keys: [String]
        var metadata: [String: GGUFValue]
        var alignment: Int
        var tensors: [GGUFTensorInfo]
        /// Where the tensor data begins (clamped to the file's size).
        var dataStart: Int
    }

    mutating func need(_ n: Int) throws(GGUFError) {
        if n < 0 || n > size - offset {
            throw .truncated(file: file, offset: offset, needed: n, size: size)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(GGUFError) -> T {
        try need(MemoryLayout<T>.size)
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func readCount(_ what: String, minElementBytes: Int) throws(GGUFError) -> Int {
        let start = offset
        let n = try read(UInt64.self)
        let remaining = UInt64(size - offset)
        if n > remaining / UInt64(max(minElementBytes, 1)) {
            if minElementBytes == 1 && what == "string length" {
                throw .truncated(file: file, offset: start, needed: Int(clamping: n), size: size)
            }
            throw .absurdCount(file: file, what: what, count: n)
        }
        return Int(n)
    }

    mutating func readString() throws(GGUFError) -> String {
        let n = try readCount("string length", minElementBytes: 1)
        let s = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: n), as: UTF8.self)
        offset += n
        return s
    }

    mutating func readValue(type: UInt32, key: String, depth: Int = 0) throws(GGUFError) -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self))
        case 1: return .int8(try read(Int8.self))
        case 2: return .uint16(try read(UInt16.self))
        case 3: return .int16(try read(Int16.self))
        case 4: return .uint32(try read(UInt32.self))
        case 5: return .int32(try read(Int32.self))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self)))
        case 7: return .bool(try read(UInt8.self) != 0)
        case 8: return .string(try readString())
        case 9:
            guard depth == 0 else { throw .badValueType(file: file, key: key, type: type) }
            let elementType = try read(UInt32.self)
            let minBytes: Int
            switch elementType {
            case 0, 1, 7: minBytes = 1
            case 2, 3: minBytes = 2
            case 4, 5, 6: minBytes = 4
            case 8, 10, 11, 12: minBytes = 8
            default: throw .badValueType(file: file, key: key, type: elementType)
            }
            let n = try readCount("array length of '\(key)'", minElementBytes: minBytes)
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for _ in 0..<n { values.append(try readValue(type: elementType, key: key, depth: 1)) }
            return .array(values)
        case 10: return .uint64(try read(UInt64.self))
        case 11: return .int64(try read(Int64.self))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self)))
        default: throw .badValueType(file: file, key: key, type: type)
        }
    }

    mutating func parseHeader() throws(GGUFError) -> Header {
        let magic = try read(UInt32.self)
        guard magic == 0x4655_4747 else { throw .notGGUF(file: file) }  // "GGUF" little-endian
        let version = try read(UInt32.self)
        guard version == 2 || version == 3 else { throw .unsupportedVersion(file: file, version: version) }
        let tensorCount = try readCount("tensor count", minElementBytes: 8 + 4 + 8 + 4 + 8)
        let kvCount = try readCount("metadata key count", minElementBytes: 8 + 4)

        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<kvCount {
            let key = try readString()
            let type = try read(UInt32.self)
            let value = try readValue(type: type, key: key)
            if metadata[key] != nil { throw .duplicateName(file: file, name: key) }
            keys.append(key)
            metadata[key] = value
        }

        var alignment = 32
        if let a = metadata[GGUFKey.alignment] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0 else {
                throw .badAlignment(file: file, alignment: a.intValue ?? -1)
            }
            alignment = v
        }

        struct RawInfo { var name: String; var dims: [Int]; var type: GGMLType; var offset: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(tensorCount)
        var seen = Set<String>()
        for _ in 0..<tensorCount {
            let name = try readString()
            if !seen.insert(name).inserted { throw .duplicateName(file: file, name: name) }
            let nDims = try read(UInt32.self)
            guard nDims >= 1 && nDims <= 4 else {
                throw .badTensorShape(file: file, tensor: name, reason: "\(nDims) dimensions (1 to 4 allowed)")
            }
            var dims: [Int] = []
            var product: UInt64 = 1
            for _ in 0..<nDims {
                let d = try read(UInt64.self)
                let (p, overflow) = product.multipliedReportingOverflow(by: d)
                guard d > 0, !overflow, p < (1 << 48) else {
                    throw .badTensorShape(file: file, tensor: name, reason: "dimension \(d) is zero or too large")
                }
                product = p
                dims.append(Int(d))
            }
            let rawType = try read(UInt32.self)
            guard let type = GGMLType(rawValue: rawType) else {
                throw .unknownTensorType(file: file, tensor: name, type: rawType)
            }
            guard dims[0] % type.blockSize == 0 else {
                throw .badTensorShape(file: file, tensor: name,
                                      reason: "row length \(dims[0]) is not a multiple of the \(type) block size \(type.blockSize)")
            }
            let rel = try read(UInt64.self)
            guard rel < UInt64(size) else {
                throw .tensorOutOfBounds(file: file, tensor: name, end: Int(clamping: rel), size: size)
            }
            raw.append(RawInfo(name: name, dims: dims, type: type, offset: Int(rel)))
        }

        let dataStart = (offset + alignment - 1) / alignment * alignment
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(raw.count)
        for r in raw {
            guard r.offset % alignment == 0 else {
                throw .misalignedTensor(file: file, tensor: r.name, offset: r.offset, alignment: alignment)
            }
            let elements = r.dims.reduce(1, *)
            let bytes = elements / r.type.blockSize * r.type.blockBytes
            let start = dataStart + r.offset
            let end = start + bytes
            guard end <= size else {
                throw .tensorOutOfBounds(file: file, tensor: r.name, end: end, size: size)
            }
            tensors.append(GGUFTensorInfo(name: r.name, dims: r.dims, type: r.type, fileOffset: start, byteCount: bytes))
        }
        return Header(version: version, keys: keys, metadata: metadata, alignment: alignment, tensors: tensors,
                      dataStart: min(dataStart, size))
    }
}
