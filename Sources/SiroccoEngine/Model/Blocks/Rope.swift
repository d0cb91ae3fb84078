// Rope: rotary position embeddings. The cos/sin of every angle are computed once per forward call
// (for the global layers and, when windowed layers have their own base, for those), then applied to
// each head of the queries and keys, as GGML computes them.

import Foundation

extension ForwardPass {
    /// Fills the batch's cos/sin tables (`factors`: Llama 3.1's per-frequency divisors).
    func prepareRope(factors: [Float]? = nil) {
        let c = config, s = scratch
        ropeTables(base: c.ropeFreqBase, freqScale: c.ropeFreqScale, factors: factors, cos: s.ropeCos, sin: s.ropeSin)
        if let localBase = c.localRopeFreqBase {
            ropeTables(base: localBase, freqScale: 1, factors: factors, cos: s.ropeCosLocal, sin: s.ropeSinLocal)
        }
    }

    /// cos/sin of every rotation angle for each position of the batch, computed as GGML does
    /// (theta_i = p · scale · base^(-2i/d), built by repeated multiplication in Float).
    private func ropeTables(base: Float, freqScale: Float, factors: [Float]?,
                            cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let half = config.ropeDimensions / 2
        let thetaScale = powf(base, -2.0 / Float(config.ropeDimensions))
        for i in 0..<rows {
            var theta = Float(position(ofRow: i)) * freqScale
            for j in 0..<half {
                var angle = theta
                if let f = factors { angle /= f[j] }
                cos[i * half + j] = cosf(angle)
                sin[i * half + j] = sinf(angle)
                theta *= thetaScale
            }
        }
    }

    /// Rotates `heads` heads of `rows` rows (rows `first..<first+rows` of the batch) in place, with
    /// the tables of layer `l` (sliding-window layers may have their own base).
    func applyRope(_ x: UnsafeMutablePointer<Float>, heads: Int, layer l: Int, first: Int, rows n: Int) {
        let c = config
        let half = c.ropeDimensions / 2
        let hd = c.headDim
        // the layer's kind, not its cache: a windowed layer whose window spans the whole context
        // keeps every cell, yet still rotates with the local base
        let local = c.localRopeFreqBase != nil && c.window(layer: l) != nil
        let cos = (local ? scratch.ropeCosLocal : scratch.ropeCos) + first * half
        let sin = (local ? scratch.ropeSinLocal : scratch.ropeSin) + first * half
        let rowStride = heads * hd
        for i in 0..<n {
            let cosRow = cos + i * half
            let sinRow = sin + i * half
            for h in 0..<heads {
                let v = x + i * rowStride + h * hd
                switch c.ropeStyle {
                case .normal:  // rotate adjacent pairs (x0, x1), (x2, x3), ...
                    for j in 0..<half {
                        let a = v[2 * j], b = v[2 * j + 1]
                        v[2 * j] = a * cosRow[j] - b * sinRow[j]
                        v[2 * j + 1] = a * sinRow[j] + b * cosRow[j]
                    }
                case .neox:  // rotate (x_j, x_{j+half}) over the rotated dimensions
                    for j in 0..<half {
                        let a = v[j], b = v[j + half]
                        v[j] = a * cosRow[j] - b * sinRow[j]
                        v[j + half] = a * sinRow[j] + b * cosRow[j]
                    }
                }
            }
        }
    }
}
