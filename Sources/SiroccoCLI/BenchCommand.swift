// `sirocco bench`: prompt and generation speed (median of repeats) and peak memory, like llama-bench.

import ArgumentParser
import Foundation
import SiroccoEngine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure prompt-processing and generation tokens/s (median of repeats) and peak RSS.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Worker threads (default: this machine's core count); fewer run while the machine is busy if that is faster.")
    var threads: Int = defaultThreadCount()
    @Option(name: .customShort("p"), help: "Prompt tokens.")
    var promptTokens = 128
    @Option(name: .customShort("n"), help: "Generated tokens.")
    var genTokens = 128
    @Option(name: .shortAndLong, help: "Repetitions (the median is reported).")
    var repeats = 5
    @Option(parsing: .upToNextOption,
            help: "Context depths (e.g. 100 2000): generation speed after each many tokens of context, measured alternately in every repeat, with the ratio of the last to the first.")
    var depths: [Int] = []
    @Option(help: cacheTypeHelp)
    var cacheType: KVCacheType = .f16
    @Flag(help: "Run every token on all --threads threads, even when the machine is busy (by default fewer threads run when that is faster).")
    var fixedThreads = false
    @OptionGroup var draftOptions: DraftOptions
    @Option(help: "With --draft-model: the user message answered greedily (through the model's chat template), alone and with the draft, alternately in every repeat.")
    var prompt = BenchCommand.codePrompt
    @Option(parsing: .upToNextOption,
            help: "Sequence counts (e.g. 1 2 4): aggregate generation speed with that many sequences decoded together, one forward call a step, measured alternately in every repeat, with each count's ratio to the first.")
    var sequences: [Int] = []
    @Flag(help: "Print one JSON object: prompt_tps, gen_tps, peak_rss_mb (and depth_gen_tps, speculative or sequences figures).")
    var json = false

    static let codePrompt = "Write a Python function that parses a CSV file and returns a list of dictionaries, with error handling and type hints."

    func validate() throws {
        guard promptTokens >= 1, genTokens >= 1, promptTokens + genTokens <= 65536 else {
            throw ValidationError("-p and -n must be ≥ 1 with -p + -n ≤ 65536")
        }
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats must be between 1 and 100") }
        guard (1...512).contains(threads) else { throw ValidationError("--threads must be between 1 and 512") }
        guard depths.allSatisfy({ (1...65536).contains($0 + genTokens) && $0 >= 1 }) else {
            throw ValidationError("--depths must be ≥ 1 with depth + -n ≤ 65536")
        }
        guard sequences.allSatisfy({ (1...64).contains($0) }) else { throw ValidationError("--sequences must be between 1 and 64") }
        guard [!depths.isEmpty, !sequences.isEmpty, draftOptions.draftModel != nil].filter({ $0 }).count <= 1 else {
            throw ValidationError("--depths, --sequences and --draft-model measure different things: give one of them")
        }
    }

    func run() throws {
        try reportingErrors {
            let model = try modelOptions.load()
            if !depths.isEmpty { return try runDepths(model) }
            if !sequences.isEmpty { return try runSequences(model) }
            if draftOptions.draftModel != nil { return try runSpeculative(model) }
            let context = try InferenceContext(model: model, contextLength: promptTokens + genTokens + 1,
                                               batchSize: 512, threads: threads, cacheType: cacheType)
            context.adaptsThreadCount = !fixedThreads
            // deterministic pseudo-random prompt tokens (as llama-bench uses random tokens)
            let vocab = model.config.vocabularySize
            let prompt = (0..<promptTokens).map { TokenID(($0 * 7919 + 13) % vocab) }
            let clock = ContinuousClock()
            var promptRates: [Double] = []
            var genRates: [Double] = []
            // warm-up: touch every weight page once
            context.reset()
            try context.evaluate(Array(prompt.prefix(8)))
            for _ in 0..<repeats {
                context.reset()
                let t0 = clock.now
                var logits = try context.evaluate(prompt)
                promptRates.append(Double(promptTokens) / (clock.now - t0).seconds)
                let t1 = clock.now
                for _ in 0..<genTokens {
                    let next = SamplerChain.argmax(logits)
                    logits = try context.evaluate([next])
                }
                genRates.append(Double(genTokens) / (clock.now - t1).seconds)
            }
            let pp = median(promptRates)
            let tg = median(genRates)
            let rss = peakRSSMegabytes()
            if json {
                let width = Double(context.singleTokenThreads) / Double(max(1, context.singleTokenCalls))
                print(String(format: "{\"prompt_tps\": %.2f, \"gen_tps\": %.2f, \"peak_rss_mb\": %.1f, \"threads\": %d, \"gen_mean_threads\": %.2f, \"n_prompt\": %d, \"n_gen\": %d, \"repeats\": %d, \"cache_type\": \"\(cacheType.rawValue)\"}",
                             pp, tg, rss, threads, width, promptTokens, genTokens, repeats))
            } else {
                print("model:       \(model.file.path)")
                print("threads:     \(threads)")
                print("KV cache:    \(cacheType.rawValue)")
                print(String(format: "prompt:      %.1f tokens/s  (pp%d, median of %d)", pp, promptTokens, repeats))
                print(String(format: "generation:  %.1f tokens/s  (tg%d, median of %d)", tg, genTokens, repeats))
                print(String(format: "peak RSS:    %.1f MB", rss))
            }
        }
    }
}

