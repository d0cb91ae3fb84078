// KVCache: keys and values of every past position, stored as F16 (as llama.cpp's default cache).
// Layout [layer][kvHead][position][headDim]: one head's keys are contiguous, so attention reads
// memory sequentially.

/// The attention cache of one sequence: `capacity` cells per layer, the first `count` in use.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    public let kvHeadCount: Int
    public let headDim: Int
    /// Cells (positions) per layer.
    public let capacity: Int
    /// Positions currently held (cells used).
    public internal(set) var count = 0

    let keys: UnsafeMutablePointer<UInt16>
    let values: UnsafeMutablePointer<UInt16>

    init(layerCount: Int, kvHeadCount: Int, headDim: Int, capacity: Int) {
        self.layerCount = layerCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.capacity = capacity
        let n = layerCount * kvHeadCount * capacity * headDim
        keys = .allocate(capacity: n)
        values = .allocate(capacity: n)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes the cache has reserved (keys and values).
    public var byteCapacity: Int { 2 * layerCount * kvHeadCount * capacity * headDim * 2 }
    /// Bytes the used cells occupy.
    public var bytesUsed: Int { 2 * layerCount * kvHeadCount * count * headDim * 2 }

    @inline(__always)
    func offset(layer: Int, head: Int, position: Int) -> Int {
        ((layer * kvHeadCount + head) * capacity + position) * headDim
    }

    /// Forgets every position at or after `position` (used to reuse a shared prefix).
    public func truncate(to position: Int) {
        count = max(0, min(count, position))
    }

    public func clear() { count = 0 }
}
