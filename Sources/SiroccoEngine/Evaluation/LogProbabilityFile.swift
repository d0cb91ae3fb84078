// LogProbabilityFile: the base file of `sirocco perplexity --kl-divergence-base`, the log-probabilities
// of every scored position of a reference run, compact enough to keep (llama.cpp's idea: 16 bits a
// token). It only stores and reads rows; it never evaluates a model.
//
// Format (all little-endian), also written by scripts/perplexity_base_from_llamacpp.py:
//   magic        8 bytes  "SRCLOGP1"
//   contextLength u32      tokens per chunk (--ctx-size)
//   vocabularySize u32
//   chunkCount   u32
//   scoredPerChunk u32     contextLength - 1 - contextLength/2 (the positions scored in each chunk)
//   tokens       i32 × chunkCount·contextLength   the text's tokens as chunked (before BOS is put in)
//   rows         chunkCount·scoredPerChunk rows, in order, each:
//                  scale f32, minLogProb f32, q u16 × vocabularySize
//                log p(i) = scale·q(i) + minLogProb, where the range [max − 16, max] of the logits is
//                cut into 65535 steps and anything below it is q = 0 (as llama.cpp's log_softmax for
//                its logits file). A row is 8 + 2·vocabularySize bytes: 0.3 MB for a 152k vocabulary.

import Foundation

/// One position's log-probabilities, quantized to 16 bits over the top 16 nats.
public struct QuantizedLogProbabilities: Sendable, Equatable {
    public var scale: Float
    public var minLogProb: Float
    public var levels: [UInt16]

    /// Quantizes the log-softmax of `logits`.
    public init(logits: UnsafeBufferPointer<Float>) {
        var maxLogit = logits[0], minLogit = logits[0]
        for v in logits {
            maxLogit = max(maxLogit, v)
            minLogit = min(minLogit, v)
        }
        minLogit = max(minLogit, maxLogit - 16)
        var sumExp = 0.0
        for v in logits { sumExp += Double(expf(v - maxLogit)) }
        let logSumExp = Float(log(sumExp))
        minLogProb = minLogit - maxLogit - logSumExp
        scale = (maxLogit - minLogit) / 65535
        levels = [UInt16](repeating: 0, count: logits.count)
        guard scale > 0 else { return }
        let inverse = 1 / scale
        for (i, v) in logits.enumerated() where v > minLogit {
            levels[i] = UInt16(clamping: Int((inverse * (v - minLogit)).rounded(.toNearestOrEven)))
        }
    }

    public init(scale: Float, minLogProb: Float, levels: [UInt16]) {
        self.scale = scale
        self.minLogProb = minLogProb
        self.levels = levels
    }

    /// log p of token `i`.
    @inline(__always) public func logProb(_ i: Int) -> Float { scale * Float(levels[i]) + minLogProb }
}

/// Why a base file cannot be used; `description` is a one-line message.
public enum LogProbabilityFileError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case notABaseFile(path: String)
    case truncated(path: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .notABaseFile(path): return "\(path) is not a Sirocco perplexity base file (made by sirocco perplexity --kl-divergence-base or scripts/perplexity_base_from_llamacpp.py)"
        case let .truncated(path): return "\(path) is truncated"
        case let .cannotWrite(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}

/// The header of a base file.
public struct LogProbabilityFileHeader: Sendable, Equatable {
    static let magic = Array("SRCLOGP1".utf8)
    public var contextLength: Int
    public var vocabularySize: Int
    public var chunkCount: Int
    public var tokens: [TokenID]
    public var scoredPerChunk: Int { contextLength - 1 - contextLength / 2 }
    var rowBytes: Int { 8 + 2 * vocabularySize }
}

/// Reads a base file row by row.
public final class LogProbabilityReader {
    public let path: String
    public let header: LogProbabilityFileHeader
    private let handle: FileHandle

    public init(path: String) throws(LogProbabilityFileError) {
        self.path = path
        // a regular file only: a FIFO or device is refused before anything can block
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .cannotOpen(path: path, reason: "not a regular file")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        self.handle = handle
        func read(_ count: Int) throws(LogProbabilityFileError) -> Data {
            let data = (try? handle.read(upToCount: count)) ?? Data()
            guard data.count == count else { throw .truncated(path: path) }
            return data
        }
        guard let magic = try? handle.read(upToCount: 8), Array(magic) == LogProbabilityFileHeader.magic else {
            throw .notABaseFile(path: path)
        }
        let fields = try read(16).withUnsafeBytes { raw in (0..<4).map { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
        let (ctx, vocab, chunks, scored) = (fields[0], fields[1], fields[2], fields[3])
        guard ctx >= 2, vocab >= 1, chunks >= 1, scored == ctx - 1 - ctx / 2, chunks * ctx <= 1 << 28 else {
            throw .notABaseFile(path: path)
        }
        let tokens = try read(4 * chunks * ctx).withUnsafeBytes { raw in
            (0..<chunks * ctx).map { TokenID(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: TokenID.self)) }
        }
        header = LogProbabilityFileHeader(contextLength: ctx, vocabularySize: vocab, chunkCount: chunks, tokens: tokens)
    }

    /// The next row of the file.
    public func nextRow() throws(LogProbabilityFileError) -> QuantizedLogProbabilities {
        let data = (try? handle.read(upToCount: header.rowBytes)) ?? Data()
        guard data.count == header.rowBytes else { throw .truncated(path: path) }
        return data.withUnsafeBytes { raw in
            let scale = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            let minLogProb = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            let levels = (0..<header.vocabularySize).map { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 8 + 2 * $0, as: UInt16.self)) }
            return QuantizedLogProbabilities(scale: scale, minLogProb: minLogProb, levels: levels)
        }
    }
}

/// Writes a base file: the header at creation, then rows in order.
public final class LogProbabilityWriter {
    public let path: String
    private let handle: FileHandle

    public init(path: String, header: LogProbabilityFileHeader) throws(LogProbabilityFileError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        self.handle = handle
        var bytes = LogProbabilityFileHeader.magic
        for v in [header.contextLength, header.vocabularySize, header.chunkCount, header.scoredPerChunk] {
            withUnsafeBytes(of: UInt32(v).littleEndian) { bytes.append(contentsOf: $0) }
        }
        for t in header.tokens { withUnsafeBytes(of: t.littleEndian) { bytes.append(contentsOf: $0) } }
        try write(bytes)
    }

    deinit { try? handle.close() }

    public func append(_ row: QuantizedLogProbabilities) throws(LogProbabilityFileError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + 2 * row.levels.count)
        withUnsafeBytes(of: row.scale.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: row.minLogProb.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        row.levels.withUnsafeBytes { bytes.append(contentsOf: $0) }  // little-endian machines only
        try write(bytes)
    }

    private func write(_ bytes: [UInt8]) throws(LogProbabilityFileError) {
        do { try handle.write(contentsOf: Data(bytes)) } catch {
            throw .cannotWrite(path: path, reason: "\(error.localizedDescription)")
        }
    }
}
