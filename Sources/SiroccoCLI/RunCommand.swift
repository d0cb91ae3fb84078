// `sirocco run`: one prompt, the completion streamed to stdout, timings to stderr.

import ArgumentParser
import Foundation
import SiroccoEngine

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Generate a completion for one prompt and stream it to stdout.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var templateOptions: ChatTemplateOptions
    @Option(name: .shortAndLong, help: "The prompt (the user message unless --raw).")
    var prompt: String
    @Option(help: "System prompt (chat mode only).")
    var system: String?
    @Flag(help: "Feed the prompt as is: no chat template; special tokens in the text are parsed.")
    var raw = false
    @Option(name: [.customShort("n"), .long], help: "Maximum tokens to generate (1...100000).")
    var maxTokens = 256
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
    @Option(help: "Random seed.")
    var seed: UInt64 = 0xC0FFEE
    @Option(name: .shortAndLong, help: "Worker threads (default: number of cores).")
    var threads: Int = defaultThreadCount()
    @Option(name: [.customShort("c"), .customLong("ctx-size")], help: "Context length in tokens.")
    var ctxSize = 4096
    @Flag(help: "Do not print timings to stderr.")
    var quiet = false

    func validate() throws {
        guard (1...100_000).contains(maxTokens) else { throw ValidationError("--max-tokens must be between 1 and 100000, got \(maxTokens)") }
        guard (1...512).contains(threads) else { throw ValidationError("--threads must be between 1 and 512, got \(threads)") }
        guard (16...1_048_576).contains(ctxSize) else { throw ValidationError("--ctx-size must be between 16 and 1048576, got \(ctxSize)") }
        guard !prompt.isEmpty else { throw ValidationError("the prompt is empty") }
    }

    func run() throws {
        try reportingErrors {
            var settings = SamplerSettings()
            settings.temperature = temp
            settings.topK = topK
            settings.topP = topP
            settings.minP = minP
            settings.typicalP = typicalP
            settings.repeatPenalty = repeatPenalty
            settings.penaltyLastN = repeatLastN
            settings.frequencyPenalty = frequencyPenalty
            settings.presencePenalty = presencePenalty
            settings.seed = seed
            do { try settings.validate() } catch { throw CLIError("\(error)") }

            let model = try modelOptions.load()
            let tokens: [TokenID]
            if raw {
                tokens = model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
            } else {
                let format = try templateOptions.format(for: model)
                var messages: [ChatMessage] = []
                if let system { messages.append(.system(system)) }
                messages.append(.user(prompt))
                tokens = try format.promptTokens(messages, tokenizer: model.tokenizer)
                reportNotice(of: format)
            }
            guard !tokens.isEmpty else { throw CLIError("the prompt tokenizes to nothing") }
            if tokens.count >= ctxSize {
                throw CLIError("the prompt is \(tokens.count) tokens, longer than the context (\(ctxSize)); use a larger --ctx-size")
            }
            let context = InferenceContext(model: model, contextLength: min(ctxSize, tokens.count + maxTokens), threads: threads)
            var sampler = SamplerChain(settings: settings)
            let out = FileHandle.standardOutput
            let result = try context.generate(prompt: tokens, maxTokens: maxTokens, sampler: &sampler) { event in
                if case let .text(piece) = event { out.write(Data(piece.utf8)) }
            }
            out.write(Data("\n".utf8))
            if !quiet {
                let s = result.stats
                let report = String(format: "\nprompt: %d tokens, %.1f tokens/s | generation: %d tokens, %.1f tokens/s | first token: %.0f ms | stop: %@ | kv cache: %d/%d cells, %.1f MiB\n",
                                    s.promptTokens, s.promptTokensPerSecond, s.generatedTokens, s.generationTokensPerSecond,
                                    s.timeToFirstToken * 1000, result.stop.rawValue, s.cacheCellsUsed, s.cacheCapacity,
                                    Double(s.cacheBytesUsed) / 1_048_576)
                FileHandle.standardError.write(Data(report.utf8))
                let o = s.cacheOccupancy
                if o.windowCapacity > 0 {
                    let window = String(format: "kv cache per layer kind: windowed %d/%d cells%@\n", o.windowCellsUsed, o.windowCapacity,
                                        o.hasFullLayers ? String(format: ", full %d/%d cells", o.fullCellsUsed, o.fullCapacity) : "")
                    FileHandle.standardError.write(Data(window.utf8))
                }
            }
        }
    }
}
