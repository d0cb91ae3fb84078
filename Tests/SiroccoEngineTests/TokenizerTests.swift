// Tokenizer tests against llama.cpp: its own vocab test files (ggml-vocab-*.gguf with .inp/.out),
// goldens recorded with llama.cpp for the same vocabularies (Fixtures/vocab/goldens.json, made by
// make_vocab_goldens.py), and the default model's reference file (smollm2-reference.json).

import Foundation
import Synchronization
import Testing
@testable import SiroccoEngine

// MARK: fixtures

private enum VocabFixtures {
    /// Vocabularies with llama.cpp's own test files (.inp/.out).
    static let names = ["llama-spm", "llama-bpe", "qwen2", "gpt-2", "phi-3", "starcoder", "falcon"]
    /// Pre-tokenizers llama.cpp has no vocab test file for: a fixture vocabulary with only
    /// `tokenizer.ggml.pre` rewritten, as make_vocab_goldens.py --derived records them.
    static let rewritten: [String: (base: String, pre: String)] = [
        "tekken": ("llama-bpe", "tekken"), "gpt-4o": ("llama-bpe", "gpt-4o"),
    ]
    /// Vocabularies with goldens in derived-goldens.json.
    static let derivedNames = ["falcon", "tekken", "gpt-4o"]

    static func fixtureURL(_ name: String) -> URL? {
        Bundle.module.url(forResource: "Fixtures/vocab/\(name)", withExtension: nil)
    }

    private static let loaded = Mutex<[String: Tokenizer]>([:])

    /// The tokenizer of `ggml-vocab-<name>.gguf` (loaded once per test run).
    static func tokenizer(_ name: String) throws -> Tokenizer {
        if let t = loaded.withLock({ $0[name] }) { return t }
        let (base, pre) = rewritten[name] ?? (name, nil)
        let url = try #require(fixtureURL("ggml-vocab-\(base).gguf"), "missing fixture ggml-vocab-\(base).gguf")
        var path = url.path
        if let pre {
            let bytes = try [UInt8](Data(contentsOf: url))
            let patched = try #require(GGUFTestWriter.replacingString(GGUFKey.tokenizerPre, with: pre, in: bytes))
            path = GGUFTestWriter.write(patched, name: "vocab-\(name)")
        }
        defer { if pre != nil { try? FileManager.default.removeItem(atPath: path) } }
        let t = try Tokenizer(gguf: GGUFFile(path: path))
        loaded.withLock { $0[name] = t }
        return t
    }

    /// llama.cpp's test-tokenizer-0 cases: inputs separated by "\n__ggml_vocab_test__\n", one output line each.
    static func llamaCppCases(_ name: String) throws -> [(text: String, ids: [TokenID])] {
        let inp = try String(contentsOf: #require(fixtureURL("ggml-vocab-\(name).gguf.inp")), encoding: .utf8)
        let out = try String(contentsOf: #require(fixtureURL("ggml-vocab-\(name).gguf.out")), encoding: .utf8)
        let separator = "\n__ggml_vocab_test__\n"
        var inputs = inp.components(separatedBy: separator)
        if inp.hasSuffix(separator) { inputs.removeLast() }  // as test-tokenizer-0.cpp's reader
        var lines = out.components(separatedBy: "\n")
        if out.hasSuffix("\n") { lines.removeLast() }
        #expect(inputs.count == lines.count, "\(name): \(inputs.count) inputs but \(lines.count) outputs")
        return zip(inputs, lines).map { text, line in
            (text, line.split(separator: " ").compactMap { TokenID($0) })
        }
    }

    static let goldens: [String: Any] = {
        var vocabs: [String: Any] = [:]
        for file in ["goldens.json", "derived-goldens.json"] {
            guard let url = fixtureURL(file), let data = try? Data(contentsOf: url),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            vocabs.merge(json["vocabs"] as? [String: Any] ?? [:]) { old, _ in old }
        }
        return vocabs
    }()

    static var smolLMPath: String {
        ProcessInfo.processInfo.environment["SIROCCO_MODEL"]
            ?? NSString(string: "~/.cache/sirocco/models/SmolLM2-135M-Instruct.Q4_1.gguf").expandingTildeInPath
    }

    /// The default model's tokenizer; records a failure (not a skip) when the model is absent.
    static func smolLM() throws -> Tokenizer? {
        let path = smolLMPath
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("model file \(path) not found: run sirocco pull smollm2:135m (or set SIROCCO_MODEL)")
            return nil
        }
        if let t = loaded.withLock({ $0["smollm2"] }) { return t }
        let t = try Tokenizer(gguf: GGUFFile(path: path))
        loaded.withLock { $0["smollm2"] = t }
        return t
    }
}

private func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var chars = hex.utf8.makeIterator()
    while let hi = chars.next(), let lo = chars.next() {
        out.append(UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)!)
    }
    return out
}

