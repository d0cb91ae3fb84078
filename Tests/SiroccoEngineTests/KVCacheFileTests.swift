// KV cache files: what is restored gives the logits of a context that evaluated the tokens itself
// (bit for bit: the same cells come back), on SmolLM2 and on synthetic models whose sliding-window
// layers keep a rolling buffer, with both cache types; what does not fit (another model, cache type
// or conversation, a rolling buffer past the prefix) is refused without a change; and damaged or
// hostile files throw one-line errors instead of crashing, hanging or allocating what they claim.

import Foundation
import Testing
@testable import SiroccoEngine

@Suite(.serialized) struct KVCacheFileTests {
    static func scratch() throws -> String { try HostileFilesTests.scratch() }

    static func synthetic(_ name: String) throws -> Model {
        try Model(path: try fixtureURL("Fixtures/synthetic/\(name)", "gguf").path)
    }

    /// `count` token ids a synthetic vocabulary holds, in an order with no repeats nearby.
    static func tokens(_ count: Int, from start: Int = 0) -> [TokenID] {
        (start..<(start + count)).map { TokenID(($0 * 37 + 5) % 250) }
    }

    /// SmolLM2's tokens for a text of some length.
    static func smolTokens(_ model: Model) -> [TokenID] {
        model.tokenizer.encode("The quick brown fox jumps over the lazy dog. " + String(repeating: "A rolling stone gathers no moss. ", count: 4),
                               addSpecial: true, parseSpecial: false)
    }

    /// A context of `model` that evaluated `tokens` (in batches of `batch`) and saved its cache to `path`.
    static func saved(_ model: Model, _ tokens: [TokenID], to path: String, type: KVCacheType = .f16,
                      context: Int = 128, batch: Int = 256) throws -> InferenceContext {
        let c = try InferenceContext(model: model, contextLength: context, batchSize: batch, threads: 2, cacheType: type)
        try c.evaluate(tokens)
        try c.saveCache(to: path)
        return c
    }

    @Test(arguments: KVCacheType.allCases)
    func aRestoredCacheGivesTheLogitsOfTheContextThatSavedIt(type: KVCacheType) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try ReferenceModel.load()
        let tokens = Self.smolTokens(model)
        let next = model.tokenizer.encode(" And then?", addSpecial: false, parseSpecial: false)
        let original = try Self.saved(model, tokens, to: dir + "/c.kv", type: type)

