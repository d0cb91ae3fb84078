// Tests of the CKernels C target: GGML block layouts (against gguf-py fixtures), activation
// quantization (against a Swift port of GGML's *_ref quantizers), dot products, matmul tiling,
// AVX2-vs-scalar agreement, F16 conversion and the float helpers.
//
// Every test that depends on the code path runs once per path: mode 1 = scalar, mode 0 = AVX2 with
// the CPU's VNNI / AVX-512 additions, mode 2 = plain AVX2 (modes 0 and 2 are scalar again on a CPU
// without AVX2/FMA/F16C). The path is chosen with sk_init_thread, which only
// affects the calling thread, so tests running in parallel (or engine code calling sk_init) cannot
// switch the path under a running test.
//
// Fixtures: Fixtures/quant/<TYPE>.json, written by scripts/make_quant_fixtures.py with gguf-py.

import CKernels
import Foundation
import Testing
@testable import SiroccoEngine

struct KernelTests {
    // MARK: - Fixtures and helpers

    struct QuantFixture: Decodable {
        let type: String
        let ggml_type: Int
        let n_per_row: Int
        let rows: Int
        let blocks_hex: String
        let dequant_f32_bits: [UInt32]
        let activation: [Double]
        let activation_f32_bits: [UInt32]
        let dot_f64: [Double]
        let activation_q8_0_hex: String?

        var blocks: [UInt8] { KernelTests.bytes(hex: blocks_hex) }
        var rowBytes: Int { blocks_hex.count / 2 / rows }
        var activationFloats: [Float] { activation_f32_bits.map { Float(bitPattern: $0) } }
    }

    static let fixtureTypes = ["F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
                               "IQ4_NL", "IQ4_XS"]
    /// 1 = scalar path, 0 = the CPU's best path (AVX2 with its VNNI / AVX-512 / AVX512-FP16
    /// additions), 2 = plain AVX2 (when the CPU has it)
    static let modes: [Int32] = [1, 0, 2]

