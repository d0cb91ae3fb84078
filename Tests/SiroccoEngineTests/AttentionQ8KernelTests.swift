// Tests of the Q8_0-cache attention kernel (sk_attention_partial_q8_0) and of the cache-row
// quantization (sk_f32_to_q8_0), on each code path (KernelTests.modes): the quantization against an
// independent Swift rendering of ggml's CPU rule, the attention against a direct softmax attention in
// Double over the dequantized keys, values and query.

import CKernels
import Foundation
import Testing
@testable import SiroccoEngine

struct AttentionQ8KernelTests {
    typealias Rng = SplitMix64

    /// ggml's CPU Q8_0 quantization of one row, as (F16 scale bits, values) per 32-value block:
    /// d = amax / 127 rounded to F16, q = x · (127 / amax) rounded to nearest, ties to even.
    static func ggmlQ8_0(_ x: [Float]) -> [(d: UInt16, q: [Int8])] {
        stride(from: 0, to: x.count, by: 32).map { b in
            let block = x[b..<(b + 32)]
            let amax = block.map(abs).max()!
            let id: Float = amax != 0 ? 127 / amax : 0
            return (Float16(amax / 127).bitPattern, block.map { Int8(($0 * id).rounded(.toNearestOrEven)) })
        }
    }

    static func dequantized(_ blocks: [(d: UInt16, q: [Int8])]) -> [Double] {
        blocks.flatMap { b in b.q.map { Double(Float(Float16(bitPattern: b.d))) * Double($0) } }
    }

    @Test(arguments: KernelTests.modes)
    func cacheRowsQuantizeAsGGML(mode: Int32) {
        KernelTests.usePath(mode)
        defer { sk_init_thread(-1) }
        var rng = Rng(seed: 5 &+ UInt64(mode))
        var rows: [[Float]] = (0..<20).map { _ in (0..<64).map { _ in 3 * KernelTests.normal(&rng) } }
        rows.append([Float](repeating: 0, count: 64))  // amax 0: scale 0, values 0
        // exact ties at ±0.5 · d: with amax 127 the factor is 1, so 2.5 → 2 and −3.5 → −4 (to even)
        rows.append([127, 2.5, -3.5, 0.5, -0.5, 1.5] + [Float](repeating: 0.25, count: 58))
        for row in rows {
            // values, and the two scales 3 apart (as a cache region of 3 cells keeps them)
            var qs = [Int8](repeating: 0, count: 64)
            var d = [UInt16](repeating: 0xFFFF, count: 4)
            sk_f32_to_q8_0(row, &qs, &d, 3, 64)
            let want = Self.ggmlQ8_0(row)
            #expect(qs == want.flatMap(\.q) && [d[0], d[3]] == want.map(\.d) && d[1] == 0xFFFF, "\(row.prefix(6))")
        }
    }

    /// Keys and values of one KV head as Q8_0 rows (quantized by the Swift rendering of ggml's rule),
    /// laid out as the kernel reads them (values [n][hd], block scales [hd / 32][n]), and their
    /// dequantized values for the reference.
    struct Cache {
        let hd: Int
        let n: Int
        var keys: [Int8] = []
        var values: [Int8] = []
        var keyScales: [UInt16]
        var valueScales16: [UInt16]
        var keyFloats: [[Double]] = []
        var valueFloats: [[Double]] = []
        var valueScales: [Double] = []  // each value row's largest block scale

        init(hd: Int, n: Int, rng: inout Rng) {
            self.hd = hd
            self.n = n
            keyScales = [UInt16](repeating: 0, count: hd / 32 * n)
            valueScales16 = keyScales
            for t in 0..<n {
                let k = AttentionQ8KernelTests.ggmlQ8_0((0..<hd).map { _ in KernelTests.normal(&rng) })
                let v = AttentionQ8KernelTests.ggmlQ8_0((0..<hd).map { _ in KernelTests.normal(&rng) })
                keys += k.flatMap(\.q)
                values += v.flatMap(\.q)
                for c in 0..<hd / 32 {
                    keyScales[c * n + t] = k[c].d
                    valueScales16[c * n + t] = v[c].d
                }
                keyFloats.append(AttentionQ8KernelTests.dequantized(k))
                valueFloats.append(AttentionQ8KernelTests.dequantized(v))
                valueScales.append(v.map { Double(Float(Float16(bitPattern: $0.d))) }.max()!)
            }
        }

