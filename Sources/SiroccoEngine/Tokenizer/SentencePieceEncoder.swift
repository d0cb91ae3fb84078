// SentencePieceEncoder: llama.cpp's SPM tokenizer (llm_tokenizer_spm_session) for
// tokenizer.ggml.model "llama". Starting from single UTF-8 characters it repeatedly merges the
// adjacent pair whose concatenation is the vocabulary token with the highest score (leftmost on
// ties); characters left without a token become `<0xXX>` byte tokens. It never splits words
// first: the caller hands it one whole text fragment with spaces already spelled "▁".

struct SentencePieceEncoder: Sendable {
    let vocabulary: Vocabulary

    private struct Pair: Comparable {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        /// `a < b`: `a` merges first (higher score, then the leftmost).
        static func < (a: Pair, b: Pair) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
    }

    /// Appends the tokens of `text` (already space-escaped and prefixed) to `output`.
    func encode(_ text: [UInt8], into output: inout [TokenID]) {
        let n = text.count
        guard n > 0 else { return }

        // one symbol per UTF-8 character
        var start: [Int32] = []
        var length: [Int32] = []
        var prev: [Int32] = []
        var next: [Int32] = []
        start.reserveCapacity(n)
        length.reserveCapacity(n)
        prev.reserveCapacity(n)
        next.reserveCapacity(n)
        var offset = 0
        while offset < n {
            let count = min(utf8SequenceLength(text[offset]), n - offset)
            let index = Int32(start.count)
            start.append(Int32(offset))
            length.append(Int32(count))
            prev.append(index - 1)
            offset += count
            next.append(offset == n ? -1 : index + 1)
        }

        let vocabulary = self.vocabulary
        text.withUnsafeBytes { raw in
            var queue = MergeQueue<Pair>()

            func tryAddPair(_ left: Int32, _ right: Int32) {
                guard left >= 0 && right >= 0 else { return }
                let from = Int(start[Int(left)])
                let size = Int(length[Int(left)] + length[Int(right)])
                guard let id = vocabulary.table.lookup(UnsafeRawBufferPointer(rebasing: raw[from..<(from + size)])) else {
                    return
                }
                queue.push(Pair(score: vocabulary.scores[Int(id)], left: left, right: right, size: Int32(size)))
            }

            for i in 1..<max(start.count, 1) { tryAddPair(Int32(i - 1), Int32(i)) }

            while let pair = queue.pop() {
                let l = Int(pair.left), r = Int(pair.right)
                // skip pairs one of whose symbols has changed since
                guard length[l] != 0 && length[r] != 0 && length[l] + length[r] == pair.size else { continue }
                length[l] += length[r]
                length[r] = 0
                next[l] = next[r]
                if next[r] >= 0 { prev[Int(next[r])] = pair.left }
                tryAddPair(prev[l], pair.left)
                tryAddPair(pair.left, next[l])
            }

            var i: Int32 = 0
            while i != -1 {
                let from = Int(start[Int(i)])
                let span = UnsafeRawBufferPointer(rebasing: raw[from..<(from + Int(length[Int(i)]))])
                if let id = vocabulary.table.lookup(span) {
                    output.append(id)
                } else {
                    for byte in span {
                        if let id = vocabulary.byteTokens[Int(byte)] ?? vocabulary.unknown { output.append(id) }
                    }
                }
                i = next[Int(i)]
            }
        }
    }
}

/// Bytes in the UTF-8 sequence a lead byte starts, as llama.cpp's unicode_len_utf8.
@inline(__always)
func utf8SequenceLength(_ lead: UInt8) -> Int {
    switch lead >> 4 {
    case 0xC, 0xD: return 2
    case 0xE: return 3
    case 0xF: return 4
    default: return 1
    }
}
