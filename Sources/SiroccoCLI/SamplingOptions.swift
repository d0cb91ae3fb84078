// Sampling options shared by `sirocco run` and `sirocco chat`, with llama.cpp's defaults.

import ArgumentParser
import SiroccoEngine

struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy.")
    var temp: Float = 0.8
    @Option(help: "Top-k (0 = off).")
    var topK = 40
    @Option(help: "Top-p (1 = off).")
    var topP: Float = 0.95
    @Option(help: "Min-p (0 = off).")
    var minP: Float = 0.05
    @Option(help: "Typical-p (1 = off).")
    var typicalP: Float = 1
    @Option(help: "Repetition penalty over the last --repeat-last-n tokens (1 = off).")
    var repeatPenalty: Float = 1
    @Option(help: "Tokens the penalties look back over (0 = off, -1 = all).")
    var repeatLastN = 64
    @Option(help: "Frequency penalty (0 = off).")
    var frequencyPenalty: Float = 0
    @Option(help: "Presence penalty (0 = off).")
    var presencePenalty: Float = 0
    @Option(help: "Random seed (default: a new one each run, printed with the timings).")
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
