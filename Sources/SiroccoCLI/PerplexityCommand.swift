// `sirocco perplexity`: llama-perplexity's perplexity of a text and, against a base file, its
// KL-divergence statistics, printed as llama-perplexity prints them. The engine computes
// (SiroccoEngine/Evaluation); this file only checks options and prints.

import ArgumentParser
import Foundation
import SiroccoEngine

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a text as llama-perplexity computes it; with a base file, KL divergence against another run.",
        discussion: """
        The text is tokenized (with BOS as the model adds it) and cut into chunks of --ctx-size tokens; \
        the second half of each chunk is scored. --kl-divergence-base FILE writes this run's log-probabilities \
        to FILE; with --kl-divergence it reads FILE instead and compares (a base from llama.cpp: \
        scripts/perplexity_base_from_llamacpp.py).
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: [.customShort("f"), .long], help: "The text file to score.")
    var file: String
    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional, help: "Tokens per chunk.")
    var ctxSize = 512
    @Option(parsing: .unconditional, help: "Score at most this many chunks (default: all the text holds).")
    var chunks: Int?
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Worker threads; the default is this machine's core count.")
    var threads: Int = defaultThreadCount()
    @Option(help: "Base file of log-probabilities: written by this run, or read with --kl-divergence.")
    var klDivergenceBase: String?
    @Flag(help: "Compare with --kl-divergence-base instead of writing it.")
    var klDivergence = false

    func run() throws {
        try reportingErrors {
            guard (4...1_048_576).contains(ctxSize) else { throw CLIError("--ctx-size must be between 4 and 1048576, got \(ctxSize)") }
            guard (1...512).contains(threads) else { throw CLIError("--threads must be between 1 and 512, got \(threads)") }
            if let chunks, chunks < 1 { throw CLIError("--chunks must be at least 1, got \(chunks)") }
            if klDivergence && klDivergenceBase == nil { throw CLIError("--kl-divergence needs --kl-divergence-base FILE") }
            let text = try RegularFile.contents(of: file, maximumBytes: 256 << 20)
            let base = try klDivergence ? klDivergenceBase.map { try LogProbabilityReader(path: $0) } : nil
            let model = try modelOptions.load()
            let chunked = try PerplexityChunks(text: String(decoding: text, as: UTF8.self), tokenizer: model.tokenizer,
                                               contextLength: ctxSize, maxChunks: chunks ?? base?.header.chunkCount)
            let vocabulary = model.config.vocabularySize
            if let base { try chunked.check(base: base.header, path: base.path, vocabularySize: vocabulary) }
            let writer = try klDivergence ? nil : klDivergenceBase.map {
                try LogProbabilityWriter(path: $0, header: chunked.baseHeader(vocabularySize: vocabulary))
            }
            let context = InferenceContext(model: model, contextLength: ctxSize, batchSize: min(512, ctxSize), threads: threads)
            print("perplexity: \(chunked.chunkCount) chunks of \(ctxSize) tokens (\(chunked.tokens.count) in the text), scoring the last \(chunked.scoredPerChunk) of each")
            if base != nil {
                print("chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p")
            }
            let totals = try PerplexityEvaluator.run(chunked, context: context, base: base, writer: writer) { index, totals in
                if let c = totals.comparison {
                    print(Self.chunkRow(index, c))
                } else {
                    print(String(format: "[%d]%.4f,", index + 1, totals.perplexity.value), terminator: "")
                }
                fflush(stdout)
            }
            if let summary = totals.comparison {
                print(Self.report(summary), terminator: "")
            } else {
                let ppl = totals.perplexity
                print(String(format: "\nFinal estimate: PPL = %.4f +/- %.5f", ppl.value, ppl.uncertainty))
            }
            fflush(stdout)
            if let writer {
                FileHandle.standardError.write(Data("wrote the log-probabilities of \(totals.count) positions to \(TerminalText.escaped(writer.path))\n".utf8))
            }
        }
    }

    /// One line of llama-perplexity's per-chunk KL-divergence table.
    static func chunkRow(_ index: Int, _ c: KLDivergenceSummary) -> String {
        String(format: "%4d    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%    %6.3f ± %6.3f %%",
               index + 1, c.perplexity.value, c.perplexity.uncertainty, c.logPerplexityRatio.value, c.logPerplexityRatio.uncertainty,
               c.kld.value, c.kld.uncertainty, 100 * c.pDiffRMS.value, 100 * c.pDiffRMS.uncertainty,
               100 * c.sameTop.value, 100 * c.sameTop.uncertainty)
    }

    /// llama-perplexity's closing statistics (it prints none for fewer than 100 positions).
    static func report(_ c: KLDivergenceSummary) -> String {
        guard c.count >= 100 else { return "\nfewer than 100 positions scored: no statistics\n" }
        func line(_ format: String, _ args: CVarArg...) -> String { String(format: format, arguments: args) + "\n" }
        var out = "\n====== Perplexity statistics ======\n"
        out += line("Mean PPL(Q)                   : %10.6f ± %10.6f", c.perplexity.value, c.perplexity.uncertainty)
        out += line("Mean PPL(base)                : %10.6f ± %10.6f", c.basePerplexity.value, c.basePerplexity.uncertainty)
        out += line("Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%", 100 * c.correlation)
        out += line("Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f", c.logPerplexityRatio.value, c.logPerplexityRatio.uncertainty)
        out += line("Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f", c.perplexityRatio.value, c.perplexityRatio.uncertainty)
        out += line("Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f", c.perplexityDifference.value, c.perplexityDifference.uncertainty)
        out += "\n====== KL divergence statistics ======\n"
        out += line("Mean    KLD: %10.6f ± %10.6f", c.kld.value, c.kld.uncertainty)
        let k = c.kldQuantiles
        out += line("Maximum KLD: %10.6f", k.maximum)
        for (label, f) in [("99.9%", 0.999), ("99.0%", 0.99), ("95.0%", 0.95), ("90.0%", 0.9)] {
            out += label + line("   KLD: %10.6f", k.percentile(f))
        }
        out += line("Median  KLD: %10.6f", k.median)
        for (label, f) in [("10.0%", 0.1), (" 5.0%", 0.05), (" 1.0%", 0.01), (" 0.1%", 0.001)] {
            out += label + line("   KLD: %10.6f", k.percentile(f))
        }
        out += line("Minimum KLD: %10.6f", k.minimum)
        out += "\n====== Token probability statistics ======\n"
        out += line("Mean    Δp: %6.3f ± %5.3f %%", 100 * c.pDiff.value, 100 * c.pDiff.uncertainty)
        let p = c.pDiffQuantiles
        out += line("Maximum Δp: %6.3f%%", 100 * p.maximum)
        for (label, f) in [("99.9%", 0.999), ("99.0%", 0.99), ("95.0%", 0.95), ("90.0%", 0.9), ("75.0%", 0.75)] {
            out += label + line("   Δp: %6.3f%%", 100 * p.percentile(f))
        }
        out += line("Median  Δp: %6.3f%%", 100 * p.median)
        for (label, f) in [("25.0%", 0.25), ("10.0%", 0.1), (" 5.0%", 0.05), (" 1.0%", 0.01), (" 0.1%", 0.001)] {
            out += label + line("   Δp: %6.3f%%", 100 * p.percentile(f))
        }
        out += line("Minimum Δp: %6.3f%%", 100 * p.minimum)
        out += line("RMS Δp    : %6.3f ± %5.3f %%", 100 * c.pDiffRMS.value, 100 * c.pDiffRMS.uncertainty)
        out += line("Same top p: %6.3f ± %5.3f %%", 100 * c.sameTop.value, 100 * c.sameTop.uncertainty)
        return out
    }
}
