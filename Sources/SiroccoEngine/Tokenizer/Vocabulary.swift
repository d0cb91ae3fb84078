// Vocabulary: the tokenizer data of a GGUF file (tokens, scores, types, special ids and flags) read
// and completed exactly as llama.cpp's llama_vocab::impl::load does: per-model defaults, the
// text-based detection of end-of-turn/FIM tokens, the end-of-generation set, the special-token
// list used for partitioning, and the per-token piece bytes of llama_token_to_piece.
// It never tokenizes; BytePairEncoder and SentencePieceEncoder do.

/// llama.cpp's llama_token_attr bits.
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    static let normalized = TokenAttributes(rawValue: 1 << 6)
    static let lstrip = TokenAttributes(rawValue: 1 << 7)
    static let rstrip = TokenAttributes(rawValue: 1 << 8)
    static let singleWord = TokenAttributes(rawValue: 1 << 9)

    /// From a `tokenizer.ggml.token_type` value (llama_token_type).
    init(tokenType: Int) {
        switch tokenType {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []  // undefined
        }
    }

    init(rawValue: UInt16) { self.rawValue = rawValue }
}

/// The two tokenizer algorithms Sirocco implements.
enum VocabularyKind: Sendable {
    /// `tokenizer.ggml.model` "llama": SentencePiece-style merging by score, with byte fallback.
    case sentencePiece
    /// `tokenizer.ggml.model` "gpt2": byte-level BPE by merge rank after a regex pre-split.
    case bytePairs
}

/// GGUF keys the tokenizer reads that GGUFKey does not list (names as in llama-arch.cpp).
private enum ExtraKey {
    static let fimPre = "tokenizer.ggml.fim_pre_token_id"
    static let fimSuf = "tokenizer.ggml.fim_suf_token_id"
    static let fimMid = "tokenizer.ggml.fim_mid_token_id"
    static let fimPad = "tokenizer.ggml.fim_pad_token_id"
    static let fimRep = "tokenizer.ggml.fim_rep_token_id"
    static let fimSep = "tokenizer.ggml.fim_sep_token_id"
    static let prefix = "tokenizer.ggml.prefix_token_id"  // deprecated spellings of fim_pre/suf/mid
    static let suffix = "tokenizer.ggml.suffix_token_id"
    static let middle = "tokenizer.ggml.middle_token_id"
}

/// Token texts llama.cpp recognises without metadata (llama_vocab::impl::load).
private enum SpecialTexts {
    static let endOfTurn: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
        "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    static let endOfMessage: Set<String> = ["<|eom_id|>"]
    static let fimPre: Set<String> = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
        "<|prefix|>",
    ]
    static let fimSuf: Set<String> = [
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
        "<|suffix|>",
    ]
    static let fimMid: Set<String> = [
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
        "<|middle|>",
    ]
    static let fimPad: Set<String> = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRep: Set<String> = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
    static let fimSep: Set<String> = ["<|file_sep|>"]
    static let endOfGeneration: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]
    /// gpt-oss (harmony) tokens llama.cpp always renders.
    static let alwaysRendered: Set<String> = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]
}

struct Vocabulary: Sendable {
    let file: String
    let kind: VocabularyKind
    let modelName: String
    /// Only meaningful for byte-level BPE.
    let preTokenizer: PreTokenizer
    let texts: [String]
    let scores: [Float]
    private(set) var attributes: [TokenAttributes]
    let table: ByteStringTable

    private(set) var bos: TokenID?
    private(set) var eos: TokenID?
    private(set) var eot: TokenID?
    private(set) var eom: TokenID?
    private(set) var unknown: TokenID?
    private(set) var padding: TokenID?
    private(set) var addsBOS: Bool
    private(set) var addsEOS: Bool
    /// SentencePiece: prefix the first fragment (and any after a special token) with a space;
    /// detokenizing strips one leading space of the first piece.
    private(set) var addsSpacePrefix: Bool
    let cleansSpaces: Bool
    private(set) var endOfGeneration: Set<TokenID> = []
    /// Control, user-defined and unknown tokens, longest text first (tokenizer_st_partition order).
    private(set) var specialTokens: [TokenID] = []
    /// `<0xXX>` token (or the byte's own one-character token) for each byte; SentencePiece only.
    private(set) var byteTokens: [TokenID?] = []

