// KVCache: keys and values of past positions, stored as F16 (llama.cpp's default cache) or Q8_0.
// A full-attention layer keeps every position (cell p holds position p); a sliding-window layer
// keeps a rolling buffer of W + R cells (position p lives in cell p mod (W + R)), so its memory stays
// constant however long the conversation grows; the R spare cells let a sequence take back its last
// R positions (a rejected draft) and still see a whole window. Layout per layer [kvHead][cell][headDim] (see KVRows): one
// head's keys are contiguous, so attention reads memory sequentially.

/// How the cache stores keys and values. F16 is llama.cpp's default; Q8_0 (llama.cpp's
/// `--cache-type-k q8_0 --cache-type-v q8_0`) takes 34 bytes per 32 values instead of 64, so a long
/// context costs half the memory and generation reads half the bytes per cached position.
public enum KVCacheType: String, Sendable, CaseIterable, Codable {
    case f16
    case q8_0

    /// Bytes of one key or value row of `headDim` values.
    public func rowBytes(headDim: Int) -> Int {
        switch self {
        case .f16: headDim * 2
        case .q8_0: headDim / 32 * 34
        }
    }

    /// Whether rows of `headDim` values can be stored (Q8_0 needs whole 32-value blocks).
    public func supports(headDim: Int) -> Bool { self == .f16 || headDim % 32 == 0 }

    /// The Walsh–Hadamard blocks llama.cpp rotates rows by before storing them in a quantized cache
    /// (queries and keys in blocks of the largest power of two ≥ 64 dividing the head size, values
    /// and, back, the attention output in blocks of 64); nil when it does not rotate (an F16 cache,
    /// or a head size that is not a multiple of 64).
    public func rotationBlocks(headDim: Int) -> (keys: Int, values: Int)? {
        guard self != .f16, headDim % 64 == 0 else { return nil }
        var keys = 64
        while headDim % (keys * 2) == 0 { keys *= 2 }
        return (keys, 64)
    }
}

/// The attention cache of one sequence.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    public let kvHeadCount: Int
    public let headDim: Int
    /// Positions the sequence may reach (the context length).
    public let capacity: Int
    /// The window of each layer (nil: full attention).
    public let windows: [Int?]
    /// How keys and values are stored.
    public let type: KVCacheType
    /// Bytes of one key (or value) row.
    public let rowBytes: Int
    /// Positions currently held.
    public internal(set) var count = 0
    /// Positions a windowed layer keeps beyond its window, so that this many can be taken back.
    public static let rollbackPositions = 32

    /// Cells of each layer: the context, or a rolling buffer (fewer than the context).
    let cellsPerLayer: [Int]
    /// The window of each layer that masks attention (nil: full attention, or a window no shorter
    /// than the context).
    let attentionWindows: [Int?]
    private let layerOffsets: [Int]
    let keys: UnsafeMutableRawPointer
    let values: UnsafeMutableRawPointer
    /// Positions one forward call may add (the batch size).
    let batchCapacity: Int
    /// A batch's keys and values for windowed layers, [kvHead][batch row] in the cache's type: the
    /// rolling buffer takes them only after every row of the batch has attended (see KVPlacement).
    let stagedKeys: UnsafeMutableRawPointer
    let stagedValues: UnsafeMutableRawPointer

    init(layerCount: Int, kvHeadCount: Int, headDim: Int, capacity: Int, windows: [Int?], type: KVCacheType = .f16,
         batchCapacity: Int) {
        precondition(windows.count == layerCount && type.supports(headDim: headDim))
        self.type = type
        rowBytes = type.rowBytes(headDim: headDim)
        self.layerCount = layerCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.capacity = capacity
        self.windows = windows
        attentionWindows = windows.map { w in w.flatMap { $0 < capacity ? $0 : nil } }
        cellsPerLayer = attentionWindows.map { w in w.map { min($0 + KVCache.rollbackPositions, capacity) } ?? capacity }
        var offsets: [Int] = []
        var total = 0
        for cells in cellsPerLayer {
            offsets.append(total)
            total += kvHeadCount * cells * rowBytes
        }
        layerOffsets = offsets
        keys = .allocate(byteCount: max(total, 1), alignment: 64)
        values = .allocate(byteCount: max(total, 1), alignment: 64)
        self.batchCapacity = batchCapacity
        let staged = cellsPerLayer.contains { $0 < capacity } ? batchCapacity * kvHeadCount * rowBytes : 1
        stagedKeys = .allocate(byteCount: staged, alignment: 64)
        stagedValues = .allocate(byteCount: staged, alignment: 64)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
        stagedKeys.deallocate()
        stagedValues.deallocate()
    }

    /// Whether layer `l` keeps a rolling buffer.
    func isRolling(_ l: Int) -> Bool { cellsPerLayer[l] < capacity }

    /// The positions before the newest that layer `l` attends to: its window, or the context.
    func span(layer l: Int) -> Int { attentionWindows[l] ?? capacity }

    /// The keys of `head` in layer `l`.
    func keyRows(layer l: Int, head: Int) -> KVRows {
        KVRows(base: keys + layerOffsets[l] + head * cellsPerLayer[l] * rowBytes, cells: cellsPerLayer[l],
               headDim: headDim, type: type)
    }

    /// The values of `head` in layer `l`.
    func valueRows(layer l: Int, head: Int) -> KVRows {
        KVRows(base: values + layerOffsets[l] + head * cellsPerLayer[l] * rowBytes, cells: cellsPerLayer[l],
               headDim: headDim, type: type)
    }

    /// The cell that holds `position` in layer `l`.
    @inline(__always)
    func cell(layer l: Int, position: Int) -> Int { position % cellsPerLayer[l] }

    /// Bytes the cache has reserved (keys and values).
    public var byteCapacity: Int { cellsPerLayer.reduce(0, +) * kvHeadCount * rowBytes * 2 }
    /// Bytes the held positions occupy.
    public var bytesUsed: Int { cellsPerLayer.reduce(0) { $0 + min($1, count) } * kvHeadCount * rowBytes * 2 }

    /// Occupancy per kind of layer: full layers (cells used / context) and windowed ones (cells used / W).
    public var occupancy: CacheOccupancy {
        let window = windows.compactMap { $0 }.max()
        return CacheOccupancy(fullCellsUsed: count, fullCapacity: capacity,
                              hasFullLayers: windows.contains { $0 == nil },
                              windowCellsUsed: window.map { min(count, $0) } ?? 0, windowCapacity: window ?? 0)
    }

    /// Forgets every position at or after `position`; returns the positions actually kept. A rolling
    /// buffer that has moved past the window the next position needs (more than
    /// `rollbackPositions` taken back) no longer holds it, so then nothing is kept.
    @discardableResult
    public func truncate(to position: Int) -> Int {
        let keep = max(0, min(count, position))
        for l in 0..<layerCount where isRolling(l) {
            let needed = max(0, keep - span(layer: l) + 1), held = max(0, count - cellsPerLayer[l])
            if needed < held {
                count = 0
                return 0
            }
        }
        count = keep
        return count
    }

    public func clear() { count = 0 }
}

/// How full the cache is, per kind of layer.
public struct CacheOccupancy: Sendable, Equatable, Codable {
    public var fullCellsUsed: Int
    public var fullCapacity: Int
    public var hasFullLayers: Bool
    public var windowCellsUsed: Int
    /// 0 when no layer is windowed.
    public var windowCapacity: Int
}
