// GGUFFile: valid files parse; every kind of corruption becomes the right GGUFError.

import Foundation
import Testing
@testable import SiroccoEngine

@Suite struct GGUFFileTests {
    func sample() -> GGUFTestWriter {
        var w = GGUFTestWriter()
        w.metadata = [
            ("general.architecture", .string("llama")),
            ("general.alignment", .u32(32)),
            ("test.flag", .bool(true)),
            ("test.float", .f32(0.5)),
            ("test.words", .strings(["a", "bc", "日本"])),
            ("test.ints", .i32s([1, -2, 3])),
        ]
        w.tensors = [
            GGUFTestWriter.f32Tensor("a", [1, 2, 3, 4]),
            GGUFTestWriter.f32Tensor("b", (0..<64).map(Float.init), dims: [32, 2]),
        ]
        return w
    }

    func parse(_ bytes: [UInt8]) throws(GGUFError) -> GGUFFile {
        let path = GGUFTestWriter.write(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: path)
    }

    func expectError(_ bytes: [UInt8], _ check: (GGUFError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(bytes)
            Issue.record("expected a GGUFError", sourceLocation: sourceLocation)
        } catch {
            #expect(check(error), "got \(error)", sourceLocation: sourceLocation)
            #expect(!error.description.isEmpty && !error.description.contains("\n"), sourceLocation: sourceLocation)
        }
    }

    @Test func parsesMetadataAndTensors() throws {
        let file = try parse(sample().build().bytes)
        #expect(file.version == 3)
        #expect(file.string("general.architecture") == "llama")
        #expect(file.bool("test.flag") == true)
        #expect(file.float("test.float") == 0.5)
        #expect(file.stringArray("test.words") == ["a", "bc", "日本"])
        #expect(file.intArray("test.ints") == [1, -2, 3])
        #expect(file.metadataKeys.first == "general.architecture")
        let b = try #require(file.tensor(named: "b"))
        #expect(b.dims == [32, 2] && b.rowCount == 2 && b.type == .f32 && b.byteCount == 256)
        let p = file.data(of: b).assumingMemoryBound(to: Float.self)
        #expect(p[0] == 0 && p[63] == 63)
        #expect(file.data(of: b) - file.data(of: file.tensor(named: "a")!) == 32)  // aligned
    }

    @Test func theFingerprintCoversMetadataAndWeights() throws {
        let bytes = sample().build().bytes
        let file = try parse(bytes)
        #expect(file.tensorDataOffset == file.tensor(named: "a")!.fileOffset)  // the first tensor's data
        #expect(file.tensorDataOffset < bytes.count && file.tensorDataOffset % 32 == 0)
        file.prefault(file.tensors)  // maps the pages; the contents stay as they are
        #expect(file.data(of: file.tensor(named: "b")!).assumingMemoryBound(to: Float.self)[63] == 63)
        // a changed weight or a changed metadata value changes it; the same bytes give the same
        var weight = bytes, metadata = bytes
        weight[bytes.count - 1] ^= 1
        metadata[file.tensorDataOffset - 40] ^= 1
        #expect(try parse(bytes).contentFingerprint() == file.contentFingerprint())
        #expect(try parse(weight).contentFingerprint() != file.contentFingerprint())
        #expect((try? parse(metadata))?.contentFingerprint() != file.contentFingerprint())
    }

    @Test func version2IsAccepted() throws {
        var w = sample()
        w.version = 2
        #expect(try parse(w.build().bytes).version == 2)
    }

    @Test func wrongMagic() {
        var bytes = sample().build().bytes
        bytes[0] = UInt8(ascii: "X")
        expectError(bytes) { if case .notGGUF = $0 { return true } else { return false } }
    }

    @Test func unsupportedVersion() {
        var w = sample()
        w.version = 1
        expectError(w.build().bytes) { $0 == .unsupportedVersion(file: $0.file, version: 1) }
        w.version = 99
        expectError(w.build().bytes) { if case .unsupportedVersion(_, 99) = $0 { return true } else { return false } }
    }

    @Test(arguments: [3, 10, 30, 100, 200])
    func truncatedHeader(at length: Int) {
        let (bytes, dataStart) = sample().build()
        precondition(length < dataStart)
        expectError(Array(bytes.prefix(length))) {
            switch $0 {
            case .truncated, .notGGUF, .absurdCount: return true
            default: return false
            }
        }
    }

    @Test func truncatedTensorData() {
        let (bytes, _) = sample().build()
        expectError(Array(bytes.dropLast(40))) {
            if case let .tensorOutOfBounds(_, tensor, _, _) = $0 { return tensor == "b" } else { return false }
        }
    }

    @Test func emptyFileAndMissingFile() {
        expectError([]) { if case .cannotOpen = $0 { return true } else { return false } }
        do {
            _ = try GGUFFile(path: "/nonexistent/model.gguf")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("No such file"))
        }
    }

    @Test func absurdTensorCount() {
        var bytes = sample().build().bytes
        // tensor count lives at bytes 8..<16
        for i in 8..<16 { bytes[i] = 0xFF }
        expectError(bytes) { if case .absurdCount(_, "tensor count", _) = $0 { return true } else { return false } }
    }

    @Test func absurdStringLength() {
        var bytes = sample().build().bytes
        // the first key's length lives at bytes 24..<32
        for i in 24..<31 { bytes[i] = 0x7F }
        expectError(bytes) { if case .truncated = $0 { return true } else { return false } }
    }

    @Test func absurdArrayLength() {
        var w = GGUFTestWriter()
        w.metadata = [("x", .strings(["a"]))]
        var bytes = w.build().bytes
        // header 24 bytes + key (8 + 1) + type 4 + element type 4 → array count at 41
        for i in 41..<48 { bytes[i] = 0x7F }
        expectError(bytes) { if case .absurdCount = $0 { return true } else { return false } }
    }

    @Test func unknownValueType() {
        var w = GGUFTestWriter()
        w.metadata = [("x", .u32(1))]
        var bytes = w.build().bytes
        bytes[33] = 77  // value type after header (24) + key (8 + 1)
        expectError(bytes) { $0 == .badValueType(file: $0.file, key: "x", type: 77) }
    }

    @Test func unknownTensorType() {
        var w = sample()
        w.tensors[0].type = 99
        expectError(w.build().bytes) { $0 == .unknownTensorType(file: $0.file, tensor: "a", type: 99) }
    }

    @Test func rowNotMultipleOfBlock() {
        var w = sample()
        w.tensors[0].type = 8  // Q8_0 needs rows of 32
        expectError(w.build().bytes) { if case .badTensorShape(_, "a", _) = $0 { return true } else { return false } }
    }

    @Test func badAlignment() {
        var w = sample()
        w.metadata[1] = ("general.alignment", .u32(3))
        expectError(w.build().bytes) { if case .badAlignment(_, 3) = $0 { return true } else { return false } }
    }

    @Test func duplicateTensorName() {
        var w = sample()
        w.tensors[1].name = "a"
        expectError(w.build().bytes) { if case .duplicateName(_, "a") = $0 { return true } else { return false } }
    }
}

extension GGUFError {
    var file: String {
        switch self {
        case let .cannotOpen(f, _), let .notGGUF(f), let .unsupportedVersion(f, _), let .truncated(f, _, _, _),
             let .absurdCount(f, _, _), let .badValueType(f, _, _), let .badTensorShape(f, _, _),
             let .unknownTensorType(f, _, _), let .tensorOutOfBounds(f, _, _, _), let .misalignedTensor(f, _, _, _),
             let .duplicateName(f, _), let .badAlignment(f, _):
            return f
        }
    }
}
