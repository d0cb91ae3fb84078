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
    @OptionGroup var sampling: SamplingOptions
    @Option(name: .shortAndLong, help: "Worker threads (default: number of cores).")
    var threads: Int = defaultThreadCount()
    @Option(name: [.customShort("c"), .customLong("ctx-size")], help: "Context length in tokens.")
    var ctxSize = 4096
    @Option(help: cacheTypeHelp)
    var cacheType: KVCacheType = .f16
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
            let settings = try sampling.settings()

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
            let context = try InferenceContext(model: model, contextLength: min(ctxSize, tokens.count + maxTokens), threads: threads,
                                               cacheType: cacheType)
            var sampler = SamplerChain(settings: settings)
            let out = FileHandle.standardOutput
            let result = try context.generate(prompt: tokens, maxTokens: maxTokens, sampler: &sampler, onEvent: { event in
                if case let .text(piece) = event { out.write(Data(piece.utf8)) }
            })
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
