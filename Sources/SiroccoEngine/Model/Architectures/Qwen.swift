// Qwen: Qwen2 (biases on Q, K and V) and Qwen3 (RMSNorm of each query and key head before RoPE),
// both the Llama family's pre-norm decoder with NeoX RoPE (llama.cpp's models/qwen2.cpp, qwen3.cpp).

extension Architecture {
    static let qwen2 = Architecture(name: "qwen2", ropeStyle: .neox) { t, config throws(ModelError) in
        try LlamaNetwork(loading: t, config: config, attention: .init(biases: .required))
    }

    static let qwen3 = Architecture(name: "qwen3", ropeStyle: .neox) { t, config throws(ModelError) in
        try LlamaNetwork(loading: t, config: config, attention: .init(biases: .absent, qkNorm: .required))
    }
}
