// ByteStringTable: a read-mostly hash map from byte strings to ids, probed with raw byte spans so
// the tokenizers' inner loops look up "is this span a token?" without building Strings or arrays.
// Keys live in one arena; open addressing with linear probing; never shrinks.

struct ByteStringTable: Sendable {
    private var arena: [UInt8] = []
    private var keyStart: [Int32] = []
    private var keyLength: [Int32] = []
    private var values: [Int32] = []
    /// Entry index + 1 per slot; 0 = empty. Power-of-two sized.
    private var slots: [Int32]

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        keyStart.reserveCapacity(capacity)
        keyLength.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    var count: Int { values.count }

    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for b in bytes {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The id stored for `bytes`, if any.
    func lookup(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        let mask = slots.count - 1
        var i = ByteStringTable.hash(bytes) & mask
        return arena.withUnsafeBufferPointer { arena in
            while true {
                let entry = Int(slots[i])
                if entry == 0 { return nil }
                let e = entry - 1
                let start = Int(keyStart[e])
                let length = Int(keyLength[e])
                if length == bytes.count {
                    if length == 0 || memcmpEqual(arena.baseAddress! + start, bytes.baseAddress!, length) {
                        return values[e]
                    }
                }
                i = (i + 1) & mask
            }
        }
    }

    func lookup(_ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { lookup($0) }
    }

    func lookup(_ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }

    /// Stores `value` for `bytes`, replacing an earlier value for the same bytes.
    mutating func insert(_ bytes: UnsafeRawBufferPointer, value: Int32) {
        if (values.count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = ByteStringTable.hash(bytes) & mask
        while true {
            let entry = Int(slots[i])
            if entry == 0 { break }
            let e = entry - 1
            if Int(keyLength[e]) == bytes.count {
                let same = arena.withUnsafeBufferPointer { arena in
                    bytes.count == 0 || memcmpEqual(arena.baseAddress! + Int(keyStart[e]), bytes.baseAddress!, bytes.count)
                }
                if same {
                    values[e] = value
                    return
                }
            }
            i = (i + 1) & mask
        }
        keyStart.append(Int32(arena.count))
        keyLength.append(Int32(bytes.count))
        arena.append(contentsOf: bytes)
        values.append(value)
        slots[i] = Int32(values.count)
    }

    mutating func insert(_ text: String, value: Int32) {
        var text = text
        text.withUTF8 { insert(UnsafeRawBufferPointer($0), value: value) }
    }

    private mutating func grow() {
        let newSize = slots.count * 2
        var newSlots = [Int32](repeating: 0, count: newSize)
        let mask = newSize - 1
        arena.withUnsafeBytes { arena in
            for e in 0..<values.count {
                let key = UnsafeRawBufferPointer(rebasing: arena[Int(keyStart[e])..<Int(keyStart[e] + keyLength[e])])
                var i = ByteStringTable.hash(key) & mask
                while newSlots[i] != 0 { i = (i + 1) & mask }
                newSlots[i] = Int32(e + 1)
            }
        }
        slots = newSlots
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    let b = b.assumingMemoryBound(to: UInt8.self)
    for k in 0..<n where a[k] != b[k] { return false }
    return true
}
