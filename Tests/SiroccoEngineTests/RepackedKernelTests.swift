// Tests of the repacked Q4_K/Q6_K kernels (CKernels' repack_avx512.c) against sk_vec_dot on the
// same rows in GGML's layout: every shape the tiling distinguishes (token counts around the tile of
// 4 and the block of 64 tokens, rows in several groups of 16, super-block counts around the block of
// 8), and views of part of a repacked matrix. Only on CPUs with AVX-512 VNNI, the only ones that
// repack.

import CKernels
import Foundation
import Testing
@testable import SiroccoEngine

@Suite(.enabled(if: sk_repack_supported(Int32(SK_Q4_K), 16, 256) != 0, "the CPU has no AVX-512 VNNI"))
struct RepackedKernelTests {
    static let types: [Int32] = [Int32(SK_Q4_K), Int32(SK_Q6_K)]

    /// Random weight rows and activations; the repacked product against one sk_vec_dot per (row, token).
    /// The integer sums are exact either way; only float rounding may differ.
    func check(type: Int32, rows: Int, n: Int, tokens: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let w = KernelTests.randomWeights(type, rows: rows, n: n, rng: &rng)
        let rowBytes = w.count / rows
        let acts = (0..<tokens).map { _ in KernelTests.quantize(type, (0..<n).map { _ in KernelTests.normal(&rng) }) }
        let actBytes = acts[0].count
        let a = acts.flatMap { $0 }
        var want = [Float](repeating: 0, count: rows * tokens)
        var got = [Float](repeating: .nan, count: rows * tokens)
        w.withUnsafeBytes { wp in
            a.withUnsafeBytes { ap in
                for t in 0..<tokens {
                    for r in 0..<rows {
                        want[t * rows + r] = sk_vec_dot(type, Int64(n), wp.baseAddress! + r * rowBytes, ap.baseAddress! + t * actBytes)
                    }
                }
                let matrix = WeightMatrix(name: "w", type: GGMLType(rawValue: UInt32(type))!, rows: rows, cols: n,
                                          data: wp.baseAddress!)
                let packed = PackedWeights(repacking: matrix)!
                // rows in two calls, as two threads take them
                let half = rows / 32 * 16
                for (r0, r1) in [(0, half), (half, rows)] {
                    sk_matmul_repacked(type, Int64(n), packed.base, Int64(r0), Int64(r1), ap.baseAddress, actBytes,
                                       Int64(tokens), &got, Int64(rows))
                }
            }
        }
        let largest = want.map { abs($0) }.max()!
        let worst = zip(want, got).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * largest + 1e-6, "type \(type) \(rows)×\(n), \(tokens) tokens: max |Δ| \(worst) of \(largest)")
    }

    @Test(arguments: types, [1, 2, 3, 4, 5, 9, 64, 70])
    func matchesTheDotProductsOfTheGGMLLayout(type: Int32, tokens: Int) {
        check(type: type, rows: 48, n: 2560, tokens: tokens, seed: UInt64(tokens) &* 31 &+ UInt64(type))
    }

    @Test(arguments: types, [(16, 256), (32, 2048), (64, 4608)])
    func everyShapeOfRowsAndSuperBlocks(type: Int32, shape: (rows: Int, n: Int)) {
        check(type: type, rows: shape.rows, n: shape.n, tokens: 7, seed: UInt64(shape.n) &+ UInt64(type))
    }

    @Test(arguments: types)
    func aViewOfSomeRowsComputesThoseRows(type: Int32) throws {
        var rng = SplitMix64(seed: 99)
        let rows = 64, n = 512, tokens = 5
        let w = KernelTests.randomWeights(type, rows: rows, n: n, rng: &rng)
        let a = (0..<tokens).flatMap { _ in KernelTests.quantize(type, (0..<n).map { _ in KernelTests.normal(&rng) }) }
        let actBytes = a.count / tokens
        w.withUnsafeBytes { wp in
            a.withUnsafeBytes { ap in
                let matrix = WeightMatrix(name: "w", type: GGMLType(rawValue: UInt32(type))!, rows: rows, cols: n,
                                          data: wp.baseAddress!, packed: nil)
                var whole = matrix
                whole.packed = PackedWeights(repacking: matrix)
                let view = whole.rows(16..<48, name: "middle")
                #expect(view.packed != nil)
                #expect(whole.rows(8..<40, name: "unaligned").packed == nil)
                var all = [Float](repeating: 0, count: rows * tokens), part = [Float](repeating: 0, count: 32 * tokens)
                sk_matmul_repacked(type, Int64(n), whole.packed!.base, 0, Int64(rows), ap.baseAddress, actBytes, Int64(tokens),
                                   &all, Int64(rows))
                sk_matmul_repacked(type, Int64(n), view.packed!.base, 0, 32, ap.baseAddress, actBytes, Int64(tokens), &part, 32)
                for t in 0..<tokens {
                    #expect(Array(part[(t * 32)..<(t * 32 + 32)]) == Array(all[(t * rows + 16)..<(t * rows + 48)]))
                }
            }
        }
    }

    @Test func onlyKQuantsInGroupsOf16RowsRepack() {
        #expect(sk_repack_supported(Int32(SK_Q4_K), 24, 256) == 0)
        #expect(sk_repack_supported(Int32(SK_Q6_K), 16, 128) == 0)
        #expect(sk_repack_supported(Int32(SK_Q5_K), 16, 256) == 0)
        #expect(sk_repack_supported(Int32(SK_Q8_0), 16, 256) == 0)
        // the scalar and plain AVX2 paths have no repacked kernels
        for mode: Int32 in [1, 2] {
            _ = sk_init_thread(mode)
            #expect(sk_repack_supported(Int32(SK_Q4_K), 16, 256) == 0, "mode \(mode)")
        }
        _ = sk_init_thread(-1)
    }
}