        let restored = try InferenceContext(model: model, contextLength: 128, threads: 2, cacheType: type)
        #expect(try restored.restoreCache(from: dir + "/c.kv", tokens: tokens + next) == tokens.count)
        #expect(restored.tokens == tokens && restored.position == tokens.count)
        let expected = try original.evaluate(next)
        #expect(try restored.evaluate(next) == expected)
    }

    @Test func theFileHoldsOnlyTheUsedCellsWithTheirTokens() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try ReferenceModel.load()
        let tokens = Self.smolTokens(model)
        for type in KVCacheType.allCases {
            _ = try Self.saved(model, tokens, to: dir + "/c.kv", type: type, context: 512)
            let size = try FileManager.default.attributesOfItem(atPath: dir + "/c.kv")[.size] as? Int
            // header, a window and first position per layer, the tokens, keys and values of 30 layers × 3 heads, checksum
            let rows = 30 * 2 * 3 * tokens.count * type.rowBytes(headDim: 64)
            #expect(size == 56 + 30 * 8 + 4 * tokens.count + rows + 8, "\(type)")
        }
    }

    @Test(arguments: [("gemma3-q8_0", KVCacheType.f16), ("gemma3-q8_0", .q8_0), ("llama-swa-q8_0", .f16)])
    func rollingBuffersComeBackAsTheyWere(name: String, type: KVCacheType) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.synthetic(name)
        #expect(model.config.layerWindows.contains(8))
        // 5 positions: the window of 8 not yet full; 21: wrapped (saved in batches of 4, so the buffer moved mid-batch)
        for count in [5, 21] {
            let tokens = Self.tokens(count)
            let next = Self.tokens(3, from: 100)
            let original = try Self.saved(model, tokens, to: dir + "/c.kv", type: type, context: 64, batch: 4)
            let restored = try InferenceContext(model: model, contextLength: 64, threads: 2, cacheType: type)
            #expect(try restored.restoreCache(from: dir + "/c.kv", tokens: tokens + next) == count)
            #expect(try restored.evaluateAll(next) == original.evaluateAll(next), "\(name) \(type) after \(count)")
        }
    }

    @Test func aRollingBufferPastTheSharedPrefixIsNotRestored() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.synthetic("gemma3-q8_0")
        let tokens = Self.tokens(21)
        _ = try Self.saved(model, tokens, to: dir + "/c.kv", context: 64)
        let other = Self.tokens(3, from: 100)
        // 20 of the 21 match, but the local layers' buffers hold positions 13...20, not 12...19
        let c = InferenceContext(model: model, contextLength: 64, threads: 2)
        #expect(try c.restoreCache(from: dir + "/c.kv", tokens: Array(tokens.prefix(20)) + other) == 0)
        #expect(c.position == 0)
        // before it wraps, a shorter prefix is fine: it gives what the saving context gives cut there
        let short = Self.tokens(6)
        let original = try Self.saved(model, short, to: dir + "/c.kv", context: 64)
        #expect(try c.restoreCache(from: dir + "/c.kv", tokens: Array(short.prefix(4)) + other) == 4)
        original.truncate(to: 4)
        #expect(try c.evaluateAll(other) == original.evaluateAll(other))
    }

    @Test func onlyTheSharedPrefixOfTheTokensIsRestored() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try ReferenceModel.load()
        let tokens = Self.smolTokens(model)
        let original = try Self.saved(model, tokens, to: dir + "/c.kv")
        let other = model.tokenizer.encode(" Something else entirely.", addSpecial: false, parseSpecial: false)
        let c = InferenceContext(model: model, contextLength: 128, threads: 2)
        #expect(try c.restoreCache(from: dir + "/c.kv", tokens: Array(tokens.prefix(12)) + other) == 12)
        #expect(c.tokens == Array(tokens.prefix(12)))
        original.truncate(to: 12)
        #expect(try c.evaluate(other) == original.evaluate(other))

        // nothing in common: the context keeps what it had
        #expect(try c.restoreCache(from: dir + "/c.kv", tokens: other) == 0)
        #expect(c.tokens == Array(tokens.prefix(12)) + other)
        // a context shorter than the saved positions takes what it can hold
        let small = InferenceContext(model: model, contextLength: 16, threads: 2)
        #expect(try small.restoreCache(from: dir + "/c.kv", tokens: tokens) == 16)
    }

    @Test func anotherModelOrCacheTypeIsRefused() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tokens = Self.tokens(10)
        // the same architecture and geometry, other weights
        let f16 = try Self.synthetic("llama-dense-f16"), bf16 = try Self.synthetic("llama-dense-bf16")
        #expect(f16.config.layerCount == bf16.config.layerCount && f16.config.headDim == bf16.config.headDim)
        _ = try Self.saved(f16, tokens, to: dir + "/c.kv")
        let other = InferenceContext(model: bf16, contextLength: 128, threads: 2)
        #expect(try other.restoreCache(from: dir + "/c.kv", tokens: tokens) == 0)
        let q8 = try InferenceContext(model: f16, contextLength: 128, threads: 2, cacheType: .q8_0)
        #expect(try q8.restoreCache(from: dir + "/c.kv", tokens: tokens) == 0)
        let same = InferenceContext(model: f16, contextLength: 128, threads: 2)
        #expect(try same.restoreCache(from: dir + "/c.kv", tokens: tokens) == 10)
    }

    @Test func aFileThatIsNotACacheIsNeverOverwritten() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/notes.kv"
        try Data("my notes".utf8).write(to: URL(fileURLWithPath: path))
        let c = InferenceContext(model: try Self.synthetic("llama-dense-f16"), contextLength: 32, threads: 1)
        try c.evaluate(Self.tokens(3))
        #expect(throws: FileError.self) { try c.saveCache(to: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "my notes")
        #expect(throws: KVCacheFileError.notACacheFile(path: path)) { try c.restoreCache(from: path, tokens: Self.tokens(3)) }
    }

    // MARK: damaged and hostile files

    /// A valid file of the synthetic Gemma 3 (6 layers, 1 KV head of 64) holding 10 positions.
    static func validFile(_ dir: String) throws -> (model: Model, tokens: [TokenID], bytes: [UInt8]) {
        let model = try synthetic("gemma3-q8_0")
        let tokens = Self.tokens(10)
        _ = try saved(model, tokens, to: dir + "/valid.kv", context: 64)
        return (model, tokens, Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/valid.kv"))))
    }

    /// `bytes` with a checksum that fits them, as a hostile file would have.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var body = Array(bytes.dropLast(8))
        let hash = body.withUnsafeBytes { XXHash64.hash($0) }
        withUnsafeBytes(of: hash.littleEndian) { body += $0 }
        return body
    }

    static func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }

    /// Restores `bytes` as a file into a fresh context; the error it throws (nil: none).
    static func restore(_ bytes: [UInt8], model: Model, tokens: [TokenID], dir: String) -> Error? {
        let path = dir + "/hostile.kv"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let c = InferenceContext(model: model, contextLength: 64, threads: 1)
        do {
            try c.evaluate([1, 2])
            _ = try c.restoreCache(from: path, tokens: tokens)
            return nil
        } catch {
            #expect(c.position == 0 || c.position == 2, "a failed restore leaves the context empty or as it was")
            #expect(!"\(error)".contains("\n"))
            return error
        }
    }

    @Test func aTruncatedFileIsAnErrorAtEveryLength() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (model, tokens, bytes) = try Self.validFile(dir)
        for length in [0, 3, 8, 20, 55, 56, 60, 104, 140, bytes.count / 2, bytes.count - 9, bytes.count - 1] {
            let error = Self.restore(Array(bytes.prefix(length)), model: model, tokens: tokens, dir: dir)
            #expect(error is KVCacheFileError, "length \(length): \(String(describing: error))")
        }
        if case .truncated(_, let expected, let actual)? = Self.restore(Array(bytes.dropLast(100)), model: model, tokens: tokens,
                                                                        dir: dir) as? KVCacheFileError {
            #expect(expected == bytes.count && actual == bytes.count - 100)
        } else {
            Issue.record("a file 100 bytes short is not reported as cut short")
        }
        #expect(Self.restore(bytes, model: model, tokens: tokens, dir: dir) == nil)
    }

    @Test func aDamagedByteIsFoundByTheChecksum() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (model, tokens, bytes) = try Self.validFile(dir)
        var damaged = bytes
        damaged[bytes.count - 300] ^= 0x10
        let error = Self.restore(damaged, model: model, tokens: tokens, dir: dir)
        #expect((error as? KVCacheFileError)?.description.contains("checksum mismatch") == true, "\(String(describing: error))")
    }

    /// Header fields a hostile file could set, and what each must give.
    @Test(arguments: [
        ("version", 8, UInt32(7), "version 7"),
        ("cache type", 12, 9, "unknown cache type 9"),
        ("layers", 32, 5, "geometry"),
        ("KV heads", 36, 0xFFFF_FFFF, "geometry"),
        ("row bytes", 44, 4096, "geometry"),
        // the local layers' buffers hold 8 of the 10 positions: no other count fits them
        ("positions", 48, 0xFFFF_FFFF, "starts at position"),
        ("positions", 48, 11, "starts at position"),
        ("positions", 48, 9, "starts at position"),
        ("window of layer 0", 56, 0, "window"),
        ("first position of layer 5", 56 + 5 * 8 + 4, 3, "starts at position"),
        ("first token", 56 + 6 * 8, 0x7FFF_FFFF, "not in the vocabulary"),
    ])
    func hostileHeaderFieldsAreErrors(field: String, offset: Int, value: UInt32, message: String) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (model, tokens, bytes) = try Self.validFile(dir)
        var hostile = bytes
        Self.put(value, at: offset, in: &hostile)
        let error = Self.restore(Self.resealed(hostile), model: model, tokens: tokens, dir: dir)
        #expect(error is KVCacheFileError && "\(error!)".contains(message), "\(field) = \(value): \(String(describing: error))")
    }

    @Test(arguments: [UInt32(0xFFFF_FFFF), 1 << 28, 11])
    func aHugePositionCountIsAFileCutShortNotAnAllocation(positions: UInt32) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.synthetic("llama-dense-f16")  // no windows: any count passes the layer table
        let tokens = Self.tokens(10)
        _ = try Self.saved(model, tokens, to: dir + "/c.kv")
        var hostile = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/c.kv")))
        Self.put(positions, at: 48, in: &hostile)
        let error = Self.restore(Self.resealed(hostile), model: model, tokens: tokens, dir: dir)
        guard case .truncated(_, let expected, let actual)? = error as? KVCacheFileError else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(expected > actual && actual == hostile.count)
    }

    @Test func aNonFiniteValueIsRefusedEvenUnderAValidChecksum() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (model, tokens, bytes) = try Self.validFile(dir)
        var hostile = bytes
        Self.put(UInt16(0x7E00), at: bytes.count - 8 - 64, in: &hostile)  // an F16 NaN in the last row
        let error = Self.restore(Self.resealed(hostile), model: model, tokens: tokens, dir: dir)
        #expect("\(error.map { "\($0)" } ?? "")".contains("not finite"), "\(String(describing: error))")
        // bytes after the checksum
        let longer = Self.restore(bytes + [0, 0, 0, 0], model: model, tokens: tokens, dir: dir)
        #expect("\(longer.map { "\($0)" } ?? "")".contains("more than its header describes"))
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/fifo.kv"
        #expect(mkfifo(path, 0o600) == 0)
        let c = InferenceContext(model: try Self.synthetic("gemma3-q8_0"), contextLength: 64, threads: 1)
        #expect(throws: FileError.notARegularFile(path: path, kind: "a FIFO")) { try c.restoreCache(from: path, tokens: [1]) }
    }
}