    static func loadFixture(_ name: String) throws -> QuantFixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/quant/\(name)", withExtension: "json"),
                               "fixture Fixtures/quant/\(name).json missing from the test bundle")
        return try JSONDecoder().decode(QuantFixture.self, from: Data(contentsOf: url))
    }

    static func bytes(hex: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(hex.utf8.count / 2)
        var hi: UInt8 = 0
        for (i, c) in hex.utf8.enumerated() {
            let v: UInt8 = c <= 57 ? c - 48 : (c | 0x20) - 87
            if i % 2 == 0 { hi = v } else { out.append(hi << 4 | v) }
        }
        return out
    }

    static func typeID(_ name: String) -> Int32 {
        switch name {
        case "F32": return Int32(SK_F32)
        case "F16": return Int32(SK_F16)
        case "BF16": return Int32(SK_BF16)
        case "Q4_0": return Int32(SK_Q4_0)
        case "Q4_1": return Int32(SK_Q4_1)
        case "Q5_0": return Int32(SK_Q5_0)
        case "Q5_1": return Int32(SK_Q5_1)
        case "Q8_0": return Int32(SK_Q8_0)
        case "Q2_K": return Int32(SK_Q2_K)
        case "Q3_K": return Int32(SK_Q3_K)
        case "Q4_K": return Int32(SK_Q4_K)
        case "Q5_K": return Int32(SK_Q5_K)
        case "Q6_K": return Int32(SK_Q6_K)
        case "IQ4_NL": return Int32(SK_IQ4_NL)
        case "IQ4_XS": return Int32(SK_IQ4_XS)
        default: return -1
        }
    }

    /// Selects the path for this thread; returns whether AVX2 is active.
    @discardableResult
    static func usePath(_ mode: Int32) -> Bool { sk_init_thread(mode) == 1 }

    static func normal(_ rng: inout SplitMix64) -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
        let u2 = Double.random(in: 0..<1, using: &rng)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    static func halfBits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    static func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
        b[at] = UInt8(v & 0xff)
        b[at + 1] = UInt8(v >> 8)
    }

    static func get16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }

    /// `rows` random weight rows of `n` values: random block bytes with finite f16 scales in
    /// [1e-3, 1e-1] (mins of either sign for Q4_1/Q5_1), or random normal values for float types.
    /// Random Q2_K/Q3_K/IQ4_XS scale bytes cover every 4- and 6-bit scale, IQ4 nibbles every level.
    static func randomWeights(_ type: Int32, rows: Int, n: Int, rng: inout SplitMix64) -> [UInt8] {
        let bs = Int(sk_block_size(type)), ts = Int(sk_type_size(type))
        let nb = rows * n / bs
        var w = (0..<(nb * ts)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        func scale() -> UInt16 { halfBits(Float.random(in: 1e-3...1e-1, using: &rng)) }
        for b in 0..<nb {
            let o = b * ts
            switch Int(type) {
            case SK_F32:
                let v = normal(&rng).bitPattern
                for k in 0..<4 { w[o + k] = UInt8((v >> (8 * UInt32(k))) & 0xff) }
            case SK_F16: put16(&w, o, halfBits(normal(&rng)))
            case SK_BF16: put16(&w, o, UInt16(normal(&rng).bitPattern >> 16))
            case SK_Q4_0, SK_Q5_0, SK_Q8_0, SK_IQ4_NL, SK_IQ4_XS: put16(&w, o, scale())
            case SK_Q4_1, SK_Q5_1:
                put16(&w, o, scale())
                put16(&w, o + 2, scale() | (Bool.random(using: &rng) ? 0x8000 : 0))
            case SK_Q4_K, SK_Q5_K:
                put16(&w, o, scale())
                put16(&w, o + 2, scale())
            case SK_Q6_K: put16(&w, o + 208, scale())
            case SK_Q2_K:
                put16(&w, o + 80, scale())
                put16(&w, o + 82, scale())
            case SK_Q3_K: put16(&w, o + 108, scale())
            default: break
            }
        }
        return w
    }

    static func quantize(_ type: Int32, _ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: sk_activation_row_bytes(type, Int64(x.count)))
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBytes { sk_quantize_row(type, xp.baseAddress, $0.baseAddress, Int64(x.count)) }
        }
        return out
    }

    static func dequantize(_ type: Int32, _ src: UnsafeRawPointer, _ n: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: n)
        out.withUnsafeMutableBufferPointer { sk_dequantize_row(type, src, $0.baseAddress, Int64(n)) }
        return out
    }

    static func vecDot(_ type: Int32, _ n: Int, _ w: [UInt8], row: Int, rowBytes: Int, _ act: [UInt8]) -> Float {
        w.withUnsafeBytes { wp in
            act.withUnsafeBytes { ap in sk_vec_dot(type, Int64(n), wp.baseAddress! + row * rowBytes, ap.baseAddress) }
        }
    }

    /// The activation a kernel really multiplies with: the dequantized Q8 row (or the F32 row).
    static func effectiveActivation(_ weightType: Int32, _ act: [UInt8], _ n: Int) -> [Float] {
        let vt = sk_vec_dot_type(weightType)
        if vt == Int32(SK_F32) {
            return act.withUnsafeBytes { Array($0.bindMemory(to: Float.self).prefix(n)) }
        }
        return act.withUnsafeBytes { dequantize(vt, $0.baseAddress!, n) }
    }

    // MARK: - Swift ports of GGML's reference activation quantizers (quantize_row_q8_*_ref)

    static func refQ8_0(_ x: [Float]) -> [UInt8] {
        var out = [UInt8]()
        for b in stride(from: 0, to: x.count, by: 32) {
            let blk = x[b..<(b + 32)]
            let amax = blk.reduce(Float(0)) { max($0, abs($1)) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            let h = halfBits(d)
            out += [UInt8(h & 0xff), UInt8(h >> 8)]
            for v in blk { out.append(UInt8(bitPattern: Int8((v * id).rounded(.toNearestOrAwayFromZero)))) }
        }
        return out
    }

    static func refQ8_1(_ x: [Float]) -> [UInt8] {
        var out = [UInt8]()
        for b in stride(from: 0, to: x.count, by: 32) {
            let blk = x[b..<(b + 32)]
            let amax = blk.reduce(Float(0)) { max($0, abs($1)) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            let q = blk.map { Int8(($0 * id).rounded(.toNearestOrAwayFromZero)) }
            let sum = q.reduce(0) { $0 + Int($1) }
            let hd = halfBits(d), hs = halfBits(Float(sum) * d)
            out += [UInt8(hd & 0xff), UInt8(hd >> 8), UInt8(hs & 0xff), UInt8(hs >> 8)]
            out += q.map { UInt8(bitPattern: $0) }
        }
        return out
    }

    static func refQ8_K(_ x: [Float]) -> [UInt8] {
        var out = [UInt8]()
        for b in stride(from: 0, to: x.count, by: 256) {
            let blk = Array(x[b..<(b + 256)])
            var amax: Float = 0, mx: Float = 0
            for v in blk where abs(v) > amax { amax = abs(v); mx = v }
            var q = [Int8](repeating: 0, count: 256)
            var d: Float = 0
            if amax != 0 {
                let iscale = -127 / mx
                for j in 0..<256 { q[j] = Int8(min(127, Int((iscale * blk[j]).rounded(.toNearestOrEven)))) }
                d = 1 / iscale
            }
            withUnsafeBytes(of: d.bitPattern.littleEndian) { out += $0 }
            out += q.map { UInt8(bitPattern: $0) }
            for g in 0..<16 {
                let s = Int16(q[(16 * g)..<(16 * g + 16)].reduce(0) { $0 + Int($1) })
                withUnsafeBytes(of: s.littleEndian) { out += $0 }
            }
        }
        return out
    }

    // MARK: - Dequantization is bit-exact with gguf-py

    @Test(arguments: fixtureTypes, modes)
    func dequantizeMatchesGGUFPy(name: String, mode: Int32) throws {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let fx = try Self.loadFixture(name)
        let type = Self.typeID(name)
        #expect(Int(type) == fx.ggml_type)
        #expect(fx.rowBytes == fx.n_per_row / Int(sk_block_size(type)) * Int(sk_type_size(type)))
        let blocks = fx.blocks
        for r in 0..<fx.rows {
            let got = blocks.withUnsafeBytes { Self.dequantize(type, $0.baseAddress! + r * fx.rowBytes, fx.n_per_row) }
            let want = fx.dequant_f32_bits[(r * fx.n_per_row)..<((r + 1) * fx.n_per_row)]
            let bad = zip(got, want).enumerated().filter { $0.element.0.bitPattern != $0.element.1 }
            #expect(bad.isEmpty, "\(name) row \(r): \(bad.count) values differ, first at \(bad.first?.offset ?? -1)")
        }
    }

    // MARK: - Activation quantization

    /// Q8_0/Q8_1 activation rows carry, after the blocks (at the next multiple of 32 bytes), float
    /// d[nbp] and float t[nbp] (nbp = blocks rounded up to 8, zero padded): t = d * sum(q) for Q8_0,
    /// the f16 s as float for Q8_1.
    static func sideTableIsConsistent(_ row: [UInt8], blockBytes: Int, n: Int) -> Bool {
        let nb = n / 32, nbp = (nb + 7) / 8 * 8
        let off = (nb * blockBytes + 31) / 32 * 32
        guard row.count == off + 8 * nbp else { return false }
        func f(_ i: Int) -> Float {
            Float(bitPattern: UInt32(row[i]) | UInt32(row[i + 1]) << 8 | UInt32(row[i + 2]) << 16 | UInt32(row[i + 3]) << 24)
        }
        for b in 0..<nbp {
            let d = f(off + 4 * b), t = f(off + 4 * (nbp + b))
            if b >= nb {
                if d != 0 || t != 0 { return false }
                continue
            }
            let bo = b * blockBytes
            let d16 = Float(Float16(bitPattern: get16(row, bo)))
            let want: Float
            if blockBytes == 36 {
                want = Float(Float16(bitPattern: get16(row, bo + 2)))
            } else {
                let sum = (0..<32).reduce(0) { $0 + Int(Int8(bitPattern: row[bo + 2 + $1])) }
                want = d16 * Float(sum)
            }
            if d.bitPattern != d16.bitPattern || t.bitPattern != want.bitPattern { return false }
        }
        return true
    }

    /// Vectors that exercise rounding ties and edge cases, plus the fixture activations.
    static func activationVectors(n: Int) throws -> [[Float]] {
        var vs: [[Float]] = []
        for name in fixtureTypes {
            let fx = try loadFixture(name)
            let a = fx.activationFloats
            vs.append((0..<n).map { a[$0 % a.count] })
        }
        var rng = SplitMix64(seed: 7)
        // amax 127 -> d = 1, id = 1 in every 32- and 256-block: x.5 values are exact ties
        var ties = [Float](repeating: 0, count: n)
        for i in 0..<n { ties[i] = Float((i % 64) - 32) + 0.5 }
        for b in stride(from: 0, to: n, by: 32) { ties[b + 7] = (b / 32) % 2 == 0 ? 127 : -127 }
        vs.append(ties)
        // a zero block, tiny values (f16 subnormal scales), one dominant value, negative maxima
        var mixed = (0..<n).map { _ in normal(&rng) }
        for i in 0..<32 { mixed[i] = 0 }
        for i in 32..<64 { mixed[i] = mixed[i] * 1e-6 }
        mixed[70] = -1e4
        if n > 300 { mixed[300] = mixed[301] == 0 ? 3 : -abs(mixed[301]) * 1000 }
        vs.append(mixed)
        // equal magnitudes of both signs: the first one must set the sign of the Q8_K scale
        var pm = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
        pm[5] = -2
        pm[9] = 2
        vs.append(pm)
        vs.append([Float](repeating: 0, count: n))
        return vs
    }

    @Test(arguments: ["Q8_0", "Q8_1", "Q8_K"], modes)
    func activationQuantizationMatchesGGMLReference(act: String, mode: Int32) throws {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let n = 512
        let weightType: Int32 = act == "Q8_0" ? Int32(SK_Q4_0) : act == "Q8_1" ? Int32(SK_Q4_1) : Int32(SK_Q4_K)
        for (k, x) in try Self.activationVectors(n: n).enumerated() {
            let got = Self.quantize(weightType, x)
            let want = act == "Q8_0" ? Self.refQ8_0(x) : act == "Q8_1" ? Self.refQ8_1(x) : Self.refQ8_K(x)
            // the row starts with the GGML blocks (Q8_0/Q8_1 rows continue with the float side table)
            #expect(got.count >= want.count)
            let firstBad = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(firstBad == nil, "\(act) vector \(k): first differing byte \(firstBad ?? -1)")
            if act != "Q8_K" {
                #expect(Self.sideTableIsConsistent(got, blockBytes: act == "Q8_0" ? 34 : 36, n: x.count), "\(act) vector \(k): side table")
            }
        }
    }

    @Test(arguments: ["Q4_0", "Q5_0", "Q8_0", "IQ4_NL"], modes)
    func q8_0ActivationMatchesGGUFPy(name: String, mode: Int32) throws {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let fx = try Self.loadFixture(name)
        let want = try #require(fx.activation_q8_0_hex)
        let got = Self.quantize(Self.typeID(name), fx.activationFloats)
        let ref = Self.bytes(hex: want)
        #expect(Array(got.prefix(ref.count)) == ref)
    }

    // MARK: - Dot products

    /// |min offset| of every weight value, the part of w_i = d q_i - off_i (or + m) that the kernels
    /// handle separately (Q4_1/Q5_1: m of the block; Q4_K/Q5_K: dmin * m_j of the sub-block; Q2_K:
    /// dmin * m_g of the 16-value group), 0 for other types. Decoded independently of the C code
    /// (GGML's get_scale_min_k4 packing; Q2_K's min is the high nibble of the group's scale byte).
    static func minOffsets(_ type: Int32, _ blocks: [UInt8], rowOffset: Int, n: Int) -> [Double] {
        let ts = Int(sk_type_size(type))
        var off = [Double](repeating: 0, count: n)
        switch Int(type) {
        case SK_Q4_1, SK_Q5_1:
            for b in 0..<(n / 32) {
                let m = abs(Double(Float(Float16(bitPattern: get16(blocks, rowOffset + b * ts + 2)))))
                for i in 0..<32 { off[32 * b + i] = m }
            }
        case SK_Q4_K, SK_Q5_K:
            for sb in 0..<(n / 256) {
                let o = rowOffset + sb * ts
                let dmin = abs(Double(Float(Float16(bitPattern: get16(blocks, o + 2)))))
                let q = Array(blocks[(o + 4)..<(o + 16)])
                for j in 0..<8 {
                    let m = j < 4 ? Int(q[j + 4] & 63) : Int(q[j + 4] >> 4) | Int(q[j] >> 6) << 4
                    for i in 0..<32 { off[256 * sb + 32 * j + i] = dmin * Double(m) }
                }
            }
        case SK_Q2_K:
            for sb in 0..<(n / 256) {
                let o = rowOffset + sb * ts
                let dmin = abs(Double(Float(Float16(bitPattern: get16(blocks, o + 82)))))
                for g in 0..<16 {
                    for i in 0..<16 { off[256 * sb + 16 * g + i] = dmin * Double(blocks[o + g] >> 4) }
                }
            }
        default: break
        }
        return off
    }

    /// Bound on float rounding in a kernel: every block product is exact or rounded relative to its
    /// own size, and partial sums are accumulated in float; n * 2^-24 times the sum of the magnitudes
    /// |d q_i a_i| <= (|w_i| + off_i) |a_i| covers both, and we allow twice that.
    static func roundingBound(w: ArraySlice<Float>, off: [Double], a: [Float]) -> Double {
        var mag = 0.0
        for (k, (wi, ai)) in zip(w, a).enumerated() { mag += (abs(Double(wi)) + off[k]) * abs(Double(ai)) }
        return 2 * Double(a.count) * 0x1p-24 * mag + 1e-30
    }

    // Tolerance of sk_vec_dot against the float64 dot of the gguf-py dequantized row with the float
    // activation x. The kernel multiplies the weights with the 8-bit quantized activation
    // â_i = d_b * q_i (block b of 32 values for Q8_0/Q8_1, 256 for Q8_K), d_b = max|x| / 127:
    //   |x_i - d_b q_i| <= d_b / 2                               (q_i = x_i / d_b rounded to nearest)
    //   |d_b - f16(d_b)| * |q_i| <= 2^-11 d_b * 127 < 0.07 d_b     (Q8_0/Q8_1 store d_b as f16)
    // so |sum_i w_i (x_i - â_i)| <= sum_b 0.6 d_b sum_{i in b} |w_i|. Q4_1/Q5_1 take their min term
    // m_b * sum â from the f16 block sum s_b = f16(d_b sum q) (computed with the unrounded d_b):
    // |s_b - f16(d_b) sum q| <= 2 * 2^-11 (sum_b |x_i| + 16 d_b), times |m_b|. Float rounding adds
    // roundingBound. F32/F16/BF16 weights use x itself: only the rounding term applies.
    static func quantizationBound(_ type: Int32, w: ArraySlice<Float>, x: [Float], off: [Double]) -> (bound: Double, magnitude: Double) {
        let vt = sk_vec_dot_type(type)
        let n = x.count
        let wa = Array(w)
        let mag = zip(wa, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        var bound = 0.0
        var xPlusHalfStep = x.map { abs(Double($0)) }
        if vt != Int32(SK_F32) {
            let bs = vt == Int32(SK_Q8_K) ? 256 : 32
            for b in stride(from: 0, to: n, by: bs) {
                let d = Double(x[b..<(b + bs)].reduce(Float(0)) { max($0, abs($1)) }) / 127
                bound += 0.6 * d * wa[b..<(b + bs)].reduce(0.0) { $0 + abs(Double($1)) }
                for i in b..<(b + bs) { xPlusHalfStep[i] += d }
                if vt == Int32(SK_Q8_1) {
                    let sx = x[b..<(b + bs)].reduce(0.0) { $0 + abs(Double($1)) }
                    bound += off[b] * 2 * 0x1p-11 * (sx + 16 * d)
                }
            }
        }
        bound += roundingBound(w: w, off: off, a: xPlusHalfStep.map { Float($0) })
        return (bound, mag)
    }

    @Test(arguments: fixtureTypes, modes)
    func vecDotMatchesFloat64Reference(name: String, mode: Int32) throws {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let fx = try Self.loadFixture(name)
        let type = Self.typeID(name)
        let n = fx.n_per_row
        let x = fx.activationFloats
        let act = Self.quantize(type, x)
        let blocks = fx.blocks
        let xa = Self.effectiveActivation(type, act, n)
        for r in 0..<fx.rows {
            let got = Self.vecDot(type, n, blocks, row: r, rowBytes: fx.rowBytes, act)
            let w = fx.dequant_f32_bits[(r * n)..<((r + 1) * n)].map { Float(bitPattern: $0) }
            let off = Self.minOffsets(type, blocks, rowOffset: r * fx.rowBytes, n: n)
            let (bound, mag) = Self.quantizationBound(type, w: w[...], x: x, off: off)
            // the bound must be a real constraint, not a blanket
            #expect(bound < 0.05 * mag, "\(name): tolerance \(bound) too loose for magnitude \(mag)")
            #expect(abs(Double(got) - fx.dot_f64[r]) <= bound,
                    "\(name) row \(r): got \(got), float64 reference \(fx.dot_f64[r]), bound \(bound)")

            // Tight check: the exact dot of the same dequantized weights with the activation as
            // quantized (Q8_1: with its f16 block sums for the min term), up to float rounding.
            var exact = 0.0
            for i in 0..<n { exact += Double(w[i]) * Double(xa[i]) }
            if sk_vec_dot_type(type) == Int32(SK_Q8_1) {
                let ts = Int(sk_type_size(type))
                for b in 0..<(n / 32) {
                    let m = Double(Float(Float16(bitPattern: Self.get16(blocks, r * fx.rowBytes + b * ts + 2))))
                    let s = Double(Float(Float16(bitPattern: Self.get16(act, b * 36 + 2))))
                    let sq = xa[(32 * b)..<(32 * b + 32)].reduce(0.0) { $0 + Double($1) }
                    exact += m * (s - sq)
                }
            }
            let tight = Self.roundingBound(w: w[...], off: off, a: xa)
            #expect(abs(Double(got) - exact) <= tight,
                    "\(name) row \(r): got \(got), exact dot with the quantized activation \(exact), tolerance \(tight)")
        }
    }

    // Sizes for the random-weight tests: an odd number of 32-blocks (tail path), several K
    // super-blocks, and a float length that is not a multiple of 8 or 32.
    static func testLength(_ type: Int32) -> Int {
        switch Int(sk_block_size(type)) {
        case 256: return 768
        case 32: return 32 * 9
        default: return 1003
        }
    }

    static let allWeightTypes = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
                                 "Q6_K", "IQ4_NL", "IQ4_XS"]

    @Test(arguments: allWeightTypes)
    func avx2AndScalarPathsAgree(name: String) throws {
        defer { sk_init_thread(-1) }
        let type = Self.typeID(name)
        let n = Self.testLength(type)
        let rows = 6
        var rng = SplitMix64(seed: 0xC0FFEE &+ UInt64(type))
        let w = Self.randomWeights(type, rows: rows, n: n, rng: &rng)
        let rowBytes = w.count / rows
        let x = (0..<n).map { _ in Self.normal(&rng) }

        Self.usePath(1)
        let actScalar = Self.quantize(type, x)
        let dotScalar = (0..<rows).map { Self.vecDot(type, n, w, row: $0, rowBytes: rowBytes, actScalar) }
        let deqScalar = w.withUnsafeBytes { Self.dequantize(type, $0.baseAddress!, rows * n) }
        let avx2 = Self.usePath(0)
        let actAVX = Self.quantize(type, x)
        let dotAVX = (0..<rows).map { Self.vecDot(type, n, w, row: $0, rowBytes: rowBytes, actScalar) }
        let deqAVX = w.withUnsafeBytes { Self.dequantize(type, $0.baseAddress!, rows * n) }

        #expect(actScalar == actAVX, "activation quantization differs between paths")
        #expect(deqScalar.map(\.bitPattern) == deqAVX.map(\.bitPattern), "dequantization differs between paths")
        let xa = Self.effectiveActivation(type, actScalar, n)
        for r in 0..<rows {
            // both sum exact integer block products (or float products), in different orders: they
            // differ by float rounding only
            let off = Self.minOffsets(type, w, rowOffset: r * rowBytes, n: n)
            let tol = Self.roundingBound(w: deqScalar[(r * n)..<((r + 1) * n)], off: off, a: xa)
            #expect(dotScalar[r].isFinite)
            #expect(abs(Double(dotScalar[r]) - Double(dotAVX[r])) <= tol,
                    "\(name) row \(r): scalar \(dotScalar[r]) vs AVX2 \(dotAVX[r]) (AVX2 active: \(avx2))")
        }
    }

    /// Runs sk_matmul over rows r0..<r1 for every n_tok in `tokenCounts` and checks each result
    /// bit for bit against sk_vec_dot, and that nothing outside the rows was written.
    static func checkMatmul(_ name: String, rows: Int, ranges: [(Int, Int)], tokenCounts: [Int], seed: UInt64) {
        let type = typeID(name)
        let n = testLength(type)
        var rng = SplitMix64(seed: seed)
        let w = randomWeights(type, rows: rows, n: n, rng: &rng)
        let rowBytes = w.count / rows
        let sentinel = Float(bitPattern: 0x7FC0_DEAD)
        for nTok in tokenCounts {
            var acts = [UInt8]()
            var actBytes = 0
            for _ in 0..<nTok {
                let a = quantize(type, (0..<n).map { _ in normal(&rng) })
                actBytes = a.count
                acts += a
            }
            let dots = (0..<nTok).map { t in
                let act = Array(acts[(t * actBytes)..<((t + 1) * actBytes)])
                return (0..<rows).map { vecDot(type, n, w, row: $0, rowBytes: rowBytes, act).bitPattern }
            }
            for (r0, r1) in ranges {
                let stride = rows + 3
                var out = [Float](repeating: sentinel, count: nTok * stride)
                w.withUnsafeBytes { wp in
                    acts.withUnsafeBytes { ap in
                        out.withUnsafeMutableBufferPointer { op in
                            sk_matmul(type, Int64(n), wp.baseAddress, rowBytes, Int64(r0), Int64(r1), ap.baseAddress,
                                      actBytes, Int64(nTok), op.baseAddress, Int64(stride))
                        }
                    }
                }
                var mismatches = 0, clobbered = 0
                for t in 0..<nTok {
                    for r in 0..<stride {
                        let v = out[t * stride + r].bitPattern
                        if r >= r0 && r < r1 {
                            if v != dots[t][r] { mismatches += 1 }
                        } else if v != sentinel.bitPattern {
                            clobbered += 1
                        }
                    }
                }
                #expect(mismatches == 0, "\(name) n_tok \(nTok) rows \(r0)..<\(r1): \(mismatches) results differ from sk_vec_dot")
                #expect(clobbered == 0, "\(name) n_tok \(nTok) rows \(r0)..<\(r1): wrote \(clobbered) values outside the range")
            }
        }
    }

    // The VNNI builds of the quantized kernels claim the plain AVX2 results bit for bit (the integer
    // sums are exact either way), including the wider prompt tiles.
    @Test(arguments: ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"])
    func cpuAdditionsMatchPlainAVX2(name: String) {
        defer { sk_init_thread(-1) }
        let type = Self.typeID(name)
        var rng = SplitMix64(seed: 0xA11 &+ UInt64(type))
        let rows = 7, n = 512, tokens = 9
        let w = Self.randomWeights(type, rows: rows, n: n, rng: &rng)
        var acts = [UInt8]()
        for _ in 0..<tokens { acts += Self.quantize(type, (0..<n).map { _ in Self.normal(&rng) }) }
        func matmul(_ mode: Int32) -> [UInt32] {
            Self.usePath(mode)
            var out = [Float](repeating: 0, count: rows * tokens)
            w.withUnsafeBytes { wp in
                acts.withUnsafeBytes { ap in
                    sk_matmul(type, Int64(n), wp.baseAddress, w.count / rows, 0, Int64(rows), ap.baseAddress,
                              acts.count / tokens, Int64(tokens), &out, Int64(rows))
                }
            }
            return out.map(\.bitPattern)
        }
        #expect(matmul(0) == matmul(2), "\(name)")
    }

    @Test(arguments: allWeightTypes, modes)
    func matmulEqualsPerRowVecDot(name: String, mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let type = Self.typeID(name)
        Self.checkMatmul(name, rows: 11, ranges: [(0, 11), (1, 10), (3, 8), (5, 6), (0, 1)], tokenCounts: [1, 3, 17],
                         seed: 0xBEEF &+ UInt64(type) &* 31 &+ UInt64(mode))
    }

    // enough rows for several row tiles of sk_matmul (at most 256 rows per tile)
    @Test(arguments: ["Q4_0", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q6_K", "IQ4_NL", "IQ4_XS", "F16"], modes)
    func matmulAcrossRowTiles(name: String, mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        Self.checkMatmul(name, rows: 601, ranges: [(0, 601), (3, 598)], tokenCounts: [1, 3], seed: 0xF00D &+ UInt64(mode))
    }

    // MARK: - F16 conversion

    @Test(arguments: modes)
    func f16ConversionMatchesSwiftFloat16(mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let halves = (0...0xFFFF).map { UInt16($0) }
        var f = [Float](repeating: 0, count: halves.count)
        sk_f16_to_f32(halves, &f, Int64(halves.count))
        var back = [UInt16](repeating: 0, count: halves.count)
        sk_f32_to_f16(f, &back, Int64(halves.count))
        var bad = 0, badTrip = 0
        for h in halves {
            let want = Float(Float16(bitPattern: h))
            let got = f[Int(h)]
            if want.isNaN {
                // NaNs come out quiet (as F16C does), sign and payload kept
                let expBits = (want.bitPattern & 0x8000_0000) | 0x7FC0_0000 | (UInt32(h & 0x3FF) << 13)
                if got.bitPattern != expBits { bad += 1 }
                if back[Int(h)] != h | 0x0200 { badTrip += 1 }
            } else {
                if got.bitPattern != want.bitPattern { bad += 1 }
                if back[Int(h)] != h { badTrip += 1 }
            }
        }
        #expect(bad == 0, "\(bad) of 65536 f16 -> f32 conversions differ from Float(Float16)")
        #expect(badTrip == 0, "\(badTrip) f16 -> f32 -> f16 round trips changed the value")

        // f32 -> f16 rounding: random patterns, ties, the overflow edge and the subnormal range
        var rng = SplitMix64(seed: 99)
        var xs: [Float] = (0..<200_000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }
        xs += (0..<100_000).map { _ in Float(bitPattern: UInt32.random(in: 0x3300_0000...0x4780_0000, using: &rng)) }
        for h in 0..<0x7BFF {
            let lo = Float(Float16(bitPattern: UInt16(h))), hi = Float(Float16(bitPattern: UInt16(h + 1)))
            let mid = (lo + hi) / 2  // exact tie
            xs += [mid, mid.nextDown, mid.nextUp, -mid]
        }
        xs += [65504, 65519.996, 65520, 65536, 1e9, .infinity, -.infinity, 0, -0.0, 0x1p-24, 0x1p-25, 0x1.000002p-25, 0x1p-26, .leastNonzeroMagnitude]
        var hs = [UInt16](repeating: 0, count: xs.count)
        sk_f32_to_f16(xs, &hs, Int64(xs.count))
        var badRound = 0
        for (i, x) in xs.enumerated() {
            if x.isNaN {
                if !Float16(bitPattern: hs[i]).isNaN { badRound += 1 }
            } else if hs[i] != Float16(x).bitPattern {
                badRound += 1
            }
        }
        #expect(badRound == 0, "\(badRound) of \(xs.count) f32 -> f16 conversions differ from Float16(Float)")
    }

    // MARK: - Float helpers against double-precision references

    static let floatLengths = [1, 7, 8, 33, 64, 1003]

    static func randomFloats(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in normal(&rng) * scale }
    }

    @Test(arguments: floatLengths, modes)
    func dotAndAxpyHelpers(n: Int, mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let a = Self.randomFloats(n, seed: 1), b = Self.randomFloats(n, seed: 2)
        let h = a.map { Float16($0).bitPattern }
        let hf = h.map { Double(Float(Float16(bitPattern: $0))) }
        var ref = 0.0, mag = 0.0, refH = 0.0, magH = 0.0
        for i in 0..<n {
            ref += Double(a[i]) * Double(b[i])
            mag += abs(Double(a[i]) * Double(b[i]))
            refH += hf[i] * Double(b[i])
            magH += abs(hf[i] * Double(b[i]))
        }
        let tol = 2 * Double(n) * 0x1p-24
        #expect(abs(Double(sk_dot_f32(a, b, Int64(n))) - ref) <= tol * mag + 1e-30)
        #expect(abs(Double(sk_dot_f16_f32(h, b, Int64(n))) - refH) <= tol * magH + 1e-30)

        var y = b
        let alpha: Float = 0.37
        sk_axpy_f16(&y, alpha, h, Int64(n))
        for i in 0..<n {
            let want = Double(b[i]) + Double(alpha) * hf[i]
            #expect(abs(Double(y[i]) - want) <= 0x1p-22 * (abs(Double(b[i])) + abs(Double(alpha) * hf[i])) + 1e-30)
        }
    }

    @Test(arguments: floatLengths, modes)
    func rmsnormMatchesDoubleReference(n: Int, mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let x = Self.randomFloats(n, seed: 3, scale: 3)
        let w = Self.randomFloats(n, seed: 4)
        let eps: Float = 1e-5
        let mean = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
        let scale = 1 / (mean + Double(eps)).squareRoot()
        var y = [Float](repeating: .nan, count: n)
        sk_rmsnorm(&y, x, w, Int64(n), eps)
        var yNoW = [Float](repeating: .nan, count: n)
        sk_rmsnorm(&yNoW, x, nil, Int64(n), eps)
        for i in 0..<n {
            let want = Double(x[i]) * scale * Double(w[i])
            #expect(abs(Double(y[i]) - want) <= 1e-6 * abs(want) + 1e-30, "i \(i): \(y[i]) vs \(want)")
            let want1 = Double(x[i]) * scale
            #expect(abs(Double(yNoW[i]) - want1) <= 1e-6 * abs(want1) + 1e-30)
        }
        // in place
        var z = x
        z.withUnsafeMutableBufferPointer { sk_rmsnorm($0.baseAddress, $0.baseAddress, nil, Int64(n), eps) }
        #expect(z.map(\.bitPattern) == yNoW.map(\.bitPattern))
    }

    static func activationInputs(_ n: Int, seed: UInt64) -> [Float] {
        var g = randomFloats(n, seed: seed, scale: 4)
        let edges: [Float] = [0, -0.0, 1e-20, -1e-20, 10, -10, 20, -20, 30, -30, 88, -88, 100, -100]
        for (i, e) in edges.enumerated() where i < n { g[(i * 7) % n] = e }
        return g
    }

    @Test(arguments: floatLengths, modes)
    func siluMulMatchesDoubleReference(n: Int, mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let g0 = Self.activationInputs(n, seed: 5)
        let u = Self.randomFloats(n, seed: 6)
        var g = g0
        sk_silu_mul(&g, u, Int64(n))
        for i in 0..<n {
            let x = Double(g0[i])
            let want = x / (1 + Foundation.exp(-x)) * Double(u[i])
            // exp (rel. error < 2.5e-7 on the AVX2 path), one add, one divide, one multiply;
            // results below the float normal range only need to be tiny
            #expect(abs(Double(g[i]) - want) <= 2e-6 * abs(want) + 1e-37, "x \(x): \(g[i]) vs \(want)")
        }
    }

    @Test(arguments: floatLengths, modes)
    func geluMulMatchesDoubleReference(n: Int, mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        let g0 = Self.activationInputs(n, seed: 7)
        let u = Self.randomFloats(n, seed: 8)
        var g = g0
        sk_gelu_mul(&g, u, Int64(n))
        for i in 0..<n {
            let x = Double(g0[i])
            let z = 0.7978845608028654 * x * (1 + 0.044715 * x * x)
            let want = 0.5 * x * (1 + Foundation.tanh(z)) * Double(u[i])
            // relative error of a few ulp, plus (scalar path, GGML's formula) the absolute error of
            // 1 + tanhf(z) for negative z: about one float ulp of 1, times 0.5 |x u|
            let tol = 2e-6 * abs(want) + 2.5e-7 * abs(x * Double(u[i])) + 1e-37
            #expect(abs(Double(g[i]) - want) <= tol, "x \(x): \(g[i]) vs \(want)")
        }
    }

    @Test(arguments: floatLengths, modes)
    func softmaxMatchesDoubleReference(n: Int, mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        var x = Self.randomFloats(n, seed: 9, scale: 5)
        if n > 4 { x[1] = -.infinity; x[3] = x[3] - 200 }  // masked and negligible entries
        let mx = x.reduce(-Double.infinity) { max($0, Double($1)) }
        let e = x.map { Foundation.exp(Double($0) - mx) }
        let s = e.reduce(0, +)
        var y = x
        sk_softmax(&y, Int64(n))
        var total = 0.0
        for i in 0..<n {
            let want = e[i] / s
            total += Double(y[i])
            // exp and scaling: a few ulp; x - max rounds to half an ulp of |x - max| in the exponent
            let tol = x[i].isFinite ? want * (2e-6 + 0x1p-23 * abs(Double(x[i]) - mx)) + 1e-40 : 0
            #expect(abs(Double(y[i]) - want) <= tol, "i \(i): \(y[i]) vs \(want)")
        }
        #expect(abs(total - 1) <= 1e-5)
        if n > 4 { #expect(y[1] == 0) }
    }

    @Test(arguments: modes)
    func expApproximationIsAccurate(mode: Int32) {
        Self.usePath(mode)
        defer { sk_init_thread(-1) }
        // results in the normal float range: relative error < 1e-6 (a few ulp)
        let xs = (0..<200_001).map { Float(-87.0 + 175.7 * Double($0) / 200_000) }
        var ys = [Float](repeating: .nan, count: xs.count)
        sk_exp_f32(xs, &ys, Int64(xs.count))
        var worst = 0.0
        for (x, y) in zip(xs, ys) {
            let r = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(y) - r) / r)
        }
        #expect(worst < 1e-6, "max relative error \(worst)")
        let special: [Float] = [-.infinity, -1000, -104, -103, -90, 0, 89, 1000, .infinity, .nan]
        var out = [Float](repeating: 0, count: special.count)
        sk_exp_f32(special, &out, Int64(special.count))
        #expect(out[0] == 0 && out[1] == 0 && out[2] == 0)
        #expect(out[3] > 0 && out[3] <= 2 * Float.leastNonzeroMagnitude)  // e^-103 ~ 1.4e-45, the smallest subnormal
        #expect(abs(Double(out[4]) - Foundation.exp(-90.0)) <= 2e-45)
        #expect(out[5] == 1)
        #expect(out[6] == .infinity && out[7] == .infinity && out[8] == .infinity)
        #expect(out[9].isNaN)
    }

    // MARK: - Types, sizes and dispatch

    @Test func typeTablesMatchGGML() {
        // (type, block size, block bytes, activation type)
        let table: [(Int, Int32, Int, Int32)] = [
            (SK_F32, 1, 4, Int32(SK_F32)), (SK_F16, 1, 2, Int32(SK_F32)), (SK_BF16, 1, 2, Int32(SK_F32)),
            (SK_Q4_0, 32, 18, Int32(SK_Q8_0)), (SK_Q4_1, 32, 20, Int32(SK_Q8_1)), (SK_Q5_0, 32, 22, Int32(SK_Q8_0)),
            (SK_Q5_1, 32, 24, Int32(SK_Q8_1)), (SK_Q8_0, 32, 34, Int32(SK_Q8_0)), (SK_Q8_1, 32, 36, -1),
            (SK_Q2_K, 256, 84, Int32(SK_Q8_K)), (SK_Q3_K, 256, 110, Int32(SK_Q8_K)),
            (SK_Q4_K, 256, 144, Int32(SK_Q8_K)), (SK_Q5_K, 256, 176, Int32(SK_Q8_K)), (SK_Q6_K, 256, 210, Int32(SK_Q8_K)),
            (SK_Q8_K, 256, 292, -1), (SK_IQ4_NL, 32, 18, Int32(SK_Q8_0)), (SK_IQ4_XS, 256, 136, Int32(SK_Q8_K)),
        ]
        for (t, bs, ts, vt) in table {
            #expect(sk_block_size(Int32(t)) == bs)
            #expect(sk_type_size(Int32(t)) == ts)
            #expect(sk_vec_dot_type(Int32(t)) == vt)
        }
        #expect(sk_vec_dot_type(16) == -1)  // IQ2_XXS: not supported
        // the engine's list of weight types is the kernels' list
        for t in GGMLType.allCases {
            #expect(t.isSupportedForWeights == (sk_vec_dot_type(Int32(t.rawValue)) >= 0), "\(t)")
            if t.isSupportedForWeights {
                #expect(Int(sk_block_size(Int32(t.rawValue))) == t.blockSize && Int(sk_type_size(Int32(t.rawValue))) == t.blockBytes, "\(t)")
            }
        }
        #expect(sk_activation_row_bytes(Int32(SK_Q4_K), 4096) == 16 * 292)
        // Q8_0/Q8_1 rows: blocks, padded to 32 bytes, then two float tables of nb rounded up to 8
        #expect(sk_activation_row_bytes(Int32(SK_Q4_1), 4096) == 128 * 36 + 2 * 128 * 4)
        #expect(sk_activation_row_bytes(Int32(SK_Q8_0), 4096) == 128 * 34 + 2 * 128 * 4)
        #expect(sk_activation_row_bytes(Int32(SK_Q5_0), 96) == 128 + 2 * 8 * 4)
        #expect(sk_activation_row_bytes(Int32(SK_F16), 100) == 400)
    }

    @Test func dispatchFollowsCPUFeatures() throws {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flagsLine = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let hasAVX2 = flags.contains("avx2") && flags.contains("fma") && flags.contains("f16c")
        #expect(sk_init(0) == (hasAVX2 ? 1 : 0))
        #expect(sk_init(0) == (hasAVX2 ? 1 : 0))  // idempotent
        defer { sk_init_thread(-1) }
        #expect(sk_init_thread(1) == 0)
        #expect(sk_init_active_is_avx2() == 0)
        #expect(sk_init_thread(0) == (hasAVX2 ? 1 : 0))
        #expect(sk_init_active_is_avx2() == (hasAVX2 ? 1 : 0))
        #expect(sk_init_thread(2) == (hasAVX2 ? 1 : 0))
    }
}