    private var pieceArena: [UInt8] = []
    private var pieceStart: [Int32] = []

    var count: Int { texts.count }

    init(gguf: GGUFFile) throws(TokenizerError) {
        let file = gguf.path
        self.file = file
        guard let model = gguf.string(GGUFKey.tokenizerModel) else {
            if gguf.metadata[GGUFKey.tokenizerModel] != nil {
                throw .wrongType(file: file, key: GGUFKey.tokenizerModel, expected: "a string")
            }
            throw .missingKey(file: file, key: GGUFKey.tokenizerModel)
        }
        switch model {
        case "llama": kind = .sentencePiece
        case "gpt2": kind = .bytePairs
        default: throw .unknownModel(file: file, model: model)
        }
        modelName = model
        preTokenizer = PreTokenizer.named(gguf.string(GGUFKey.tokenizerPre))

        // tokens, scores, types
        guard let tokenValues = gguf.metadata[GGUFKey.tokens] else {
            throw .missingKey(file: file, key: GGUFKey.tokens)
        }
        guard let tokenArray = tokenValues.arrayValue else {
            throw .wrongType(file: file, key: GGUFKey.tokens, expected: "an array of strings")
        }
        var texts: [String] = []
        texts.reserveCapacity(tokenArray.count)
        for (i, value) in tokenArray.enumerated() {
            guard let text = value.stringValue else {
                throw .wrongType(file: file, key: GGUFKey.tokens, expected: "an array of strings")
            }
            texts.append(text.isEmpty ? "[EMPTY_\(i)]" : text)
        }
        guard !texts.isEmpty else { throw .emptyVocabulary(file: file) }
        guard texts.count < Int(Int32.max) else {
            throw .countMismatch(file: file, key: GGUFKey.tokens, expected: Int(Int32.max), actual: texts.count)
        }
        let n = texts.count
        self.texts = texts

        if let value = gguf.metadata[GGUFKey.tokenScores] {
            guard let array = value.arrayValue else {
                throw .wrongType(file: file, key: GGUFKey.tokenScores, expected: "an array of numbers")
            }
            let scores = array.compactMap(\.floatValue)
            guard scores.count == array.count else {
                throw .wrongType(file: file, key: GGUFKey.tokenScores, expected: "an array of numbers")
            }
            guard scores.count >= n else {
                throw .countMismatch(file: file, key: GGUFKey.tokenScores, expected: n, actual: scores.count)
            }
            self.scores = Array(scores.prefix(n))
        } else {
            self.scores = [Float](repeating: 0, count: n)
        }

        if let value = gguf.metadata[GGUFKey.tokenTypes] {
            guard let array = value.arrayValue else {
                throw .wrongType(file: file, key: GGUFKey.tokenTypes, expected: "an array of integers")
            }
            let types = array.compactMap(\.intValue)
            guard types.count == array.count else {
                throw .wrongType(file: file, key: GGUFKey.tokenTypes, expected: "an array of integers")
            }
            guard types.count >= n else {
                throw .countMismatch(file: file, key: GGUFKey.tokenTypes, expected: n, actual: types.count)
            }
            attributes = types.prefix(n).map { TokenAttributes(tokenType: $0) }
        } else {
            attributes = [TokenAttributes](repeating: .normal, count: n)
        }

        var table = ByteStringTable(capacity: n)
        for (i, text) in texts.enumerated() { table.insert(text, value: Int32(i)) }
        self.table = table

        // per-model defaults (llama.cpp: "determine vocab type")
        switch kind {
        case .sentencePiece:
            bos = 1
            eos = 2
            unknown = 0
            addsBOS = true
            addsEOS = false
            addsSpacePrefix = true
            cleansSpaces = false
        case .bytePairs:
            bos = preTokenizer.clearsBOS ? nil : 11
            eos = 11
            unknown = nil
            addsBOS = preTokenizer.addsBOSByDefault
            addsEOS = false
            addsSpacePrefix = false
            cleansSpaces = preTokenizer.cleanSpaces
        }
        if let value = gguf.bool(GGUFKey.addSpacePrefix) { addsSpacePrefix = value }

        // special token ids: default, then the file's value when it is in range
        func specialID(_ key: String, default fallback: TokenID?) -> TokenID? {
            var id = fallback
            if let d = id, Int(d) >= n { id = nil }
            if let v = gguf.int(key), v >= 0, v < n { id = TokenID(v) }
            return id
        }
        bos = specialID(GGUFKey.bosID, default: bos)
        eos = specialID(GGUFKey.eosID, default: eos)
        eot = specialID(GGUFKey.eotID, default: nil)
        eom = specialID(GGUFKey.eomID, default: nil)
        unknown = specialID(GGUFKey.unknownID, default: unknown)
        padding = specialID(GGUFKey.paddingID, default: nil)
        var fimPre = specialID(ExtraKey.fimPre, default: nil)
        var fimSuf = specialID(ExtraKey.fimSuf, default: nil)
        var fimMid = specialID(ExtraKey.fimMid, default: nil)
        var fimPad = specialID(ExtraKey.fimPad, default: nil)
        var fimRep = specialID(ExtraKey.fimRep, default: nil)
        var fimSep = specialID(ExtraKey.fimSep, default: nil)
        fimPre = specialID(ExtraKey.prefix, default: fimPre)
        fimSuf = specialID(ExtraKey.suffix, default: fimSuf)
        fimMid = specialID(ExtraKey.middle, default: fimMid)

        if let value = gguf.bool(GGUFKey.addBOS) { addsBOS = value }
        if let value = gguf.bool(GGUFKey.addEOS) { addsEOS = value }

        // Tokens recognised by their text. llama.cpp takes the first it meets in a hash map; with
        // several candidates we take the lowest id. Each one found is forced to be a control token.
        func detect(_ id: inout TokenID?, _ candidates: Set<String>) {
            guard id == nil, let found = candidates.compactMap({ table.lookup($0) }).min() else { return }
            id = found
            attributes[Int(found)].insert(.control)
        }
        detect(&eot, SpecialTexts.endOfTurn)
        detect(&eom, SpecialTexts.endOfMessage)
        detect(&fimPre, SpecialTexts.fimPre)
        detect(&fimSuf, SpecialTexts.fimSuf)
        detect(&fimMid, SpecialTexts.fimMid)
        detect(&fimPad, SpecialTexts.fimPad)
        detect(&fimRep, SpecialTexts.fimRep)
        detect(&fimSep, SpecialTexts.fimSep)

        // end-of-generation set
        var eog = Set<TokenID>()
        for id in [fimPad, fimRep, fimSep] { if let id { eog.insert(id) } }
        for text in SpecialTexts.endOfGeneration {
            guard let id = table.lookup(text) else { continue }
            eog.insert(id)
            attributes[Int(id)].insert(.control)
        }
        for text in SpecialTexts.alwaysRendered {
            if let id = table.lookup(text) { attributes[Int(id)] = .userDefined }
        }
        for id in [eos, eot, eom] { if let id { eog.insert(id) } }
        // harmony / solar-open: "<|end|>" ends a message, not the generation
        let eogTexts = Set(eog.map { texts[Int($0)] })
        let hasCall = eogTexts.contains("<|call|>") || eogTexts.contains("<|calls|>")
        if eogTexts.contains("<|end|>") && hasCall && (eogTexts.contains("<|return|>") || eogTexts.contains("<|flush|>")) {
            for id in eog where texts[Int(id)] == "<|end|>" {
                eog.remove(id)
                attributes[Int(id)] = .userDefined
            }
        }
        // gemma4 / plamo: "</s>" is an ordinary token
        if eogTexts.contains("<|tool_response>") || eogTexts.contains("<|plamo:eos|>") {
            for id in eog where texts[Int(id)] == "</s>" {
                eog.remove(id)
                attributes[Int(id)] = .normal
            }
        }
        endOfGeneration = eog

        // special tokens, longest first
        let specialMask: TokenAttributes = [.control, .userDefined, .unknown]
        specialTokens = (0..<n).filter { !attributes[$0].isDisjoint(with: specialMask) }
            .sorted { a, b in
                let la = texts[a].utf8.count, lb = texts[b].utf8.count
                return la != lb ? la > lb : a < b
            }
            .map { TokenID($0) }

        // pieces (llama_token_to_piece with special = true)
        pieceStart.reserveCapacity(n + 1)
        for i in 0..<n {
            pieceStart.append(Int32(pieceArena.count))
            pieceArena.append(contentsOf: Vocabulary.piece(text: texts[i], attributes: attributes[i], kind: kind))
        }
        pieceStart.append(Int32(pieceArena.count))

        // per-token strip attributes llama.cpp sets by model name
        let lowerName = String((gguf.string(GGUFKey.name) ?? "").lowercased())
        let pre = gguf.string(GGUFKey.tokenizerPre) ?? ""
        let arch = gguf.string(GGUFKey.architecture) ?? ""
        func setAttribute(_ text: String, _ attribute: TokenAttributes, _ on: Bool) {
            guard let id = table.lookup(text) else { return }
            if on { attributes[Int(id)].insert(attribute) } else { attributes[Int(id)].remove(attribute) }
        }
        if ["jina-v2-de", "jina-v2-es", "jina-v2-code"].contains(where: { pre.contains($0) })
            || ["nomic-bert-moe", "jina-bert-v3"].contains(where: { arch.contains($0) }) {
            setAttribute("<mask>", .lstrip, true)
        } else if lowerName.contains("phi-3") || lowerName.contains("phi3") {
            for id in specialTokens { attributes[Int(id)].insert(.rstrip) }
            setAttribute("</s>", .rstrip, true)
            for text in ["<unk>", "<s>", "<|endoftext|>"] { setAttribute(text, .rstrip, false) }
        } else if lowerName.contains("modern-bert") {
            setAttribute("[MASK]", .lstrip, true)
        }

        if kind == .sentencePiece {
            byteTokens = (0..<256).map { b in
                let hex = Array("0123456789ABCDEF".utf8)
                let spelled: [UInt8] = [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]  // <0xXX>
                if let id = table.lookup(spelled) { return id }
                return b < 0x80 ? table.lookup([UInt8(b)]) : nil
            }
        }
    }

