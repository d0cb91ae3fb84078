// Sampling options shared by `sirocco run` and `sirocco chat`, with llama.cpp's defaults. Values
// are taken unconditionally, so `--temp -1` reaches the range check instead of reading as an option.

import ArgumentParser
import SiroccoEngine

struct SamplingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.")
    var temp: Float = 0.8
    @Option(parsing: .unconditional, help: "Top-k (0 = off).")
    var topK = 40
    @Option(parsing: .unconditional, help: "Top-p (1 = off).")
    var topP: Float = 0.95
    @Option(parsing: .unconditional, help: "Min-p (0 = off).")
    var minP: Float = 0.05
    @Option(parsing: .unconditional, help: "Typical-p (1 = off).")
    var typicalP: Float = 1
    @Option(parsing: .unconditional, help: "Repetition penalty over the last --repeat-last-n tokens (1 = off).")
    var repeatPenalty: Float = 1
    @Option(parsing: .unconditional, help: "Tokens the penalties look back over (0 = off, -1 = all).")
    var repeatLastN = 64
    @Option(parsing: .unconditional, help: "Frequency penalty (0 = off).")
    var frequencyPenalty: Float = 0
    @Option(parsing: .unconditional, help: "Presence penalty (0 = off).")
    var presencePenalty: Float = 0
    @Option(parsing: .unconditional, help: "Random seed (default: a new one each run, printed with the timings).")
    var seed: UInt64?

    /// The settings, validated (an invalid one becomes a one-line CLI error).
    func settings() throws -> SamplerSettings {
        var s = SamplerSettings()
        s.temperature = temp
        s.topK = topK
        s.topP = topP
        s.minP = minP
        s.typicalP = typicalP
        s.repeatPenalty = repeatPenalty
        s.penaltyLastN = repeatLastN
        s.frequencyPenalty = frequencyPenalty
        s.presencePenalty = presencePenalty
        s.seed = seed
        do { try s.validate() } catch { throw CLIError("\(error)") }
        return s
    }
}
