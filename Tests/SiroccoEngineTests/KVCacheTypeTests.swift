// The cache types: what a Q8_0 cache takes, which head sizes it takes, and what a user is told
// when a model's heads do not fit it.

import Testing
@testable import SiroccoEngine

struct KVCacheTypeTests {
    @Test func q8CacheTakes34BytesPer32Values() throws {
        let model = try ReferenceModel.load()
        let f16 = InferenceContext(model: model, contextLength: 512, threads: 1)
        let q8 = try InferenceContext(model: model, contextLength: 512, threads: 1, cacheType: .q8_0)
        #expect(f16.cache.type == .f16 && q8.cache.type == .q8_0)
        // 30 layers × 3 KV heads × 512 cells × (keys + values) × a row of 64 values
        #expect(f16.cache.byteCapacity == 30 * 3 * 512 * 2 * 128)
        #expect(q8.cache.byteCapacity == 30 * 3 * 512 * 2 * 68)
        _ = try q8.evaluate([1, 2, 3, 4, 5])
        #expect(q8.cache.bytesUsed == 30 * 3 * 5 * 2 * 68)
    }

    @Test func headSizesAQ8CacheCannotHoldAreAnError() {
        #expect(KVCacheType.q8_0.supports(headDim: 64) && KVCacheType.q8_0.supports(headDim: 96))
        #expect(!KVCacheType.q8_0.supports(headDim: 80) && KVCacheType.f16.supports(headDim: 80))
        let message = ModelError.unsupportedCacheType("q8_0", headDim: 80).description
        #expect(message.contains("multiple of 32") && message.contains("80") && message.contains("--cache-type f16"))
    }
}