private func ids(_ value: Any?) -> [TokenID] {
    (value as? [Any] ?? []).compactMap { ($0 as? NSNumber).map { TokenID(truncating: $0) } }
}

private func isValidUTF8(_ bytes: [UInt8]) -> Bool {
    String(validating: bytes, as: UTF8.self) != nil
}

// MARK: llama.cpp's own vocab tests

@Suite("Tokenizer")
struct TokenizerTests {
    @Test("llama.cpp test-tokenizer-0 cases are token-exact", arguments: VocabFixtures.names)
    func llamaCppVocabCasesAreTokenExact(vocab: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(vocab)
        let cases = try VocabFixtures.llamaCppCases(vocab)
        #expect(!cases.isEmpty)
        var passed = 0
        for (text, expected) in cases {
            // test-tokenizer-0 uses add_special = false, parse_special = false
            let got = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            #expect(got == expected, "\(vocab): \(text.debugDescription)")
            if got == expected { passed += 1 }
        }
        print("[tokenizer] \(vocab): \(passed)/\(cases.count) llama.cpp vocab cases token-exact")
    }

    @Test("goldens recorded with llama.cpp match (tokenize, detokenize, pieces, special ids)",
          arguments: VocabFixtures.names.filter { $0 != "falcon" } + VocabFixtures.derivedNames)
    func goldensMatchLlamaCpp(vocab: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(vocab)
        try checkGoldens(vocab, tokenizer)
    }

    @Test("SmolLM2 goldens recorded with llama.cpp match")
    func smolLMGoldensMatchLlamaCpp() throws {
        guard let tokenizer = try VocabFixtures.smolLM() else { return }
        try checkGoldens("smollm2", tokenizer)
    }

