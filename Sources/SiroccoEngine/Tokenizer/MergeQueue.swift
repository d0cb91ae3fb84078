// MergeQueue: the binary heap both merging tokenizers pop candidate pairs from, best first.
// "Best" is the element's own ordering (`<` means "merge earlier"), so the tie-breaks that make
// results match llama.cpp (leftmost pair first) live in the element types.

struct MergeQueue<Element: Comparable> {
    private var heap: [Element] = []

    var isEmpty: Bool { heap.isEmpty }

    mutating func removeAll() { heap.removeAll(keepingCapacity: true) }

    mutating func push(_ element: Element) {
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child] < heap[parent] else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the best element.
    mutating func pop() -> Element? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                var best = left
                if left + 1 < count && heap[left + 1] < heap[left] { best = left + 1 }
                guard heap[best] < heap[parent] else { break }
                heap.swapAt(best, parent)
                parent = best
            }
        }
        return top
    }
}