extension BenchCommand {
    /// Generation speed after each depth of context, the depths alternating inside every repeat so
    /// a noisy machine affects them alike.
    func runDepths(_ model: Model) throws {
        let context = try InferenceContext(model: model, contextLength: depths.max()! + genTokens + 1,
                                           batchSize: 512, threads: threads, cacheType: cacheType)
        context.adaptsThreadCount = !fixedThreads
        let vocab = model.config.vocabularySize
        let clock = ContinuousClock()
        var rates = [[Double]](repeating: [], count: depths.count)
        for _ in 0..<repeats {
            for (i, depth) in depths.enumerated() {
                context.reset()
                var logits = try context.evaluate((0..<depth).map { TokenID(($0 * 7919 + 13) % vocab) })
                let t0 = clock.now
                for _ in 0..<genTokens {
                    let next = SamplerChain.argmax(logits)
                    logits = try context.evaluate([next])
                }
                rates[i].append(Double(genTokens) / (clock.now - t0).seconds)
            }
        }
        let medians = rates.map(median)
        let ratio = medians.last! / medians.first!
        if json {
            let pairs = zip(depths, medians).map { String(format: "\"%d\": %.2f", $0, $1) }.joined(separator: ", ")
            print(String(format: "{\"depth_gen_tps\": {%@}, \"ratio_last_first\": %.3f, \"threads\": %d, \"n_gen\": %d, \"repeats\": %d, \"cache_type\": \"\(cacheType.rawValue)\"}",
                         pairs, ratio, threads, genTokens, repeats))
        } else {
            print("model:       \(model.file.path)")
            print("threads:     \(threads)")
            print("KV cache:    \(cacheType.rawValue)")
            for (depth, tps) in zip(depths, medians) {
                print(String(format: "depth %6d: %.1f tokens/s  (tg%d, median of %d)", depth, tps, genTokens, repeats))
            }
            print(String(format: "ratio:       %.3f (depth %d / depth %d)", ratio, depths.last!, depths.first!))
        }
    }
}

extension BenchCommand {
    /// Greedy generation of an answer to `prompt`, the target alone and with the draft, alternately.
    func runSpeculative(_ model: Model) throws {
        let tokens = try ChatFormat.forModel(model).promptTokens([.user(prompt)], tokenizer: model.tokenizer)
        let length = tokens.count + genTokens + 1
        let alone = try InferenceContext(model: model, contextLength: length, threads: threads, cacheType: cacheType)
        let target = try InferenceContext(model: model, contextLength: length, threads: threads, cacheType: cacheType)
        [alone, target].forEach { $0.adaptsThreadCount = !fixedThreads }
        guard let draft = try draftOptions.load(for: model, contextLength: length, threads: threads, cacheType: cacheType) else { return }
        draft.context.adaptsThreadCount = !fixedThreads
        var plainRates: [Double] = [], draftRates: [Double] = [], acceptance: [Double] = []
        var switchedOff = 0
        var same = true
        for _ in 0..<repeats {
            alone.reset()
            target.reset()
            draft.context.reset()
            var a = SamplerChain(settings: .greedy), b = SamplerChain(settings: .greedy)
            let plain = try alone.generate(prompt: tokens, maxTokens: genTokens, sampler: &a)
            let drafted = try target.generate(prompt: tokens, maxTokens: genTokens, sampler: &b, draft: draft)
            plainRates.append(plain.stats.generationTokensPerSecond)
            draftRates.append(drafted.stats.generationTokensPerSecond)
            acceptance.append(drafted.stats.draft?.acceptanceRate ?? 0)
            if drafted.stats.draft?.switchedOff == true { switchedOff += 1 }
            same = same && plain.tokens == drafted.tokens
        }
        let (p, d) = (median(plainRates), median(draftRates))
        if json {
            print(String(format: "{\"gen_tps\": %.2f, \"draft_gen_tps\": %.2f, \"speedup\": %.3f, \"acceptance\": %.3f, \"same_tokens\": %@, \"switched_off\": %d, \"threads\": %d, \"n_gen\": %d, \"repeats\": %d}",
                         p, d, d / p, median(acceptance), same ? "true" : "false", switchedOff, threads, genTokens, repeats))
        } else {
            print("model:       \(model.file.path)")
            print("draft:       \(draft.context.model.file.path)")
            print("threads:     \(threads)")
            print(String(format: "alone:       %.1f tokens/s  (greedy, up to %d tokens, median of %d)", p, genTokens, repeats))
            print(String(format: "with draft:  %.1f tokens/s  (%.2f×, %.0f%% of drafted tokens kept)", d, d / p, 100 * median(acceptance)))
            print("same tokens: \(same ? "yes" : "NO")")
            if switchedOff > 0 { print("drafting switched itself off in \(switchedOff) of \(repeats) answers") }
        }
    }
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Peak resident set size of this process (VmHWM), in MB.
func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}
