// Which draft models may propose tokens to which targets: the real models' vocabularies, then one
// small written vocabulary pair per rule of llama.cpp's common_speculative_are_compatible.

import Foundation
import Testing
@testable import SiroccoEngine
import TestSupport

private enum ModelFile {
    static let qwenSmall = TestModelFiles.directory + "/qwen2.5-coder-0.5b-instruct.gguf"
    static let qwen = TestModelFiles.directory + "/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    static let smolLM2 = TestModelFiles.smolLM2
    static let gemma = TestModelFiles.directory + "/gemma-3-270m-q4_k_m.gguf"

    static func present(_ paths: String...) -> Bool { paths.allSatisfy { FileManager.default.fileExists(atPath: $0) } }
    static let pull = "needs the model files (sirocco pull qwen2.5-coder:0.5b qwen2.5-coder:1.5b smollm2:135m gemma3:270m)"

    static func tokenizer(_ path: String) throws -> Tokenizer { try Tokenizer(gguf: GGUFFile(path: path)) }
}

/// A small vocabulary: five special tokens, then "t5", "t6", …, with `texts` overriding some.
struct VocabularySpec: Sendable, CustomTestStringConvertible {
    var size = 300
    var model = "gpt2"
    var bos: Int32 = 0
    var eos: Int32 = 1
    var addsBOS = true
    var addsEOS = false
    var texts: [Int: String] = [:]
    var testDescription: String { "\(model) \(size) bos \(bos)\(addsBOS ? "+" : "") eos \(eos)\(addsEOS ? "+" : "") \(texts)" }

    func tokenizer() throws -> Tokenizer {
        var w = GGUFTestWriter()
        let tokens = (0..<size).map { texts[$0] ?? ($0 < 5 ? "<special\($0)>" : "t\($0)") }
        w.metadata = [
            (GGUFKey.tokenizerModel, .string(model)), (GGUFKey.tokens, .strings(tokens)), (GGUFKey.merges, .strings([])),
            (GGUFKey.bosID, .u32(UInt32(bos))), (GGUFKey.eosID, .u32(UInt32(eos))),
            (GGUFKey.addBOS, .bool(addsBOS)), (GGUFKey.addEOS, .bool(addsEOS)),
        ]
        let path = GGUFTestWriter.write(w.build().bytes, name: "draft-vocabulary")
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Tokenizer(gguf: GGUFFile(path: path))
    }
}

private func mismatch(draft: Tokenizer, target: Tokenizer) -> DraftVocabularyMismatch? {
    do throws(DraftVocabularyMismatch) {
        try Tokenizer.checkDraft(draft, for: target)
        return nil
    } catch {
        return error
    }
}

@Suite struct DraftVocabularyTests {
    @Test(.enabled(if: ModelFile.present(ModelFile.qwenSmall, ModelFile.qwen), Comment(rawValue: ModelFile.pull)))
    func qwenCoderSmallDraftsForQwenCoder() throws {
        let small = try ModelFile.tokenizer(ModelFile.qwenSmall), large = try ModelFile.tokenizer(ModelFile.qwen)
        #expect(mismatch(draft: small, target: large) == nil)
        #expect(mismatch(draft: large, target: small) == nil)
        #expect(mismatch(draft: large, target: large) == nil)
        #expect(mismatch(draft: small, target: small) == nil)
    }

    @Test(.enabled(if: ModelFile.present(ModelFile.smolLM2, ModelFile.qwen), Comment(rawValue: ModelFile.pull)))
    func smolLM2CannotDraftForQwen() throws {
        let error = mismatch(draft: try ModelFile.tokenizer(ModelFile.smolLM2), target: try ModelFile.tokenizer(ModelFile.qwen))
        #expect(error == .size(draft: 49152, target: 151936))
        #expect(error?.description == "the draft model's vocabulary does not match the target's: "
            + "vocabulary sizes 49152 (draft) and 151936 (target) differ by more than 128")
    }

    @Test(.enabled(if: ModelFile.present(ModelFile.smolLM2, ModelFile.gemma), Comment(rawValue: ModelFile.pull)))
    func gemmaCannotDraftForSmolLM2() throws {
        let error = mismatch(draft: try ModelFile.tokenizer(ModelFile.gemma), target: try ModelFile.tokenizer(ModelFile.smolLM2))
        #expect(error == .tokenizerKind(draft: "SentencePiece", target: "byte-level BPE"))
        #expect(error?.description == "the draft model's vocabulary does not match the target's: "
            + "a SentencePiece tokenizer in the draft, byte-level BPE in the target")
    }

    @Test(arguments: [
        // one rule each, in llama.cpp's order
        (VocabularySpec(model: "llama"), VocabularySpec(), .tokenizerKind(draft: "SentencePiece", target: "byte-level BPE")),
        (VocabularySpec(addsBOS: false), VocabularySpec(), .addsBOS(draft: false, target: true)),
        (VocabularySpec(bos: 2), VocabularySpec(), .bos(draft: 2, target: 0)),
        (VocabularySpec(addsEOS: true), VocabularySpec(), .addsEOS(draft: true, target: false)),
        (VocabularySpec(addsEOS: true), VocabularySpec(eos: 3, addsEOS: true), .eos(draft: 1, target: 3)),
        (VocabularySpec(size: 300), VocabularySpec(size: 429), .size(draft: 300, target: 429)),
        (VocabularySpec(size: 429), VocabularySpec(size: 300), .size(draft: 429, target: 300)),
        (VocabularySpec(texts: [200: "changed"]), VocabularySpec(), .tokenText(id: 200, draft: "changed", target: "t200")),
        (VocabularySpec(texts: [5: "x", 9: "y"]), VocabularySpec(), .tokenText(id: 5, draft: "x", target: "t5")),
        // what llama.cpp lets through
        (VocabularySpec(size: 300), VocabularySpec(size: 428), nil),  // 128 more tokens, texts agree
        (VocabularySpec(bos: 2, addsBOS: false), VocabularySpec(addsBOS: false), nil),  // ids compared only when added
        (VocabularySpec(eos: 3), VocabularySpec(), nil),
        (VocabularySpec(texts: [0: "<s>", 4: "<x>"]), VocabularySpec(), nil),  // ids below 5 are not compared
        (VocabularySpec(size: 3), VocabularySpec(size: 4), nil),  // nothing to compare from id 5
    ] as [(VocabularySpec, VocabularySpec, DraftVocabularyMismatch?)])
    func eachRuleOfLlamaCpp(draft: VocabularySpec, target: VocabularySpec, expected: DraftVocabularyMismatch?) throws {
        #expect(mismatch(draft: try draft.tokenizer(), target: try target.tokenizer()) == expected)
    }

    @Test func messagesAreOneLineAndNameTheDifference() {
        let prefix = "the draft model's vocabulary does not match the target's: "
        #expect(DraftVocabularyMismatch.tokenText(id: 1234, draft: "foo\n", target: "\u{1B}[2J").description
            == prefix + #"token 1234 is "foo\n" in the draft, "\x1B[2J" in the target"#)
        #expect(DraftVocabularyMismatch.bos(draft: 1, target: nil).description == prefix + "BOS token 1 in the draft, none in the target")
        #expect(DraftVocabularyMismatch.addsBOS(draft: true, target: false).description
            == prefix + "the draft adds BOS to a prompt, the target does not")
    }
}