    /// llama_token_to_piece(special: true) for one token.
    private static func piece(text: String, attributes: TokenAttributes, kind: VocabularyKind) -> [UInt8] {
        if !attributes.isDisjoint(with: [.unknown, .control, .userDefined]) {
            return Array(text.utf8)
        }
        if attributes.contains(.normal) {
            switch kind {
            case .sentencePiece:
                return unescapeWhitespace(Array(text.utf8))
            case .bytePairs:
                return ByteLevelMapping.decode(text)
            }
        }
        if attributes.contains(.byte) {
            // strtol(text.substr(3, 2), 16)
            let bytes = Array(text.utf8)
            var value = 0
            for b in bytes.dropFirst(3).prefix(2) {
                guard let digit = hexDigit(b) else { break }
                value = value * 16 + digit
            }
            return [UInt8(truncatingIfNeeded: value)]
        }
        return []
    }

    private static func hexDigit(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return nil
        }
    }

    /// The bytes llama_token_to_piece gives for `id` (with lstrip 0); control and unknown tokens
    /// are empty unless `renderSpecial`.
    func withPiece<R>(_ id: TokenID, renderSpecial: Bool, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let i = Int(id)
        guard i >= 0 && i < texts.count,
              renderSpecial || attributes[i].isDisjoint(with: [.unknown, .control]) else {
            return body(UnsafeBufferPointer(start: nil, count: 0))
        }
        return pieceArena.withUnsafeBufferPointer {
            body(UnsafeBufferPointer(rebasing: $0[Int(pieceStart[i])..<Int(pieceStart[i + 1])]))
        }
    }

    func attributes(of id: TokenID) -> TokenAttributes {
        let i = Int(id)
        return i >= 0 && i < attributes.count ? attributes[i] : []
    }
}

/// SentencePiece's "▁" (U+2581, E2 96 81) back to a space, byte for byte.
func unescapeWhitespace(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
        if i + 2 < bytes.count && bytes[i] == 0xE2 && bytes[i + 1] == 0x96 && bytes[i + 2] == 0x81 {
            out.append(0x20)
            i += 3
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return out
}
