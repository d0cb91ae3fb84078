// `sirocco run`: one prompt, the completion streamed to stdout, timings to stderr.

import ArgumentParser
import Foundation
import SiroccoEngine

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Generate a completion for one prompt and stream it to stdout.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var templateOptions: ChatTemplateOptions
    @Option(name: .shortAndLong, help: "The prompt (the user message unless --raw); - or no -p with a pipe reads standard input.")
    var prompt: String?
    @Option(help: "System prompt (chat mode only).")
    var system: String?
    @Flag(help: "Feed the prompt as is: no chat template; special tokens in the text are parsed.")
    var raw = false
    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: "Maximum tokens to generate (1...100000).")
    var maxTokens = 256
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var draftOptions: DraftOptions
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Worker threads (default: this machine's core count); fewer run while the machine is busy if that is faster.")
    var threads: Int = defaultThreadCount()
    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional, help: "Context length in tokens.")
    var ctxSize = 4096
    @Option(help: cacheTypeHelp)
    var cacheType: KVCacheType = .f16
    @Flag(help: "Do not print timings to stderr.")
    var quiet = false

    /// Value checks, worded and exited like `chat`'s (one line, status 1).
    func checkValues() throws {
        guard (1...100_000).contains(maxTokens) else { throw CLIError("--max-tokens must be between 1 and 100000, got \(maxTokens)") }
        guard (1...512).contains(threads) else { throw CLIError("--threads must be between 1 and 512, got \(threads)") }
        guard (16...1_048_576).contains(ctxSize) else { throw CLIError("--ctx-size must be between 16 and 1048576, got \(ctxSize)") }
        if prompt == nil && isatty(0) == 1 {
            throw CLIError("no prompt: give --prompt TEXT, or --prompt - (or a pipe) to read it from standard input")
        }
    }

    /// The prompt: the option's text, or standard input for `-` or a pipe without `--prompt`.
    func promptText() throws -> String {
        guard prompt == nil || prompt == "-" else { return prompt! }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIError("the prompt read from standard input is not valid UTF-8")
        }
        // a shell's trailing newline is not part of the prompt
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    func run() throws {
        try reportingErrors {
            try checkValues()
            let settings = try sampling.settings()
            let prompt = try promptText()
            guard !prompt.isEmpty else { throw CLIError("the prompt is empty") }
            let requested = ModelReference.requested(modelOptions.model)  // $SIROCCO_MODEL may name a server too
            if BackendLocation.isRemote(requested) {
                if draftOptions.draftModel != nil { throw CLIError("--draft-model works with a local model, not a server") }
                return try runRemote(requested, prompt: prompt, settings: settings)
            }

            let model = try modelOptions.load(pull: true)
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
            let contextLength = min(ctxSize, tokens.count + maxTokens)
            let context = try InferenceContext(model: model, contextLength: contextLength, threads: threads, cacheType: cacheType)
            let draft = try draftOptions.load(for: model, contextLength: contextLength, threads: threads, cacheType: cacheType)
            var sampler = SamplerChain(settings: settings)
            let out = FileHandle.standardOutput
            let result = try context.generate(prompt: tokens, maxTokens: maxTokens, sampler: &sampler, draft: draft, onEvent: { event in
                switch event {
                case let .text(piece): out.write(Data(piece.utf8))
                case let .notice(message) where !quiet: FileHandle.standardError.write(Data("\n[\(message)]\n".utf8))
                default: break
                }
            })
            out.write(Data("\n".utf8))
            if !quiet {
                let s = result.stats
                let report = String(format: "\nprompt: %d tokens, %.1f tokens/s | generation: %d tokens, %.1f tokens/s | first token: %.0f ms | stop: %@ | kv cache: %d/%d cells, %.1f MiB | seed: %@\n",
                                    s.promptTokens, s.promptTokensPerSecond, s.generatedTokens, s.generationTokensPerSecond,
                                    s.timeToFirstToken * 1000, result.stop.rawValue, s.cacheCellsUsed, s.cacheCapacity,
                                    Double(s.cacheBytesUsed) / 1_048_576, s.seed.map { "\($0)" } ?? "-")
                FileHandle.standardError.write(Data(report.utf8))
                if let d = s.draft {
                    let line = String(format: "draft: %d of %d drafted tokens kept (%.0f%%) in %d rounds%@\n", d.accepted, d.drafted,
                                      100 * d.acceptanceRate, d.rounds, d.switchedOff ? ", then switched off" : "")
                    FileHandle.standardError.write(Data(line.utf8))
                }
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
