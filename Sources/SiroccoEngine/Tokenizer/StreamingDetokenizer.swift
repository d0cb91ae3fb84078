// StreamingDetokenizer: turns generated tokens into text as they arrive. It only ever returns
// whole UTF-8 characters (a byte token that ends mid-character waits for the next token), and the
// concatenation of everything it returns equals Tokenizer.decode of the same tokens read as the
// continuation of a prompt (llama.cpp's completion printing llama_token_to_piece per token: a first
// "▁word" keeps its space) or, with `startsText`, as a whole text (llama_detokenize, which drops the
// space SentencePiece added in front of the first piece). For vocabularies that clean spaces it
// holds back the bytes after a space that a later " ?" or " 's" could still change (see safeCut).

/// Incremental detokenizer for one stream of generated tokens.
public struct StreamingDetokenizer {
    private let tokenizer: Tokenizer
    private let renderSpecial: Bool
    /// Drop one leading space of the next piece (only ever the first, and only with `startsText`).
    private var stripsNextSpace: Bool
    /// Piece bytes not yet through the clean-spaces passes.
    private var unclean: [UInt8] = []
    /// Final bytes not yet returned because they end inside a UTF-8 character.
    private var undecoded: [UInt8] = []

    /// A detokenizer for `tokenizer`; control tokens are rendered only if `renderSpecial`. The tokens
    /// continue a prompt (generation) unless `startsText`: then they are a whole text and a
    /// SentencePiece vocabulary's added space is dropped from the first piece, as `decode` does.
    public init(tokenizer: Tokenizer, renderSpecial: Bool = false, startsText: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
        stripsNextSpace = startsText && tokenizer.stripsFirstSpace
    }

    /// Adds one token; returns the text that became complete with it ("" if it ends mid-character).
    public mutating func append(_ t: TokenID) -> String {
        let strip = stripsNextSpace
        stripsNextSpace = false
        if tokenizer.cleansSpaces {
            tokenizer.appendPiece(t, renderSpecial: renderSpecial, stripLeadingSpace: strip, to: &unclean)
            let cut = StreamingDetokenizer.safeCut(unclean)
            if cut > 0 {
                var settled = Array(unclean[..<cut])
                unclean.removeFirst(cut)
                cleanSpaces(&settled)
                undecoded.append(contentsOf: settled)
            }
        } else {
            tokenizer.appendPiece(t, renderSpecial: renderSpecial, stripLeadingSpace: strip, to: &undecoded)
        }
        let complete = StreamingDetokenizer.completePrefixLength(undecoded)
        guard complete > 0 else { return "" }
        let text = String(decoding: undecoded[..<complete], as: UTF8.self)
        undecoded.removeFirst(complete)
        return text
    }

    /// Everything still held back; bytes that never formed a character become U+FFFD.
    public mutating func finish() -> String {
        if !unclean.isEmpty {
            cleanSpaces(&unclean)
            undecoded.append(contentsOf: unclean)
            unclean.removeAll()
        }
        let text = String(decoding: undecoded, as: UTF8.self)
        undecoded.removeAll()
        return text
    }

    /// The longest prefix of `bytes` that the clean-spaces passes can process on their own. Every
    /// rule starts at a space followed by one of ' ? ! . , and the passes only delete spaces, so a
    /// space followed by any other byte (or by a space that is itself such a "dead" space) never
    /// matches, whatever comes later. A cut is safe when every space among the last `margin` bytes
    /// before it is dead: no rule window (a few bytes, even after earlier passes delete spaces
    /// inside it) can then reach across the cut.
    static func safeCut(_ bytes: [UInt8], margin: Int = 16) -> Int {
        var cut = bytes.count
        while cut > 0 {
            if isSafeCut(bytes, cut, margin: margin) { return cut }
            cut -= 1
        }
        return 0
    }

    private static func isSafeCut(_ bytes: [UInt8], _ cut: Int, margin: Int) -> Bool {
        let space = UInt8(ascii: " ")
        var successor: UInt8?  // the byte after position k, within the prefix
        var successorIsDeadSpace = false
        var k = cut - 1
        while k >= max(0, cut - margin) {
            let b = bytes[k]
            if b == space {
                guard let next = successor else { return false }  // a space at the cut
                let dead: Bool
                switch next {
                case space: dead = successorIsDeadSpace
                case UInt8(ascii: "'"), UInt8(ascii: "?"), UInt8(ascii: "!"), UInt8(ascii: "."), UInt8(ascii: ","):
                    dead = false
                default: dead = true
                }
                guard dead else { return false }
                successorIsDeadSpace = true
            }
            successor = b
            k -= 1
        }
        return true
    }

    /// Length of the prefix of `bytes` that ends on a character boundary: all of it unless it ends
    /// with the start of a UTF-8 sequence that more bytes could still complete.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // look back at most 3 bytes for the lead byte of an unfinished sequence
        var k = 1
        while k <= min(3, n) {
            let b = bytes[n - k]
            if b & 0xC0 == 0x80 {  // continuation byte: keep looking for its lead
                k += 1
                continue
            }
            let need: Int
            switch b {
            case 0xC2...0xDF: need = 2
            case 0xE0...0xEF: need = 3
            case 0xF0...0xF4: need = 4
            default: return n  // ASCII or a byte that can never start a sequence
            }
            guard k < need else { return n }  // the sequence is complete (or overlong: invalid anyway)
            // the bytes present must be a valid beginning of that sequence
            if k >= 2 {
                let second = bytes[n - k + 1]
                let valid: Bool
                switch b {
                case 0xE0: valid = second >= 0xA0
                case 0xED: valid = second <= 0x9F
                case 0xF0: valid = second >= 0x90
                case 0xF4: valid = second <= 0x8F
                default: valid = true
                }
                if !valid { return n }
            }
            return n - k
        }
        return n
    }
}
