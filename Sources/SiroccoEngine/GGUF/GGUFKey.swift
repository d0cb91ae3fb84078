// The GGUF metadata keys Sirocco reads, in one table (as llama.cpp's LLM_KV_NAMES).
// Architecture-specific keys take the architecture name as prefix: `llama.block_count`.

/// Names of GGUF metadata keys.
public enum GGUFKey {
    public static let architecture = "general.architecture"
    public static let name = "general.name"
    public static let alignment = "general.alignment"
    public static let fileType = "general.file_type"

    public static let tokenizerModel = "tokenizer.ggml.model"
    public static let tokenizerPre = "tokenizer.ggml.pre"
    public static let tokens = "tokenizer.ggml.tokens"
    public static let tokenScores = "tokenizer.ggml.scores"
    public static let tokenTypes = "tokenizer.ggml.token_type"
    public static let merges = "tokenizer.ggml.merges"
    public static let bosID = "tokenizer.ggml.bos_token_id"
    public static let eosID = "tokenizer.ggml.eos_token_id"
    public static let eotID = "tokenizer.ggml.eot_token_id"
    public static let eomID = "tokenizer.ggml.eom_token_id"
    public static let unknownID = "tokenizer.ggml.unknown_token_id"
    public static let paddingID = "tokenizer.ggml.padding_token_id"
    public static let addBOS = "tokenizer.ggml.add_bos_token"
    public static let addEOS = "tokenizer.ggml.add_eos_token"
    public static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
    public static let chatTemplate = "tokenizer.chat_template"

    // Per-architecture hyperparameters: "\(arch).\(suffix)".
    public static func contextLength(_ arch: String) -> String { "\(arch).context_length" }
    public static func embeddingLength(_ arch: String) -> String { "\(arch).embedding_length" }
    public static func blockCount(_ arch: String) -> String { "\(arch).block_count" }
    public static func feedForwardLength(_ arch: String) -> String { "\(arch).feed_forward_length" }
    public static func headCount(_ arch: String) -> String { "\(arch).attention.head_count" }
    public static func headCountKV(_ arch: String) -> String { "\(arch).attention.head_count_kv" }
    public static func keyLength(_ arch: String) -> String { "\(arch).attention.key_length" }
    public static func valueLength(_ arch: String) -> String { "\(arch).attention.value_length" }
    public static func rmsEpsilon(_ arch: String) -> String { "\(arch).attention.layer_norm_rms_epsilon" }
    public static func slidingWindow(_ arch: String) -> String { "\(arch).attention.sliding_window" }
    public static func ropeDimensionCount(_ arch: String) -> String { "\(arch).rope.dimension_count" }
    public static func ropeFreqBase(_ arch: String) -> String { "\(arch).rope.freq_base" }
    public static func ropeFreqBaseWindowed(_ arch: String) -> String { "\(arch).rope.freq_base_swa" }
    public static func layerNormEpsilon(_ arch: String) -> String { "\(arch).attention.layer_norm_epsilon" }
    public static func attentionLogitSoftcapping(_ arch: String) -> String { "\(arch).attn_logit_softcapping" }
    public static func finalLogitSoftcapping(_ arch: String) -> String { "\(arch).final_logit_softcapping" }
    public static func ropeScalingType(_ arch: String) -> String { "\(arch).rope.scaling.type" }
    public static func ropeScalingFactor(_ arch: String) -> String { "\(arch).rope.scaling.factor" }
    public static func vocabSize(_ arch: String) -> String { "\(arch).vocab_size" }
    public static func expertCount(_ arch: String) -> String { "\(arch).expert_count" }
    public static func expertUsedCount(_ arch: String) -> String { "\(arch).expert_used_count" }
}

/// Names of GGUF tensors (as llama.cpp's LLM_TENSOR_NAMES); per-layer names take the block index.
public enum TensorName {
    public static let tokenEmbedding = "token_embd.weight"
    public static let outputNorm = "output_norm.weight"
    public static let outputNormBias = "output_norm.bias"
    public static let output = "output.weight"
    public static let ropeFrequencies = "rope_freqs.weight"

    public static func attnNorm(_ i: Int) -> String { "blk.\(i).attn_norm.weight" }
    public static func attnNormBias(_ i: Int) -> String { "blk.\(i).attn_norm.bias" }
    public static func attnNorm2(_ i: Int) -> String { "blk.\(i).attn_norm_2.weight" }
    public static func attnNorm2Bias(_ i: Int) -> String { "blk.\(i).attn_norm_2.bias" }
    public static func attnQKV(_ i: Int) -> String { "blk.\(i).attn_qkv.weight" }
    public static func attnQNorm(_ i: Int) -> String { "blk.\(i).attn_q_norm.weight" }
    public static func attnKNorm(_ i: Int) -> String { "blk.\(i).attn_k_norm.weight" }
    public static func postAttentionNorm(_ i: Int) -> String { "blk.\(i).post_attention_norm.weight" }
    public static func postFeedForwardNorm(_ i: Int) -> String { "blk.\(i).post_ffw_norm.weight" }
    public static func ffnGateInput(_ i: Int) -> String { "blk.\(i).ffn_gate_inp.weight" }
    public static func ffnGateExperts(_ i: Int) -> String { "blk.\(i).ffn_gate_exps.weight" }
    public static func ffnUpExperts(_ i: Int) -> String { "blk.\(i).ffn_up_exps.weight" }
    public static func ffnDownExperts(_ i: Int) -> String { "blk.\(i).ffn_down_exps.weight" }
    public static func attnQ(_ i: Int) -> String { "blk.\(i).attn_q.weight" }
    public static func attnK(_ i: Int) -> String { "blk.\(i).attn_k.weight" }
    public static func attnV(_ i: Int) -> String { "blk.\(i).attn_v.weight" }
    public static func attnQBias(_ i: Int) -> String { "blk.\(i).attn_q.bias" }
    public static func attnKBias(_ i: Int) -> String { "blk.\(i).attn_k.bias" }
    public static func attnVBias(_ i: Int) -> String { "blk.\(i).attn_v.bias" }
    public static func attnOutput(_ i: Int) -> String { "blk.\(i).attn_output.weight" }
    public static func ffnNorm(_ i: Int) -> String { "blk.\(i).ffn_norm.weight" }
    public static func ffnGate(_ i: Int) -> String { "blk.\(i).ffn_gate.weight" }
    public static func ffnUp(_ i: Int) -> String { "blk.\(i).ffn_up.weight" }
    public static func ffnDown(_ i: Int) -> String { "blk.\(i).ffn_down.weight" }
}
