// Phi-3: the Llama family's pre-norm decoder with NeoX RoPE, Q, K and V fused in one `attn_qkv`
// matrix and gate and up fused in one `ffn_up` (llama.cpp's models/phi3.cpp); split here as
// zero-copy row views.

extension Architecture {
    static let phi3 = Architecture(name: "phi3", ropeStyle: .neox) { t, config throws(ModelError) in
        try LlamaNetwork(loading: t, config: config, attention: .init(fusedQKV: .optional, biases: .absent))
    }
}
