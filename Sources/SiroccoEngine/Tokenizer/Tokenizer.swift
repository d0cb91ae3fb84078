// Tokenizer: text <-> token ids for a GGUF model, token-exact with llama.cpp's llama_tokenize,
// llama_token_to_piece and llama_detokenize. Special tokens are cut out first
// (tokenizer_st_partition); the text between them goes to the SentencePiece or byte-level BPE
// encoder. It never normalizes or trims the text it is given.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A token id, as llama.cpp's llama_token.
public typealias TokenID = Int32

/// Converts between text and the token ids of one model's vocabulary.
public final class Tokenizer: @unchecked Sendable {
    let vocabulary: Vocabulary
    private let bytePairs: BytePairEncoder?
    private let sentencePiece: SentencePieceEncoder?

    /// Reads the vocabulary of `gguf`; throws `TokenizerError` if it is missing, corrupt or of an unsupported kind.
    public init(gguf: GGUFFile) throws(TokenizerError) {
        let vocabulary = try Vocabulary(gguf: gguf)
        self.vocabulary = vocabulary
        switch vocabulary.kind {
        case .sentencePiece:
            sentencePiece = SentencePieceEncoder(vocabulary: vocabulary)
            bytePairs = nil
        case .bytePairs:
            guard let value = gguf.metadata[GGUFKey.merges] else { throw .missingMerges(file: gguf.path) }
            guard let array = value.arrayValue else {
                throw .wrongType(file: gguf.path, key: GGUFKey.merges, expected: "an array of strings")
            }
            var merges: [String] = []
            merges.reserveCapacity(array.count)
            for v in array {
                guard let s = v.stringValue else {
                    throw .wrongType(file: gguf.path, key: GGUFKey.merges, expected: "an array of strings")
                }
                merges.append(s)
            }
            bytePairs = try BytePairEncoder(vocabulary: vocabulary, merges: merges)
            sentencePiece = nil
        }
    }

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { vocabulary.count }

    /// What kind of tokenizer this is, for `sirocco info`: "byte-level BPE (gpt2, pre-tokenizer smollm)".
    public var kindDescription: String {
        switch vocabulary.kind {
        case .sentencePiece:
            return "SentencePiece BPE (\(vocabulary.modelName))"
        case .bytePairs:
            let pre = vocabulary.preTokenizer
            let split = pre.isImplemented ? pre.name : "\(pre.name), using the default split"
            return "byte-level BPE (\(vocabulary.modelName), pre-tokenizer \(split))"
        }
    }

    /// Beginning-of-sequence token, if the vocabulary has one.
    public var bos: TokenID? { vocabulary.bos }
    /// End-of-sequence token, if the vocabulary has one.
    public var eos: TokenID? { vocabulary.eos }
    /// Whether `encode(_:addSpecial: true)` starts with BOS.
    public var addsBOS: Bool { vocabulary.addsBOS && vocabulary.bos != nil }
    /// Whether `encode(_:addSpecial: true)` ends with EOS.
    public var addsEOS: Bool { vocabulary.addsEOS && vocabulary.eos != nil }

    /// Tokens that end generation (llama_vocab_is_eog): EOS, EOT, EOM and the end-of-turn tokens found by text.
    public var endOfGenerationTokens: Set<TokenID> { vocabulary.endOfGeneration }

    /// Whether generating `t` ends the reply.
    public func isEndOfGeneration(_ t: TokenID) -> Bool { vocabulary.endOfGeneration.contains(t) }

    /// The vocabulary token whose stored text is exactly `text`.
    public func tokenID(forPiece text: String) -> TokenID? { vocabulary.table.lookup(text) }

    /// The vocabulary string of `t` as stored in the file ("Ġhello", "▁hello", "<0x0A>").
    public func pieceText(_ t: TokenID) -> String {
        let i = Int(t)
        return i >= 0 && i < vocabulary.count ? vocabulary.texts[i] : ""
    }

    // MARK: encoding

    /// Token ids of `text`, as llama_tokenize(add_special: `addSpecial`, parse_special: `parseSpecial`).
    /// `addSpecial` adds BOS/EOS as the vocabulary asks; `parseSpecial` lets control tokens written in
    /// the text ("<|im_start|>") become those tokens (user-defined tokens always do).
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [TokenID] {
        var text = text
        return text.withUTF8 { encode(bytes: $0, addSpecial: addSpecial, parseSpecial: parseSpecial) }
    }

    private enum Fragment {
        case text(Range<Int>)
        case token(TokenID)
    }

