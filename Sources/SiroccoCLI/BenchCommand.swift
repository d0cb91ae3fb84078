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
    @Flag(help: "Print one JSON object: prompt_tps, gen_tps, peak_rss_mb (and depth_gen_tps).")
    var json = false

    func validate() throws {
        guard promptTokens >= 1, genTokens >= 1, promptTokens + genTokens <= 65536 else {
            throw ValidationError("-p and -n must be ≥ 1 with -p + -n ≤ 65536")
        }
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats must be between 1 and 100") }
        guard (1...512).contains(threads) else { throw ValidationError("--threads must be between 1 and 512") }
        guard depths.allSatisfy({ (1...65536).contains($0 + genTokens) && $0 >= 1 }) else {
            throw ValidationError("--depths must be ≥ 1 with depth + -n ≤ 65536")
        }
    }

    func run() throws {
        try reportingErrors {
            let model = try modelOptions.load()
            if !depths.isEmpty { return try runDepths(model) }
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