        /// softmax(scale · q·k) · v over [lo, hi) in Double, with the query quantized as ggml does;
        /// and how far the kernel may be from it beyond float rounding: it takes each weight times its
        /// value scale to the integer values as a 16-bit integer relative to the largest of its block
        /// of positions, so each is off by at most 2^-16 of the largest overall, against values of at
        /// most 127 (in units of their scale).
        func reference(q: [Float], scale: Double, softcap: Double = 0, lo: Int, hi: Int) -> (out: [Double], weightRounding: Double) {
            let qd = AttentionQ8KernelTests.dequantized(AttentionQ8KernelTests.ggmlQ8_0(q))
            let scores = (lo..<hi).map { p in
                let s = scale * zip(qd, keyFloats[p]).reduce(0) { $0 + $1.0 * $1.1 }
                return softcap > 0 ? softcap * tanh(s / softcap) : s
            }
            let m = scores.max()!
            let w = scores.map { exp($0 - m) }
            let total = w.reduce(0, +)
            var out = [Double](repeating: 0, count: hd)
            for (i, p) in (lo..<hi).enumerated() {
                for d in 0..<hd { out[d] += w[i] / total * valueFloats[p][d] }
            }
            let largest = zip(w, valueScales[lo..<hi]).map { $0 * $1 }.max()!
            return (out, 0x1p-16 * largest * 127 * Double(hi - lo) / total)
        }

        /// g heads (rows of q, hd apart) over [lo, hi), the positions in `chunks` merged parts, the
        /// cache given as segments split at `cuts`.
        func attend(q: [Float], heads g: Int, lo: Int, hi: Int, cuts: [Int] = [], chunks: Int = 1, softcap: Float = 0) -> [Float] {
            keys.withUnsafeBytes { k in
                values.withUnsafeBytes { v in
                    keyScales.withUnsafeBufferPointer { kd in
                        valueScales16.withUnsafeBufferPointer { vd in
                            let bounds = [0] + cuts + [n]
                            let segs = zip(bounds, bounds.dropFirst()).map { a, b in
                                sk_kv_segment(k: k.baseAddress! + a * hd, v: v.baseAddress! + a * hd, kd: kd.baseAddress! + a,
                                              vd: vd.baseAddress! + a, dstride: Int64(n), pos: Int64(a), n: Int64(b - a))
                            }
                            return AttentionKernelTests.attend(sk_attention_partial_q8_0, q: q, heads: g, hd: hd, segments: segs,
                                                               lo: lo, hi: hi, chunks: chunks, softcap: softcap)
                        }
                    }
                }
            }
        }

        /// The scale AttentionKernelTests.attend runs the kernel with.
        let scale = 0.125
    }

    @Test(arguments: KernelTests.modes, [64, 256])
    func oneRowMatchesSoftmaxAttention(mode: Int32, hd: Int) {
        KernelTests.usePath(mode)
        defer { sk_init_thread(-1) }
        var rng = Rng(seed: UInt64(hd) &* 131 &+ UInt64(mode))
        let cache = Cache(hd: hd, n: 300, rng: &rng)
        let g = 3
        let q = (0..<(g * hd)).map { _ in 0.5 * KernelTests.normal(&rng) }
        for (cuts, lo, hi) in [([Int](), 0, 300), ([77, 201], 0, 300), ([77, 201], 150, 263), ([], 0, 3)] {
            let out = cache.attend(q: q, heads: g, lo: lo, hi: hi, cuts: cuts)
            for j in 0..<g {
                let want = cache.reference(q: Array(q[(j * hd)..<((j + 1) * hd)]), scale: cache.scale, lo: lo, hi: hi)
                let diff = AttentionKernelTests.maxDiff(Array(out[(j * hd)..<((j + 1) * hd)]), want.out)
                // integer dot products are exact and the accumulator is F32: float rounding and the
                // weights' 16-bit rounding are all that is left
                let bound = 2e-5 + want.weightRounding
                #expect(diff < bound, "hd \(hd) cuts \(cuts) [\(lo), \(hi)) head \(j): max difference \(diff), bound \(bound)")
            }
        }
    }

