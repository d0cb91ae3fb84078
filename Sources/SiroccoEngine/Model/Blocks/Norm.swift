// Norm: the normalisations of a transformer block — RMSNorm (Llama, Qwen, Gemma) and LayerNorm
// with a bias (Falcon) — applied to [rows, width] activations, and per attention head (QK-norm).

import CKernels

/// A norm's kind and weights ([width] each).
struct Norm {
    enum Kind { case rms, layer }
    let kind: Kind
    let weight: [Float]
    let bias: [Float]?
    let epsilon: Float
    var width: Int { weight.count }

    /// `out = norm(x)` for `rows` rows of `width` values (out may be x).
    func apply(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows n: Int) {
        let width = self.width
        weight.withUnsafeBufferPointer { w in
            switch kind {
            case .rms:
                for i in 0..<n { sk_rmsnorm(out + i * width, x + i * width, w.baseAddress, Int64(width), epsilon) }
            case .layer:
                (bias ?? []).withUnsafeBufferPointer { b in
                    for i in 0..<n {
                        sk_layernorm(out + i * width, x + i * width, w.baseAddress, b.baseAddress, Int64(width), epsilon)
                    }
                }
            }
        }
    }
}

extension ForwardPass {
    /// `out = norm(x)` for the batch's rows ([batch, dim]).
    func norm(_ norm: Norm, _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let dim = config.embeddingLength
        eachRows { r in norm.apply(x + r.lowerBound * dim, into: out + r.lowerBound * dim, rows: r.count) }
    }
}

extension TensorLoader {
    /// An RMSNorm weight of `width` values.
    func rmsNorm(_ name: String, width: Int, epsilon: Float) throws(ModelError) -> Norm {
        Norm(kind: .rms, weight: try vector(name, count: width), bias: nil, epsilon: epsilon)
    }

    /// An RMSNorm the file may leave out.
    func optionalRMSNorm(_ name: String, width: Int, epsilon: Float) throws(ModelError) -> Norm? {
        has(name) ? try rmsNorm(name, width: width, epsilon: epsilon) : nil
    }

    /// A LayerNorm weight and its bias.
    func layerNorm(_ weight: String, bias: String, width: Int, epsilon: Float) throws(ModelError) -> Norm {
        Norm(kind: .layer, weight: try vector(weight, count: width), bias: try vector(bias, count: width), epsilon: epsilon)
    }
}
