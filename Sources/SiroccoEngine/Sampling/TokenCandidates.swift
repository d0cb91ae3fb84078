// TokenCandidates: the shrinking list of tokens a sampler chain works on (llama_token_data_array).

import Foundation

/// Candidate tokens with logits, optionally sorted by logit (descending) and with probabilities.
public struct TokenCandidates: Sendable {
    public var ids: [TokenID]
    public var logits: [Float]
    public var probabilities: [Float] = []
    /// True when `ids`/`logits` are sorted by logit, highest first.
    public var isSorted = false

    public init(logits: [Float]) {
        ids = (0..<logits.count).map { TokenID($0) }
        self.logits = logits
    }

    public init(ids: [TokenID], logits: [Float]) {
        self.ids = ids
        self.logits = logits
    }

    public var count: Int { ids.count }

    /// Sorts by logit descending; ties keep the lower token id first.
    public mutating func sort() {
        if isSorted { return }
        let order = ids.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && ids[$0] < ids[$1]) }
        ids = order.map { ids[$0] }
        logits = order.map { logits[$0] }
        if probabilities.count == order.count { probabilities = order.map { probabilities[$0] } }
        isSorted = true
    }

    /// Keeps the `k` highest logits, sorted. For small k a bounded min-heap selects them in
    /// O(n log k) instead of sorting the whole vocabulary every token.
    public mutating func keepTop(_ k: Int) {
        let k = max(1, k)
        if isSorted || k >= count || k > count / 8 {
            sort()
            truncate(to: k)
            return
        }
        let l = logits, idv = ids
        // "a ranks below b": lower logit, or equal logit and higher id
        func below(_ a: Int, _ b: Int) -> Bool { l[a] < l[b] || (l[a] == l[b] && idv[a] > idv[b]) }
        var heap: [Int] = []  // min-heap of indices: heap[0] is the weakest kept candidate
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let a = 2 * i + 1, b = a + 1
                var m = i
                if a < heap.count && below(heap[a], heap[m]) { m = a }
                if b < heap.count && below(heap[b], heap[m]) { m = b }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in 0..<l.count {
            if heap.count < k {
                heap.append(i)
                var c = heap.count - 1
                while c > 0 {
                    let parent = (c - 1) / 2
                    if below(heap[c], heap[parent]) { heap.swapAt(c, parent); c = parent } else { break }
                }
            } else if below(heap[0], i) {
                heap[0] = i
                siftDown(0)
            }
        }
        heap.sort { below($1, $0) }
        ids = heap.map { idv[$0] }
        logits = heap.map { l[$0] }
        probabilities = []
        isSorted = true
    }

    /// Keeps the first `n` candidates.
    public mutating func truncate(to n: Int) {
        let n = max(0, min(n, count))
        ids.removeSubrange(n...)
        logits.removeSubrange(n...)
        if probabilities.count > n { probabilities.removeSubrange(n...) }
    }

    /// Sorts and fills `probabilities` with the softmax of the logits.
    public mutating func computeProbabilities() {
        sort()
        guard let maxLogit = logits.first else { probabilities = []; return }
        var p = logits.map { expf($0 - maxLogit) }
        let sum = p.reduce(0, +)
        for i in p.indices { p[i] /= sum }
        probabilities = p
    }
}