    /// Gemma 2's soft cap on a Q8_0 cache: scores of ~±4 against a cap of 1.5.
    @Test(arguments: KernelTests.modes)
    func oneRowCapsScores(mode: Int32) {
        KernelTests.usePath(mode)
        defer { sk_init_thread(-1) }
        var rng = Rng(seed: 3 &+ UInt64(mode))
        let hd = 64, g = 2
        let cache = Cache(hd: hd, n: 140, rng: &rng)
        let q = (0..<(g * hd)).map { _ in 2 * KernelTests.normal(&rng) }
        let out = cache.attend(q: q, heads: g, lo: 0, hi: 140, cuts: [50], softcap: 1.5)
        for j in 0..<g {
            let want = cache.reference(q: Array(q[(j * hd)..<((j + 1) * hd)]), scale: cache.scale, softcap: 1.5, lo: 0, hi: 140)
            let diff = AttentionKernelTests.maxDiff(Array(out[(j * hd)..<((j + 1) * hd)]), want.out)
            let bound = 2e-5 + want.weightRounding
            #expect(diff < bound, "head \(j): max difference \(diff), bound \(bound)")
        }
    }

    @Test(arguments: KernelTests.modes)
    func headsOfAGroupAndSplitPositionsComputeTheSame(mode: Int32) {
        KernelTests.usePath(mode)
        defer { sk_init_thread(-1) }
        var rng = Rng(seed: 97 &+ UInt64(mode))
        let hd = 64, g = 7  // more heads than one pass takes
        let cache = Cache(hd: hd, n: 700, rng: &rng)
        let q = (0..<(g * hd)).map { _ in 0.5 * KernelTests.normal(&rng) }
        let together = cache.attend(q: q, heads: g, lo: 0, hi: 700)
        for j in 0..<g {
            let alone = cache.attend(q: Array(q[(j * hd)..<((j + 1) * hd)]), heads: 1, lo: 0, hi: 700)
            #expect(Array(together[(j * hd)..<((j + 1) * hd)]) == alone, "head \(j)")
        }
        for chunks in [2, 3] {
            let split = cache.attend(q: q, heads: g, lo: 0, hi: 700, chunks: chunks)
            let diff = zip(together, split).map { abs($0 - $1) }.max()!
            #expect(diff < 1e-5, "\(chunks) chunks: max difference \(diff)")
        }
    }
}

struct HadamardRotationTests {
    /// llama.cpp's rotation matrix (ggml_gen_hadamard's Sylvester construction), built directly.
    static func matrix(_ n: Int) -> [[Double]] {
        var h = [[1.0]]
        while h.count < n {
            h = h.map { $0 + $0 } + h.map { $0 + $0.map { -$0 } }
        }
        return h.map { $0.map { $0 / Double(n).squareRoot() } }
    }

    @Test(arguments: [64, 128, 256])
    func rotationIsTheHadamardMatrixProductAndItsOwnInverse(block: Int) {
        var rng = SplitMix64(seed: UInt64(block))
        let x = (0..<(2 * block)).map { _ in KernelTests.normal(&rng) }
        var y = x
        sk_hadamard_rotate(&y, Int64(y.count), Int64(block))
        let h = Self.matrix(block)
        for b in 0..<2 {
            for i in 0..<block {
                let want = (0..<block).reduce(0.0) { $0 + h[i][$1] * Double(x[b * block + $1]) }
                #expect(abs(Double(y[b * block + i]) - want) < 1e-5, "block \(b) row \(i)")
            }
        }
        sk_hadamard_rotate(&y, Int64(y.count), Int64(block))
        #expect(zip(x, y).map { abs($0 - $1) }.max()! < 1e-5)
    }

    @Test func rotationBlocksFollowLlamaCpp() {
        #expect(KVCacheType.f16.rotationBlocks(headDim: 64) == nil)
        #expect(KVCacheType.q8_0.rotationBlocks(headDim: 96) == nil)
        #expect(KVCacheType.q8_0.rotationBlocks(headDim: 64)! == (64, 64))
        #expect(KVCacheType.q8_0.rotationBlocks(headDim: 192)! == (64, 64))
        #expect(KVCacheType.q8_0.rotationBlocks(headDim: 256)! == (256, 64))
    }
}
