// XXHash64: Yann Collet's XXH64, fed in pieces of any size. A fast non-cryptographic checksum
// (several GB/s here): it finds a damaged or truncated KV cache file and tells model files apart
// cheaply; it is no defence against a file made to collide, and is not used as one.

/// The XXH64 hash of a byte stream.
struct XXHash64 {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private let seed: UInt64
    private var v1, v2, v3, v4: UInt64
    private var total = 0
    /// Bytes of an unfinished 32-byte stripe.
    private var tail: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var tailCount = 0

    init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ XXHash64.p1 &+ XXHash64.p2
        v2 = seed &+ XXHash64.p2
        v3 = seed
        v4 = seed &- XXHash64.p1
    }

    @inline(__always)
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* p2, 31) &* p1
    }

    @inline(__always)
    private static func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
        (acc ^ round(0, v)) &* p1 &+ p4
    }

    /// Adds `bytes` to the stream.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, !bytes.isEmpty else { return }
        var n = bytes.count
        total += n
        if tailCount > 0 {
            let take = min(32 - tailCount, n)
            withUnsafeMutableBytes(of: &tail) { ($0.baseAddress! + tailCount).copyMemory(from: p, byteCount: take) }
            tailCount += take
            p += take
            n -= take
            guard tailCount == 32 else { return }
            withUnsafeBytes(of: tail) { stripes($0.baseAddress!, count: 1) }
            tailCount = 0
        }
        let whole = n / 32
        if whole > 0 { stripes(p, count: whole) }
        p += whole * 32
        n -= whole * 32
        if n > 0 {
            withUnsafeMutableBytes(of: &tail) { $0.baseAddress!.copyMemory(from: p, byteCount: n) }
            tailCount = n
        }
    }

    /// Runs `count` 32-byte stripes from `p` through the four lanes.
    private mutating func stripes(_ p: UnsafeRawPointer, count: Int) {
        var (a, b, c, d) = (v1, v2, v3, v4)
        for s in 0..<count {
            let q = p + s * 32
            a = XXHash64.round(a, UInt64(littleEndian: q.loadUnaligned(as: UInt64.self)))
            b = XXHash64.round(b, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            c = XXHash64.round(c, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            d = XXHash64.round(d, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
        (v1, v2, v3, v4) = (a, b, c, d)
    }

    /// The hash of everything added so far.
    func finish() -> UInt64 {
        var h: UInt64
        if total >= 32 {
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = XXHash64.merge(h, v1)
            h = XXHash64.merge(h, v2)
            h = XXHash64.merge(h, v3)
            h = XXHash64.merge(h, v4)
        } else {
            h = seed &+ XXHash64.p5
        }
        h &+= UInt64(total)
        withUnsafeBytes(of: tail) { raw in
            var i = 0
            while i + 8 <= tailCount {
                h ^= XXHash64.round(0, UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                h = rotl(h, 27) &* XXHash64.p1 &+ XXHash64.p4
                i += 8
            }
            if i + 4 <= tailCount {
                h ^= UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* XXHash64.p1
                h = rotl(h, 23) &* XXHash64.p2 &+ XXHash64.p3
                i += 4
            }
            while i < tailCount {
                h ^= UInt64(raw[i]) &* XXHash64.p5
                h = rotl(h, 11) &* XXHash64.p1
                i += 1
            }
        }
        h ^= h >> 33
        h &*= XXHash64.p2
        h ^= h >> 29
        h &*= XXHash64.p3
        h ^= h >> 32
        return h
    }

    /// The hash of `bytes` alone.
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var h = XXHash64(seed: seed)
        h.update(bytes)
        return h.finish()
    }
}

@inline(__always)
private func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