    private func encode(bytes: UnsafeBufferPointer<UInt8>, addSpecial: Bool, parseSpecial: Bool) -> [TokenID] {
        let fragments = partition(bytes, parseSpecial: parseSpecial)
        var output: [TokenID] = []
        output.reserveCapacity(bytes.count / 3 + 4)

        if addSpecial && vocabulary.addsBOS, let bos = vocabulary.bos { output.append(bos) }
        switch vocabulary.kind {
        case .sentencePiece:
            var afterSpecial = true  // the first fragment gets a space prefix too
            var escaped: [UInt8] = []
            for fragment in fragments {
                switch fragment {
                case let .text(range):
                    escaped.removeAll(keepingCapacity: true)
                    if vocabulary.addsSpacePrefix && afterSpecial { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) }
                    for b in bytes[range] {
                        if b == 0x20 { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) } else { escaped.append(b) }
                    }
                    sentencePiece!.encode(escaped, into: &output)
                    afterSpecial = false
                case let .token(id):
                    output.append(id)
                    afterSpecial = true
                }
            }
        case .bytePairs:
            var scratch = BytePairEncoder.Scratch()
            for fragment in fragments {
                switch fragment {
                case let .text(range):
                    encodeBytePairs(UnsafeBufferPointer(rebasing: bytes[range]), scratch: &scratch, into: &output)
                case let .token(id):
                    output.append(id)
                }
            }
        }
        if addSpecial && vocabulary.addsEOS, let eos = vocabulary.eos { output.append(eos) }
        return output
    }

    /// Pre-tokenizes one fragment of valid UTF-8 and merges each word.
    private func encodeBytePairs(_ bytes: UnsafeBufferPointer<UInt8>, scratch: inout BytePairEncoder.Scratch,
                                 into output: inout [TokenID]) {
        var scalars: [UInt32] = []
        var offsets: [Int] = []
        scalars.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            let length = min(utf8SequenceLength(lead), bytes.count - i)
            var value: UInt32
            switch length {
            case 1: value = UInt32(lead)
            case 2: value = UInt32(lead & 0x1F)
            case 3: value = UInt32(lead & 0x0F)
            default: value = UInt32(lead & 0x07)
            }
            for k in 1..<max(length, 1) { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
            scalars.append(value)
            offsets.append(i)
            i += length
        }
        offsets.append(bytes.count)
        let flags = scalars.map(CodepointFlags.of)
        let ends = vocabulary.preTokenizer.split(scalars, flags)
        let raw = UnsafeRawBufferPointer(bytes)
        var start = 0
        for end in ends {
            let word = UnsafeRawBufferPointer(rebasing: raw[offsets[start]..<offsets[end]])
            bytePairs!.encode(word: word, scratch: &scratch, into: &output)
            start = end
        }
    }

    /// Cuts the special tokens out of the text, longest first (llama.cpp's tokenizer_st_partition).
    private func partition(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        guard bytes.count > 0 else { return [] }
        var fragments: [Fragment] = [.text(0..<bytes.count)]
        let base = bytes.baseAddress!
        for id in vocabulary.specialTokens {
            let attributes = vocabulary.attributes(of: id)
            if !parseSpecial && !attributes.isDisjoint(with: [.control, .unknown]) { continue }
            var pattern = vocabulary.texts[Int(id)]
            let found: [Fragment]? = pattern.withUTF8 { pattern in
                let length = pattern.count
                guard length > 0, find(pattern, in: base, count: bytes.count) != nil else { return nil }
                var result: [Fragment] = []
                result.reserveCapacity(fragments.count + 2)
                for fragment in fragments {
                    guard case let .text(range) = fragment else {
                        result.append(fragment)
                        continue
                    }
                    var lo = range.lowerBound
                    let hi = range.upperBound
                    while lo < hi, let offset = find(pattern, in: base + lo, count: hi - lo) {
                        let match = lo + offset
                        var leftEnd = match
                        if attributes.contains(.lstrip) {
                            while leftEnd > lo && isCSpace(bytes[leftEnd - 1]) { leftEnd -= 1 }
                        }
                        if leftEnd > lo { result.append(.text(lo..<leftEnd)) }
                        result.append(.token(id))
                        lo = match + length
                        if attributes.contains(.rstrip) {
                            while lo < hi && isCSpace(bytes[lo]) { lo += 1 }
                        }
                    }
                    if lo < hi { result.append(.text(lo..<hi)) }
                }
                return result
            }
            if let found { fragments = found }
        }
        return fragments
    }

    // MARK: decoding

    /// The bytes of one token as llama_token_to_piece(lstrip: 0, special: `renderSpecial`):
    /// control and unknown tokens give no bytes unless `renderSpecial`.
    public func pieceBytes(_ t: TokenID, renderSpecial: Bool = false) -> [UInt8] {
        vocabulary.withPiece(t, renderSpecial: renderSpecial) { Array($0) }
    }

    /// Text of `ids` as llama_detokenize(remove_special: `removeSpecial`, unparse_special: `renderSpecial`):
    /// `ids` are a whole text, so SentencePiece's added space leaves the first piece; tokens that
    /// continue a prompt go through `StreamingDetokenizer`. Invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [TokenID], renderSpecial: Bool = false, removeSpecial: Bool = false) -> String {
        var ids = ids[...]
        var stripSpace = vocabulary.addsSpacePrefix
        if removeSpecial && vocabulary.addsBOS, let first = ids.first, first == vocabulary.bos {
            stripSpace = false
            ids = ids.dropFirst()
        }
        if removeSpecial && vocabulary.addsEOS, let last = ids.last, last == vocabulary.eos {
            ids = ids.dropLast()
        }
        var bytes: [UInt8] = []
        for id in ids {
            appendPiece(id, renderSpecial: renderSpecial, stripLeadingSpace: stripSpace, to: &bytes)
            stripSpace = false
        }
        if vocabulary.cleansSpaces { cleanSpaces(&bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the piece of `t`, dropping one leading space if asked (llama_token_to_piece's lstrip).
    func appendPiece(_ t: TokenID, renderSpecial: Bool, stripLeadingSpace: Bool, to bytes: inout [UInt8]) {
        vocabulary.withPiece(t, renderSpecial: renderSpecial) { piece in
            var piece = piece[...]
            if stripLeadingSpace, piece.first == 0x20 { piece = piece.dropFirst() }
            bytes.append(contentsOf: piece)
        }
    }

    /// Forgets the merged words remembered so far (for timing without the cache).
    func clearWordCache() { bytePairs?.clearCache() }

    /// Whether detokenizing removes spaces before punctuation and contractions (clean_up_tokenization_spaces).
    var cleansSpaces: Bool { vocabulary.cleansSpaces }
    /// Whether detokenizing drops the first piece's leading space.
    var stripsFirstSpace: Bool { vocabulary.addsSpacePrefix }
}

/// Offset of the first occurrence of `needle` in `count` bytes at `haystack`.
private func find(_ needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafePointer<UInt8>, count: Int) -> Int? {
    let length = needle.count
    guard length > 0, length <= count else { return nil }
    let first = Int32(needle[0])
    var offset = 0
    let last = count - length
    while offset <= last {
        guard let hit = memchr(haystack + offset, first, last - offset + 1) else { return nil }
        let at = UnsafeRawPointer(hit) - UnsafeRawPointer(haystack)
        if memcmp(haystack + at, needle.baseAddress!, length) == 0 { return at }
        offset = at + 1
    }
    return nil
}

/// C's isspace in the "C" locale.
@inline(__always)
private func isCSpace(_ b: UInt8) -> Bool {
    b == 0x20 || (b >= 0x09 && b <= 0x0D)
}

/// llama_detokenize's clean_spaces passes, in place: " ?" " !" " ." " ," lose the space,
/// " ' " becomes "'", and " 's" " 'm" " 're" " 've" lose the space.
func cleanSpaces(_ text: inout [UInt8]) {
    let space = UInt8(ascii: " "), quote = UInt8(ascii: "'")
    // pass 1: space before ? ! . ,
    var total = text.isEmpty ? 0 : 1
    let count1 = text.count
    var i = 1
    while i < count1 {
        let x = text[i]
        if text[i - 1] == space && (x == UInt8(ascii: "?") || x == UInt8(ascii: "!") || x == UInt8(ascii: ".")
                                    || x == UInt8(ascii: ",")) {
            total -= 1
        }
        text[total] = x
        total += 1
        i += 1
    }
    // pass 2: " ' " -> "'"
    let count2 = total
    total = count2 == 0 ? 0 : 1
    i = 1
    while i < count2 {
        let x = text[i]
        if x == quote && i + 1 < count2 && text[i - 1] == space && text[i + 1] == space {
            total -= 1
            i += 1
            text[i] = 0
        }
        text[total] = x
        total += 1
        i += 1
    }
    // pass 3: " 's" " 'm" " 're" " 've"
    let count3 = total
    total = count3 == 0 ? 0 : 1
    i = 1
    while i < count3 {
        let x = text[i]
        if text[i - 1] == space && x == quote && i + 1 < count3 {
            let x1 = text[i + 1]
            if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") {
                total -= 1
            } else if i + 2 < count3 {
                let x2 = text[i + 2]
                if (x1 == UInt8(ascii: "r") && x2 == UInt8(ascii: "e")) || (x1 == UInt8(ascii: "v") && x2 == UInt8(ascii: "e")) {
                    total -= 1
                }
            }
        }
        text[total] = x
        total += 1
        i += 1
    }
    text.removeLast(text.count - total)
}