struct XXHash64Tests {
    /// Digests from the system's libxxhash 0.8.1 (XXH64 through ctypes).
    @Test func digestsMatchLibxxhash() {
        let pattern = (0..<3).flatMap { _ in Array(0...255) as [UInt8] } + Array("xyz12".utf8)
        let cases: [([UInt8], UInt64, UInt64)] = [
            ([], 0xEF46_DB37_51D8_E999, 0xAC75_FDA2_929B_17EF),
            (Array("a".utf8), 0xD24E_C4F1_A98C_6E5B, 0x393D_A8B7_8992_279B),
            (Array("abc".utf8), 0x44BC_2CF5_AD77_0999, 0x1318_DF30_094A_85FD),
            (Array("Nobody inspects the spammish repetition".utf8), 0xFBCE_A83C_8A37_8BF1, 0x56DB_22DD_5B05_1147),
            (pattern, 0x9B7D_50C0_4781_8B1B, 0x83FD_F74C_4C91_87AF),
        ]
        for (bytes, seed0, seedGolden) in cases {
            #expect(bytes.withUnsafeBytes { XXHash64.hash($0) } == seed0, "\(bytes.count) bytes")
            #expect(bytes.withUnsafeBytes { XXHash64.hash($0, seed: 2_654_435_761) } == seedGolden, "\(bytes.count) bytes, seed")
        }
    }

    @Test(arguments: [1, 3, 8, 31, 32, 33, 100])
    func piecesOfAnySizeGiveTheSameDigest(piece: Int) {
        let bytes = (0..<773).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        var h = XXHash64()
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + piece)
            bytes[i..<end].withUnsafeBytes { h.update($0) }
            i = end
        }
        #expect(h.finish() == bytes.withUnsafeBytes { XXHash64.hash($0) })
    }
}
