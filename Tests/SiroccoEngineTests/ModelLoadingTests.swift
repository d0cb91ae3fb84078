// Loading a model whose file is a valid GGUF but not a usable model: each problem is named.

import Foundation
import Testing
@testable import SiroccoEngine

@Suite struct ModelLoadingTests {
    /// A minimal Llama-shaped file: dim 32, 1 layer, 2 heads / 1 KV head, ffn 64, vocab 4.
    func tinyLlama(dropping: String? = nil, edit: (inout GGUFTestWriter) -> Void = { _ in }) -> GGUFTestWriter {
        var w = GGUFTestWriter()
        w.metadata = [
            ("general.architecture", .string("llama")),
            ("llama.embedding_length", .u32(32)),
            ("llama.block_count", .u32(1)),
            ("llama.feed_forward_length", .u32(64)),
            ("llama.attention.head_count", .u32(2)),
            ("llama.attention.head_count_kv", .u32(1)),
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.tokens", .strings(["a", "b", "c", "d"])),
        ].filter { $0.0 != dropping }
        func matrix(_ name: String, _ rows: Int, _ cols: Int) -> GGUFTestWriter.Tensor {
            GGUFTestWriter.f32Tensor(name, [Float](repeating: 0.01, count: rows * cols), dims: [UInt64(cols), UInt64(rows)])
        }
        w.tensors = [
            matrix("token_embd.weight", 4, 32),
            GGUFTestWriter.f32Tensor("blk.0.attn_norm.weight", [Float](repeating: 1, count: 32)),
            matrix("blk.0.attn_q.weight", 32, 32),
            matrix("blk.0.attn_k.weight", 16, 32),
            matrix("blk.0.attn_v.weight", 16, 32),
            matrix("blk.0.attn_output.weight", 32, 32),
            GGUFTestWriter.f32Tensor("blk.0.ffn_norm.weight", [Float](repeating: 1, count: 32)),
            matrix("blk.0.ffn_gate.weight", 64, 32),
            matrix("blk.0.ffn_up.weight", 64, 32),
            matrix("blk.0.ffn_down.weight", 32, 64),
            GGUFTestWriter.f32Tensor("output_norm.weight", [Float](repeating: 1, count: 32)),
        ].filter { $0.name != dropping }
        edit(&w)
        return w
    }

    func open(_ w: GGUFTestWriter) throws -> GGUFFile {
        let path = GGUFTestWriter.write(w.build().bytes, name: "model")
        return try GGUFFile(path: path)
    }

    func loadError(_ w: GGUFTestWriter) throws -> ModelError? {
        let file = try open(w)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        do {
            let config = try ModelConfig(gguf: file)
            _ = try Model.loadNetwork(TensorLoader(file: file), config: config)
            return nil
        } catch {
            return error
        }
    }

    @Test func aQ8CacheForHeadsItCannotHoldIsAnError() throws {
        // tinyLlama's heads are 16 values: not whole 32-value Q8_0 blocks
        let file = try open(tinyLlama { w in
            w.metadata = w.metadata.map { $0.0 == "tokenizer.ggml.tokens" ? ($0.0, .strings(["a", "b", "ab", "c"])) : $0 }
            w.metadata.append(("tokenizer.ggml.merges", .strings(["a b"])))
        })
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let model = try Model(path: file.path)
        #expect(model.config.headDim == 16)
        #expect(throws: ModelError.unsupportedCacheType("q8_0", headDim: 16)) {
            try InferenceContext(model: model, contextLength: 8, threads: 1, cacheType: .q8_0)
        }
        let f16 = try InferenceContext(model: model, contextLength: 8, threads: 1, cacheType: .f16)
        #expect(try f16.evaluate([1, 2]).count == 4)
    }

    @Test func aCompleteFileLoadsAndTiesTheOutputToTheEmbedding() throws {
        let file = try open(tinyLlama())
        let config = try ModelConfig(gguf: file)
        #expect(config.headDim == 16 && config.groupSize == 2 && config.vocabularySize == 4)
        let network = try #require(try Model.loadNetwork(TensorLoader(file: file), config: config) as? LlamaNetwork)
        #expect(network.ends.output.name == "token_embd.weight")
    }

    @Test func missingArchitecture() throws {
        let e = try loadError(tinyLlama(dropping: "general.architecture"))
        #expect(e == .missingKey(file: e?.file ?? "", key: "general.architecture"))
    }

    @Test func unsupportedArchitectureListsTheSupportedOnes() throws {
        let e = try #require(try loadError(tinyLlama { $0.metadata[0] = ("general.architecture", .string("mamba")) }))
        #expect(e.description.contains("'mamba' is not supported") && e.description.contains("llama"))
    }

    @Test func missingHyperparameter() throws {
        let e = try loadError(tinyLlama(dropping: "llama.block_count"))
        #expect(e == .missingKey(file: e?.file ?? "", key: "llama.block_count"))
    }

    @Test func headsThatDoNotDivide() throws {
        let e = try #require(try loadError(tinyLlama { $0.metadata[5] = ("llama.attention.head_count_kv", .u32(3)) }))
        #expect(e.description.contains("do not divide"))
    }

    @Test(arguments: ["token_embd.weight", "blk.0.attn_k.weight", "blk.0.ffn_down.weight", "output_norm.weight"])
    func missingTensor(name: String) throws {
        let e = try loadError(tinyLlama(dropping: name))
        #expect(e == .missingTensor(file: e?.file ?? "", tensor: name))
    }

    @Test func wrongShape() throws {
        let e = try loadError(tinyLlama { w in
            let i = w.tensors.firstIndex { $0.name == "blk.0.attn_q.weight" }!
            w.tensors[i].dims = [16, 64]
        })
        #expect(e == .badTensorShape(file: e?.file ?? "", tensor: "blk.0.attn_q.weight", expected: [32, 32], actual: [16, 64]))
    }

    @Test func tensorTypeTheEngineCannotComputeWithIsNamed() throws {
        var w = GGUFTestWriter()
        w.metadata = [("general.architecture", .string("llama"))]
        // a [256, 2] IQ2_XXS matrix (66 bytes per 256-element block)
        w.tensors = [GGUFTestWriter.Tensor(name: "x", dims: [256, 2], type: 16, data: [UInt8](repeating: 0, count: 132))]
        let file = try open(w)
        #expect(throws: ModelError.unsupportedTensorType(file: file.path, tensor: "x", type: "IQ2_XXS")) {
            try TensorLoader(file: file).matrix("x", rows: 2, cols: 256)
        }
        let message = ModelError.unsupportedTensorType(file: file.path, tensor: "x", type: "IQ2_XXS").description
        #expect(message.contains("IQ2_XXS") && message.contains("supported: F32"))
    }
}

extension ModelError {
    var file: String {
        switch self {
        case let .unsupportedArchitecture(f, _, _), let .missingKey(f, _), let .badHyperparameter(f, _, _),
             let .missingTensor(f, _), let .badTensorShape(f, _, _, _), let .unsupportedTensorType(f, _, _):
            return f
        case .contextFull, .invalidToken, .unsupportedCacheType:
            return ""
        }
    }
}
