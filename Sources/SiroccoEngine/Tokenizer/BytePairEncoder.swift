// BytePairEncoder: llama.cpp's byte-level BPE (llm_tokenizer_bpe_session) for
// tokenizer.ggml.model "gpt2". Within one pre-tokenized word, starting from one symbol per byte,
// it repeatedly applies the lowest-ranked merge from `tokenizer.ggml.merges` (leftmost on ties).
// Symbols are interned ids, so the merge loop compares integers, never strings; results are
// cached per word. It never sees special tokens or text spanning two words.

import Synchronization

final class BytePairEncoder: Sendable {
    private let vocabulary: Vocabulary
    /// (left symbol << 32 | right symbol) -> (rank << 32 | merged symbol). Symbols below
    /// `vocabulary.count` are token ids; larger ones are merge pieces that are not tokens.
    private let merges: [UInt64: UInt64]
    /// The symbol of each byte's GPT-2 spelling.
    private let byteSymbols: [Int32]
    /// Token of each printable ASCII byte on its own: the fallback for a symbol that is not a token.
    private let asciiTokens: [TokenID?]
    private let cache = Mutex<[[UInt8]: [TokenID]]>([:])
    private static let cacheLimit = 65_536

    init(vocabulary: Vocabulary, merges mergeTexts: [String]) throws(TokenizerError) {
        self.vocabulary = vocabulary
        let vocabularyCount = vocabulary.count
        var extra = ByteStringTable(capacity: 256)

        func symbol(_ bytes: UnsafeRawBufferPointer) -> Int32 {
            if let id = vocabulary.table.lookup(bytes) { return id }
            if let id = extra.lookup(bytes) { return id }
            let id = Int32(vocabularyCount + extra.count)
            extra.insert(bytes, value: id)
            return id
        }

        var byteSymbols: [Int32] = []
        for b in 0..<256 {
            byteSymbols.append(ByteLevelMapping.utf8ForByte[b].withUnsafeBytes { symbol($0) })
        }
        self.byteSymbols = byteSymbols
        asciiTokens = (0..<256).map { b in (0x21...0x7E).contains(b) ? vocabulary.table.lookup([UInt8(b)]) : nil }

        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(mergeTexts.count)
        var joined: [UInt8] = []
        for (rank, text) in mergeTexts.enumerated() {
            var text = text
            let result: Result<(UInt64, UInt64), TokenizerError> = text.withUTF8 { utf8 in
                // split at the first space after the first byte
                guard utf8.count > 1, let space = utf8[1...].firstIndex(of: 0x20) else {
                    return .failure(.badMerge(file: vocabulary.file, index: rank, text: String(decoding: utf8, as: UTF8.self)))
                }
                let raw = UnsafeRawBufferPointer(utf8)
                let left = symbol(UnsafeRawBufferPointer(rebasing: raw[0..<space]))
                let right = symbol(UnsafeRawBufferPointer(rebasing: raw[(space + 1)...]))
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: utf8[0..<space])
                joined.append(contentsOf: utf8[(space + 1)...])
                let merged = joined.withUnsafeBytes { symbol($0) }
                let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
                return .success((key, UInt64(rank) << 32 | UInt64(UInt32(merged))))
            }
            switch result {
            case let .success((key, value)):
                if table[key] == nil { table[key] = value }  // the first listing of a pair wins
            case let .failure(error):
                throw error
            }
        }
        merges = table
    }

    func clearCache() { cache.withLock { $0.removeAll() } }

    /// Scratch space reused across the words of one text.
    struct Scratch {
        fileprivate var symbols: [Int32] = []
        fileprivate var prev: [Int32] = []
        fileprivate var next: [Int32] = []
        fileprivate var queue = MergeQueue<Pair>()
        fileprivate var spelled: [UInt8] = []
    }

    fileprivate struct Pair: Comparable {
        var rank: UInt32
        var left: Int32
        var right: Int32
        var leftSymbol: Int32
        var rightSymbol: Int32
        var merged: Int32

        /// `a < b`: `a` merges first (lower rank, then the leftmost).
        static func < (a: Pair, b: Pair) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
        }
    }

    /// Appends the tokens of one pre-tokenized word (raw UTF-8 bytes) to `output`.
    func encode(word: UnsafeRawBufferPointer, scratch: inout Scratch, into output: inout [TokenID]) {
        let n = word.count
        guard n > 0 else { return }

        if vocabulary.preTokenizer.ignoreMerges {
            scratch.spelled.removeAll(keepingCapacity: true)
            for b in word { scratch.spelled.append(contentsOf: ByteLevelMapping.utf8ForByte[Int(b)]) }
            if let id = scratch.spelled.withUnsafeBytes({ vocabulary.table.lookup($0) }) {
                output.append(id)
                return
            }
        }
        if n == 1 {
            emit(symbol: byteSymbols[Int(word[0])], bytes: word, into: &output)
            return
        }

        let key = [UInt8](word)
        if let cached = cache.withLock({ $0[key] }) {
            output.append(contentsOf: cached)
            return
        }
        let first = output.count
        merge(word, scratch: &scratch, into: &output)
        let tokens = Array(output[first...])
        cache.withLock { cache in
            if cache.count >= BytePairEncoder.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = tokens
        }
    }

    private func merge(_ word: UnsafeRawBufferPointer, scratch: inout Scratch, into output: inout [TokenID]) {
        let n = word.count
        scratch.symbols.removeAll(keepingCapacity: true)
        scratch.prev.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.queue.removeAll()
        for i in 0..<n {
            scratch.symbols.append(byteSymbols[Int(word[i])])
            scratch.prev.append(Int32(i - 1))
            scratch.next.append(i == n - 1 ? -1 : Int32(i + 1))
        }

        func addPair(_ left: Int32, _ right: Int32, _ s: inout Scratch) {
            guard left >= 0 && right >= 0 else { return }
            let ls = s.symbols[Int(left)], rs = s.symbols[Int(right)]
            guard let found = merges[UInt64(UInt32(ls)) << 32 | UInt64(UInt32(rs))] else { return }
            s.queue.push(Pair(rank: UInt32(found >> 32), left: left, right: right, leftSymbol: ls, rightSymbol: rs,
                              merged: Int32(truncatingIfNeeded: found & 0xFFFF_FFFF)))
        }

        for i in 1..<n { addPair(Int32(i - 1), Int32(i), &scratch) }

        while let pair = scratch.queue.pop() {
            let l = Int(pair.left), r = Int(pair.right)
            // outdated: one side was merged since the pair was queued (-1 marks a merged-away symbol)
            guard scratch.symbols[l] == pair.leftSymbol && scratch.symbols[r] == pair.rightSymbol else { continue }
            scratch.symbols[l] = pair.merged
            scratch.symbols[r] = -1
            let after = scratch.next[r]
            scratch.next[l] = after
            if after >= 0 { scratch.prev[Int(after)] = pair.left }
            addPair(scratch.prev[l], pair.left, &scratch)
            addPair(pair.left, after, &scratch)
        }

        var i: Int32 = 0
        while i != -1 {
            let end = scratch.next[Int(i)] == -1 ? n : Int(scratch.next[Int(i)])
            emit(symbol: scratch.symbols[Int(i)], bytes: UnsafeRawBufferPointer(rebasing: word[Int(i)..<end]), into: &output)
            i = scratch.next[Int(i)]
        }
    }

    /// A final symbol: its token, or (not a token) the tokens of its printable ASCII bytes, as llama.cpp.
    @inline(__always)
    private func emit(symbol: Int32, bytes: UnsafeRawBufferPointer, into output: inout [TokenID]) {
        if Int(symbol) < vocabulary.count {
            output.append(symbol)
            return
        }
        for b in bytes {
            if let id = asciiTokens[Int(b)] { output.append(id) }
        }
    }
}