    private func checkGoldens(_ vocab: String, _ tokenizer: Tokenizer) throws {
        let golden = try #require(VocabFixtures.goldens[vocab] as? [String: Any], "no goldens for \(vocab)")
        let info = try #require(golden["info"] as? [String: Any])
        #expect(tokenizer.vocabularySize == (info["n_vocab"] as? Int))
        let bos = (info["bos"] as? Int).flatMap { $0 < 0 ? nil : TokenID($0) }
        let eos = (info["eos"] as? Int).flatMap { $0 < 0 ? nil : TokenID($0) }
        #expect(tokenizer.bos == bos)
        #expect(tokenizer.eos == eos)
        #expect(tokenizer.addsBOS == (info["add_bos"] as? Bool))
        #expect(tokenizer.addsEOS == (info["add_eos"] as? Bool))
        #expect(tokenizer.endOfGenerationTokens == Set(ids(info["eog"])), "\(vocab): end-of-generation tokens")

        let cases = try #require(golden["cases"] as? [[String: Any]])
        var passed = 0
        for c in cases {
            let text = try #require(c["text"] as? String)
            var ok = true
            for (key, add, parse) in [("ids_ap", true, true), ("ids_a", true, false), ("ids_p", false, true), ("ids_", false, false)] {
                let got = tokenizer.encode(text, addSpecial: add, parseSpecial: parse)
                let expected = ids(c[key])
                if got != expected { ok = false }
                #expect(got == expected, "\(vocab) \(key): \(text.debugDescription)")
            }
            let encoded = ids(c["ids_ap"])
            for (key, remove, unparse) in [("text_ru", true, true), ("text_r", true, false), ("text_u", false, true), ("text_", false, false)] {
                let expected = String(decoding: hexBytes(c[key] as? String ?? ""), as: UTF8.self)
                let got = tokenizer.decode(encoded, renderSpecial: unparse, removeSpecial: remove)
                if got != expected { ok = false }
                #expect(got == expected, "\(vocab) \(key): \(text.debugDescription)")
            }
            if ok { passed += 1 }
        }
        let pieces = try #require(golden["pieces"] as? [[Any]])
        for p in pieces {
            let id = try #require((p[0] as? NSNumber).map { TokenID(truncating: $0) })
            #expect(tokenizer.pieceBytes(id) == hexBytes(p[1] as? String ?? "x"), "\(vocab) piece \(id)")
            #expect(tokenizer.pieceBytes(id, renderSpecial: true) == hexBytes(p[2] as? String ?? "x"),
                    "\(vocab) special piece \(id)")
        }
        print("[tokenizer] \(vocab): \(passed)/\(cases.count) golden cases exact (4 tokenize + 4 detokenize modes each), \(pieces.count) pieces checked")
    }

    // MARK: SmolLM2 reference (scripts/make_reference.py)

    @Test("SmolLM2 reference token ids from llama.cpp")
    func smolLMReferenceIDs() throws {
        guard let tokenizer = try VocabFixtures.smolLM() else { return }
        let url = try #require(Bundle.module.url(forResource: "Fixtures/smollm2-reference", withExtension: "json"),
                               "Fixtures/smollm2-reference.json is missing")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(tokenizer.kindDescription == "byte-level BPE (gpt2, pre-tokenizer smollm)")
        var checked = 0
        for (key, parse) in [("tokenize", true), ("tokenize_plain", false)] {
            let cases = try #require(json[key] as? [[String: Any]], "no '\(key)' in the reference")
            #expect(!cases.isEmpty)
            for c in cases {
                let text = try #require(c["text"] as? String)
                let expected = ids(c["ids"])
                let got = tokenizer.encode(text, addSpecial: true, parseSpecial: parse)
                #expect(got == expected, "\(key): \(text.debugDescription)")
                // llama_detokenize(remove_special: false, unparse_special: true)
                let back = tokenizer.decode(expected, renderSpecial: true)
                #expect(back == (c["detokenized"] as? String ?? text), "\(key) detokenize: \(text.debugDescription)")
                checked += 1
            }
        }
        for c in json["detokenize"] as? [[String: Any]] ?? [] {
            let tokens = ids(c["ids"])
            #expect(tokenizer.decode(tokens, renderSpecial: true) == (c["text"] as? String))
            let pieces = (c["pieces_hex"] as? [String] ?? []).map(hexBytes)
            #expect(tokens.map { tokenizer.pieceBytes($0, renderSpecial: true) } == pieces)
        }
        print("[tokenizer] smollm2 reference: \(checked) tokenize cases checked")
    }

    // MARK: behaviour

    /// Without BOS: llama_detokenize strips SentencePiece's added space only from the first piece,
    /// and a leading BOS takes that strip (even with remove_special), leaving " Hello".
    @Test("decode(encode(text)) gives the text back", arguments: ["llama-spm", "qwen2", "phi-3"])
    func roundTrip(vocab: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(vocab)
        for (text, _) in try VocabFixtures.llamaCppCases(vocab) {
            let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            #expect(tokenizer.decode(ids) == text, "\(vocab): \(text.debugDescription)")
        }
        if tokenizer.addsBOS {
            #expect(tokenizer.decode(tokenizer.encode("Hello"), removeSpecial: true) == (vocab == "qwen2" ? "Hello" : " Hello"))
        }
    }

    @Test("the streaming detokenizer emits only whole characters and adds up to decode",
          arguments: VocabFixtures.names + ["tekken"])
    func streamingMatchesDecode(vocab: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(vocab)
        let golden = VocabFixtures.goldens[vocab] as? [String: Any]
        var texts = (golden?["cases"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        texts += ["🦙🚀 👨‍👩‍👧 你好，世界 한국어 ok ?", "I 'm here , you 're there . it 's a ' b ' c"]
        var sawSplitCharacter = false
        for text in texts {
            for renderSpecial in [false, true] {
                let ids = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
                var stream = StreamingDetokenizer(tokenizer: tokenizer, renderSpecial: renderSpecial, startsText: true)
                var joined = ""
                for id in ids {
                    let chunk = stream.append(id)
                    if !isValidUTF8(tokenizer.pieceBytes(id, renderSpecial: renderSpecial)) { sawSplitCharacter = true }
                    #expect(!chunk.unicodeScalars.contains("\u{FFFD}") || text.unicodeScalars.contains("\u{FFFD}"),
                            "\(vocab): broken UTF-8 emitted for \(text.debugDescription)")
                    joined += chunk
                }
                joined += stream.finish()
                #expect(joined == tokenizer.decode(ids, renderSpecial: renderSpecial), "\(vocab): \(text.debugDescription)")
            }
        }
        #expect(sawSplitCharacter, "\(vocab): no token split a character, so nothing was tested")
    }

    /// llama.cpp's completion prints every generated token with llama_token_to_piece: a first
    /// generated "▁word" after a SentencePiece prompt keeps its space; llama_detokenize of the whole
    /// text drops only the space in front of the prompt (Fixtures/synthetic/continuation.json).
    @Test("generated tokens keep the leading space of their first piece, as llama.cpp prints them")
    func continuationKeepsLeadingSpace() throws {
        for c in try ContinuationGolden.cases() {
            let model = try Tokenizer(gguf: GGUFFile(path: c.modelURL().path))
            #expect(model.encode(c.prompt) == c.promptIDs, "\(c.model): \(c.prompt)")
            var stream = StreamingDetokenizer(tokenizer: model)
            let streamed = c.generatedIDs.map { stream.append($0) }.joined() + stream.finish()
            #expect(streamed == c.text, "\(c.model): \(c.prompt)")
            #expect(streamed.first == " ")
            #expect(model.decode(c.promptIDs + c.generatedIDs) == c.detokenized, "\(c.model): \(c.prompt)")
            var whole = StreamingDetokenizer(tokenizer: model, startsText: true)
            let wholeText = (c.promptIDs + c.generatedIDs).map { whole.append($0) }.joined() + whole.finish()
            #expect(wholeText == c.detokenized)
        }
    }

    @Test("a token ending inside a character yields no text until the character is complete")
    func streamingHoldsPartialCharacters() throws {
        let tokenizer = try VocabFixtures.tokenizer("llama-spm")
        // "🦙" has no token in llama-spm: it becomes the byte tokens <0xF0> <0x9F> <0xA6> <0x99>
        let ids = tokenizer.encode("🦙", addSpecial: false)
        #expect(ids.map { tokenizer.pieceText($0) } == ["▁", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"])
        var stream = StreamingDetokenizer(tokenizer: tokenizer, startsText: true)
        #expect(ids.map { stream.append($0) } == ["", "", "", "", "🦙"])
        #expect(stream.finish() == "")

        var broken = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(broken.append(ids[1]) == "")
        #expect(broken.append(ids[2]) == "")
        #expect(broken.append(tokenizer.tokenID(forPiece: "a")!) == "\u{FFFD}a")
        #expect(broken.finish() == "")
    }

    @Test("cutting where safeCut says never changes what the clean-spaces passes produce")
    func cleanSpacesCutsAreSafe() {
        var rng = SplitMix64(seed: 7)
        let alphabet = Array(" '?!.,sremvx".utf8)
        for _ in 0..<20_000 {
            let text = (0..<Int(rng.next() % 30 + 1)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            var whole = text
            cleanSpaces(&whole)
            for length in 1...text.count {
                let cut = StreamingDetokenizer.safeCut(Array(text[..<length]))
                var left = Array(text[..<cut]), right = Array(text[cut...])
                cleanSpaces(&left)
                cleanSpaces(&right)
                #expect(left + right == whole, "cut \(cut) of \(String(decoding: text, as: UTF8.self).debugDescription)")
            }
        }
    }

    @Test("streaming with clean-spaces vocabularies does not hold text back needlessly")
    func streamingCleanSpacesIsProgressive() throws {
        let tokenizer = try VocabFixtures.tokenizer("llama-bpe")
        let ids = tokenizer.encode("1 2 3 4 5 6 7 8 9 and I 'm done .", addSpecial: false)
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        var chunks = ids.map { stream.append($0) }
        chunks.append(stream.finish())
        #expect(chunks.joined() == "1 2 3 4 5 6 7 8 9 and I'm done.")
        // by the time "9" has been fed, everything before it has been released
        let nine = try #require(ids.firstIndex { tokenizer.pieceBytes($0).contains(UInt8(ascii: "9")) })
        #expect(chunks.prefix(nine + 1).joined().hasPrefix("1 2 3 4 5 6 7 8 "))
    }

    @Test("special tokens are parsed only when asked, user-defined ones always")
    func specialTokenParsing() throws {
        let qwen = try VocabFixtures.tokenizer("qwen2")
        let imStart = try #require(qwen.tokenID(forPiece: "<|im_start|>"))
        let parsed = qwen.encode("<|im_start|>user", addSpecial: false, parseSpecial: true)
        #expect(parsed.first == imStart)
        let plain = qwen.encode("<|im_start|>user", addSpecial: false, parseSpecial: false)
        #expect(!plain.contains(imStart))
        #expect(qwen.decode(plain) == "<|im_start|>user")
        #expect(qwen.decode(parsed) == "user")
        #expect(qwen.decode(parsed, renderSpecial: true) == "<|im_start|>user")

        let spm = try VocabFixtures.tokenizer("llama-spm")
        #expect(spm.encode("<s>hi", addSpecial: false, parseSpecial: true).first == 1)
        #expect(!spm.encode("<s>hi", addSpecial: false, parseSpecial: false).contains(1))

        let llama3 = try VocabFixtures.tokenizer("llama-bpe")
        let eot = try #require(llama3.tokenID(forPiece: "<|eot_id|>"))
        #expect(llama3.isEndOfGeneration(eot))
        #expect(llama3.encode("a<|eot_id|>", addSpecial: false) == [llama3.tokenID(forPiece: "a")!, eot])
    }

    @Test("BOS is added as the vocabulary says")
    func bosHonoured() throws {
        let spm = try VocabFixtures.tokenizer("llama-spm")
        #expect(spm.addsBOS && spm.bos == 1)
        #expect(spm.encode("Hello").first == 1)
        #expect(spm.encode("Hello", addSpecial: false).first != 1)
        #expect(spm.encode("") == [1])
        #expect(spm.encode("", addSpecial: false) == [])

        let llama3 = try VocabFixtures.tokenizer("llama-bpe")
        #expect(llama3.addsBOS && llama3.bos == 128000)
        #expect(llama3.encode("Hello").first == 128000)

        let gpt2 = try VocabFixtures.tokenizer("gpt-2")
        #expect(!gpt2.addsBOS)
        #expect(gpt2.encode("Hello") == gpt2.encode("Hello", addSpecial: false))
    }

    @Test("kind descriptions name the model and pre-tokenizer")
    func kindDescriptions() throws {
        #expect(try VocabFixtures.tokenizer("llama-spm").kindDescription == "SentencePiece BPE (llama)")
        #expect(try VocabFixtures.tokenizer("qwen2").kindDescription == "byte-level BPE (gpt2, pre-tokenizer qwen2)")
        #expect(try VocabFixtures.tokenizer("llama-bpe").kindDescription == "byte-level BPE (gpt2, pre-tokenizer llama-bpe)")
    }

    @Test("encoding a few KB of text takes milliseconds", arguments: VocabFixtures.names)
    func encodingIsFast(vocab: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(vocab)
        let cases = try VocabFixtures.llamaCppCases(vocab).map(\.text).joined(separator: "\n")
        var text = ""
        while text.utf8.count < 8192 { text += cases + "\n" }
        _ = tokenizer.encode(text)  // warm the word cache as a chat session would be
        let clock = ContinuousClock()
        var count = 0
        tokenizer.clearWordCache()
        let cold = clock.measure { count = tokenizer.encode(text).count }
        let warm = clock.measure { count = tokenizer.encode(text).count }
        let ms = { (d: Duration) in Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3 }
        print("[tokenizer] \(vocab): \(text.utf8.count) bytes -> \(count) tokens in \(String(format: "%.2f", ms(cold))) ms (fresh), \(String(format: "%.2f", ms(warm))) ms (cached words)")
        #expect(ms(cold) < 200)
    }

    @Test("loading a vocabulary takes well under a second", arguments: VocabFixtures.names)
    func loadingIsQuick(vocab: String) throws {
        let url = try #require(VocabFixtures.fixtureURL("ggml-vocab-\(vocab).gguf"))
        let clock = ContinuousClock()
        var tokenizer: Tokenizer?
        let elapsed = try clock.measure { tokenizer = try Tokenizer(gguf: GGUFFile(path: url.path)) }
        let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        print("[tokenizer] \(vocab): loaded \(tokenizer?.vocabularySize ?? 0) tokens in \(String(format: "%.0f", ms)) ms")
        #expect(ms < 3000)
    }

    // MARK: errors

    private func tokenizer(_ metadata: [(String, GGUFTestWriter.Value)]) throws -> Tokenizer {
        var writer = GGUFTestWriter()
        writer.metadata = metadata
        let path = GGUFTestWriter.write(writer.build().bytes, name: "tokenizer")
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Tokenizer(gguf: GGUFFile(path: path))
    }

    private func error(_ metadata: [(String, GGUFTestWriter.Value)]) -> TokenizerError? {
        do {
            _ = try tokenizer(metadata)
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("bad vocabularies give errors that name the file and the problem")
    func errorsNameTheProblem() throws {
        let unknown = try #require(error([("tokenizer.ggml.model", .string("xyz")), ("tokenizer.ggml.tokens", .strings(["a"]))]))
        guard case .unknownModel(_, "xyz") = unknown else { Issue.record("got \(unknown)"); return }
        #expect(unknown.description.contains("unknown tokenizer model \"xyz\" (supported: \"llama\", \"gpt2\")"))
        #expect(unknown.description.contains("sirocco-tokenizer-"))

        let noTokens = try #require(error([("tokenizer.ggml.model", .string("llama"))]))
        #expect(noTokens == .missingKey(file: noTokens.file, key: "tokenizer.ggml.tokens"))

        let noModel = try #require(error([("tokenizer.ggml.tokens", .strings(["a"]))]))
        #expect(noModel == .missingKey(file: noModel.file, key: "tokenizer.ggml.model"))

        let noMerges = try #require(error([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(["a", "b"]))]))
        #expect(noMerges == .missingMerges(file: noMerges.file))

        let badMerge = try #require(error([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(["a", "b", "ab"])),
                                           ("tokenizer.ggml.merges", .strings(["a b", "ab"]))]))
        #expect(badMerge == .badMerge(file: badMerge.file, index: 1, text: "ab"))

        let scores = try #require(error([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(["a", "b"])),
                                         ("tokenizer.ggml.scores", .f32s([0]))]))
        #expect(scores == .countMismatch(file: scores.file, key: "tokenizer.ggml.scores", expected: 2, actual: 1))
        #expect(scores.description.hasSuffix("'tokenizer.ggml.scores' has 1 entries but the vocabulary has 2 tokens"))

        let types = try #require(error([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(["a", "b"])),
                                        ("tokenizer.ggml.token_type", .strings(["x", "y"]))]))
        #expect(types == .wrongType(file: types.file, key: "tokenizer.ggml.token_type", expected: "an array of integers"))
    }

    @Test("an unknown pre-tokenizer falls back to llama.cpp's default split")
    func unknownPreTokenizerFallsBack() throws {
        // "Ġ" is the byte-level spelling of a space
        let tokenizer = try tokenizer([
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("brand-new")),
            ("tokenizer.ggml.tokens", .strings(["a", "b", "ab", "Ġ", "Ġab", "1", "2", "3", "12", "123", "!"])),
            ("tokenizer.ggml.merges", .strings(["a b", "Ġ ab", "1 2", "12 3"])),
        ])
        #expect(tokenizer.kindDescription == "byte-level BPE (gpt2, pre-tokenizer brand-new, using the default split)")
        #expect(tokenizer.encode("ab ab!") == [2, 4, 10])
        // the default split cuts digits into groups of three: 1231 -> 123 | 1
        #expect(tokenizer.encode("1231") == [9, 5])
        #expect(tokenizer.decode([2, 4, 10]) == "ab ab!")
    }
}

private extension TokenizerError {
    var file: String {
        switch self {
        case let .missingKey(file, _), let .wrongType(file, _, _), let .emptyVocabulary(file), let .unknownModel(file, _),
             let .missingMerges(file), let .badMerge(file, _, _), let .countMismatch(file, _, _, _):
            return file
        }
    }
}

/// llama.cpp's greedy continuations of raw prompts on synthetic SentencePiece models
/// (scripts/make_continuation_golden.py).
struct ContinuationGolden: Decodable {
    let model: String
    let prompt: String
    let promptIDs: [TokenID]
    let generatedIDs: [TokenID]
    let text: String
    let detokenized: String

    enum CodingKeys: String, CodingKey {
        case model, prompt, text, detokenized
        case promptIDs = "prompt_ids", generatedIDs = "generated_ids"
    }

    func modelURL() throws -> URL {
        try fixtureURL("Fixtures/synthetic/" + (model as NSString).deletingPathExtension, "gguf")
    }

    static func cases() throws -> [ContinuationGolden] {
        struct File: Decodable { let cases: [ContinuationGolden] }
        let url = try fixtureURL("Fixtures/synthetic/continuation", "json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }
}
