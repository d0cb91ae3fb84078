// SamplerSettings: the knobs of token sampling, with llama.cpp's defaults.

/// Sampling parameters. `temperature <= 0` means greedy. Settings may change between any two tokens.
public struct SamplerSettings: Sendable, Equatable, Codable {
    public var temperature: Float = 0.8
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var typicalP: Float = 1.0
    public var repeatPenalty: Float = 1.0
    public var frequencyPenalty: Float = 0.0
    public var presencePenalty: Float = 0.0
    /// How many recent tokens the penalties look at (0 = off, -1 = the whole history kept).
    public var penaltyLastN: Int = 64
    /// Added to a token's logit before anything else (-inf bans it).
    public var logitBias: [TokenID: Float] = [:]
    /// Seeds each answer's random draws; nil draws a fresh seed per answer (llama.cpp's and
    /// Ollama's default). The seed an answer used is in its `GenerationStats`.
    public var seed: UInt64? = nil

    public init() {}

    /// Greedy decoding (always the most likely token).
    public static var greedy: SamplerSettings {
        var s = SamplerSettings()
        s.temperature = 0
        return s
    }

    /// Throws `SamplerError` naming the first invalid setting.
    public func validate() throws {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw SamplerError.invalid(message()) }
        }
        try check(temperature.isFinite && temperature >= 0, "temperature must be ≥ 0, got \(temperature)")
        try check(topK >= 0, "top-k must be ≥ 0 (0 = off), got \(topK)")
        try check(topP.isFinite && topP >= 0 && topP <= 1, "top-p must be between 0 and 1, got \(topP)")
        try check(minP.isFinite && minP >= 0 && minP <= 1, "min-p must be between 0 and 1, got \(minP)")
        try check(typicalP.isFinite && typicalP >= 0 && typicalP <= 1, "typical-p must be between 0 and 1, got \(typicalP)")
        try check(repeatPenalty.isFinite && repeatPenalty > 0, "repeat penalty must be > 0 (1 = off), got \(repeatPenalty)")
        try check(frequencyPenalty.isFinite, "frequency penalty must be a number")
        try check(presencePenalty.isFinite, "presence penalty must be a number")
        try check(penaltyLastN >= -1, "penalty window must be ≥ -1, got \(penaltyLastN)")
        for (t, b) in logitBias { try check(!b.isNaN && b != .infinity, "logit bias for token \(t) must be a number or -inf") }
    }
}

/// An invalid sampling setting.
public enum SamplerError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case let .invalid(m): return "invalid sampling setting: \(m)" }
    }
}
