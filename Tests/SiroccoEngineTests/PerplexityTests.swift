// Perplexity and KL divergence (SiroccoEngine/Evaluation, `sirocco perplexity`) against independent
// NumPy computations (scripts/make_perplexity_goldens.py): the statistics alone on logits both sides
// regenerate from SplitMix64, and whole runs of a synthetic model against NumPy's forward pass.

import Foundation
import Testing
@testable import SiroccoEngine

private struct StatisticsGolden: Decodable {
    struct Stats: Decodable {
        let count: Int
        let ppl, ppl_base, ln_ratio, ratio, difference, kld, p_diff, p_diff_rms, same_top, perplexity_only: [Double]
        let correlation, kld_median, kld_min, kld_max, p_diff_median, p_diff_min, p_diff_max: Double
        let kld_percentiles, p_diff_percentiles: [String: Double]
    }
    let vocab, rows: Int
    let logits_seed, targets_seed: UInt64
    let statistics: Stats
}

private struct SyntheticGolden: Decodable {
    let ctx, chunks, positions: Int
    let ppl_numpy, ppl_base_file: Double
}

private func close(_ a: Double, _ b: Double, relative: Double = 1e-5) -> Bool {
    abs(a - b) <= relative * abs(b) + 1e-9
}

/// The first number after `label` in `output` (a line of the printed report).
private func reported(_ label: String, in output: String) -> Double? {
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(label) }) else { return nil }
    let rest = line.dropFirst(label.count).drop { !"-0123456789".contains($0) }
    return Double(rest.prefix { "-0123456789.".contains($0) })
}

@Suite("Perplexity") struct PerplexityTests {
    @Test("the statistics match NumPy's on the same logits and base file")
    func statisticsMatchNumPy() throws {
        let url = try fixtureURL("Fixtures/perplexity/statistics", "json")
        let golden = try JSONDecoder().decode(StatisticsGolden.self, from: Data(contentsOf: url))
        let base = try LogProbabilityReader(path: try fixtureURL("Fixtures/perplexity/statistics", "base").path)
        #expect(base.header.vocabularySize == golden.vocab)
        var logitStream = SplitMix64(seed: golden.logits_seed)
        var targetStream = SplitMix64(seed: golden.targets_seed)
        var compared = PerplexityAccumulator(), plain = PerplexityAccumulator()
        for r in 0..<golden.rows {
            let spread = 2.0 + 2.0 * Double(r % 5)
            let logits = (0..<golden.vocab).map { _ in
                Float((2 * Double(logitStream.next() >> 11) * 0x1p-53 - 1) * spread)
            }
            let next = TokenID(targetStream.next() % UInt64(golden.vocab))
            let row = try base.nextRow()
            logits.withUnsafeBufferPointer {
                compared.add(logits: $0, next: next, base: row)
                plain.add(logits: $0, next: next)
            }
        }
        let g = golden.statistics
        let s = try #require(compared.comparison)
        #expect(plain.comparison == nil)
        #expect(s.count == g.count)
        func expectPair(_ e: Estimate, _ pair: [Double], _ name: String) {
            #expect(close(e.value, pair[0]) && close(e.uncertainty, pair[1]), "\(name): \(e) vs NumPy \(pair)")
        }
        expectPair(plain.perplexity, g.perplexity_only, "perplexity")
        expectPair(s.perplexity, g.ppl, "PPL(Q)")
        expectPair(s.basePerplexity, g.ppl_base, "PPL(base)")
        expectPair(s.logPerplexityRatio, g.ln_ratio, "ln ratio")
        expectPair(s.perplexityRatio, g.ratio, "ratio")
        expectPair(s.perplexityDifference, g.difference, "difference")
        expectPair(s.kld, g.kld, "KLD")
        expectPair(s.pDiff, g.p_diff, "Δp")
        expectPair(s.pDiffRMS, g.p_diff_rms, "RMS Δp")
        expectPair(s.sameTop, g.same_top, "same top")
        #expect(close(s.correlation, g.correlation))
        #expect(close(s.kldQuantiles.median, g.kld_median) && close(s.kldQuantiles.minimum, g.kld_min)
                && close(s.kldQuantiles.maximum, g.kld_max))
        #expect(close(s.pDiffQuantiles.median, g.p_diff_median) && close(s.pDiffQuantiles.minimum, g.p_diff_min)
                && close(s.pDiffQuantiles.maximum, g.p_diff_max))
        for (key, value) in g.kld_percentiles {
            #expect(close(s.kldQuantiles.percentile(Double(key)!), value), "KLD percentile \(key)")
        }
        for (key, value) in g.p_diff_percentiles {
            #expect(close(s.pDiffQuantiles.percentile(Double(key)!), value), "Δp percentile \(key)")
        }
        // a meaningful test: the base is noisy enough that the numbers are far from trivial
        #expect(s.kld.value > 0.05 && s.sameTop.value < 0.99 && s.sameTop.value > 0.3)
    }

    @Test("a text is chunked as llama-perplexity chunks it, BOS in place of each chunk's first token")
    func chunking() throws {
        let tokens = (0..<50).map { TokenID(100 + $0) }
        let chunks = try PerplexityChunks(tokens: tokens, contextLength: 16, bos: 1)
        #expect(chunks.chunkCount == 3 && chunks.firstScored == 8 && chunks.scoredPerChunk == 7)
        #expect(chunks.chunk(1) == [1] + Array(tokens[17..<32]))
        #expect(chunks.chunkedTokens == Array(tokens[0..<48]))
        #expect(try PerplexityChunks(tokens: tokens, contextLength: 16, maxChunks: 2, bos: nil).chunk(1) == Array(tokens[16..<32]))
        #expect(throws: PerplexityError.textTooShort(tokens: 50, contextLength: 32)) {
            try PerplexityChunks(tokens: tokens, contextLength: 32, bos: nil)
        }
        // a row quantized and read back keeps the log-probabilities to the step of its scale
        let logits: [Float] = [3, -1, 0.5, -30, 2.25]
        let row = logits.withUnsafeBufferPointer { QuantizedLogProbabilities(logits: $0) }
        let norm = log(logits.map { exp(Double($0)) }.reduce(0, +))
        for i in [0, 1, 2, 4] { #expect(abs(Double(row.logProb(i)) - (Double(logits[i]) - norm)) < Double(row.scale)) }
        #expect(row.levels[3] == 0 && row.levels[0] == 65535)
    }

    // MARK: the command

    private var synthetic: SyntheticGolden {
        get throws {
            try JSONDecoder().decode(SyntheticGolden.self, from: Data(contentsOf: fixtureURL("Fixtures/perplexity/synthetic", "json")))
        }
    }

    private func paths() throws -> (model: String, text: String, base: String) {
        (try fixtureURL("Fixtures/synthetic/llama-dense-f16", "gguf").path,
         try fixtureURL("Fixtures/perplexity/coriolanus", "txt").path,
         try fixtureURL("Fixtures/perplexity/synthetic", "base").path)
    }

    @Test("sirocco perplexity gives NumPy's perplexity on a synthetic model")
    func perplexityMatchesNumPy() throws {
        let golden = try synthetic
        let (model, text, _) = try paths()
        let r = try runSirocco(["perplexity", "--model", model, "--file", text, "--ctx-size", "\(golden.ctx)",
                                "--chunks", "\(golden.chunks)", "--threads", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let ppl = try #require(reported("Final estimate: PPL =", in: r.stdout), "\(r.stdout)")
        // the f16 model's logits are within 0.004 of NumPy's float64 ones (SyntheticModelTests)
        #expect(close(ppl, golden.ppl_numpy, relative: 2e-3), "ours \(ppl), NumPy \(golden.ppl_numpy)")
        #expect(r.stdout.contains("[16]") && r.stdout.contains("+/- "))
    }

    @Test("against NumPy's base file: KL divergence near zero, NumPy's perplexity as the base's")
    func klDivergenceAgainstNumPy() throws {
        let golden = try synthetic
        let (model, text, base) = try paths()
        let r = try runSirocco(["perplexity", "--model", model, "--file", text, "--ctx-size", "\(golden.ctx)", "--threads", "2",
                                "--kl-divergence-base", base, "--kl-divergence"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = r.stdout
        #expect(close(try #require(reported("Mean PPL(base)", in: out)), golden.ppl_base_file, relative: 1e-6), "\(out)")
        #expect(close(try #require(reported("Mean PPL(Q)  ", in: out)), golden.ppl_numpy, relative: 2e-3))
        #expect(try #require(reported("Mean    KLD:", in: out)) < 1e-4)
        #expect(try #require(reported("Same top p:", in: out)) >= 98)
        for label in ["Maximum KLD:", "99.9%   KLD:", "99.0%   KLD:", "90.0%   KLD:", "Median  KLD:", "10.0%   KLD:",
                      " 5.0%   KLD:", " 1.0%   KLD:", "Minimum KLD:", "Mean PPL(Q)/PPL(base)", "Mean PPL(Q)-PPL(base)"] {
            #expect(reported(label, in: out) != nil, "no '\(label)' line")
        }
    }

    /// With a context no longer than Gemma 3's window, local layers must still take their own RoPE
    /// base: with the global one, NumPy's KL divergence from the right run is 0.008 here.
    @Test("Gemma 3 at a context as long as its window matches NumPy")
    func gemmaAtItsWindowMatchesNumPy() throws {
        let golden = try JSONDecoder().decode(SyntheticGolden.self, from: Data(contentsOf: fixtureURL("Fixtures/perplexity/synthetic-gemma3", "json")))
        let (_, text, _) = try paths()
        let r = try runSirocco(["perplexity", "--model", try fixtureURL("Fixtures/synthetic/gemma3-q8_0", "gguf").path,
                                "--file", text, "--ctx-size", "\(golden.ctx)", "--threads", "2", "--kl-divergence",
                                "--kl-divergence-base", try fixtureURL("Fixtures/perplexity/synthetic-gemma3", "base").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(close(try #require(reported("Mean PPL(Q)  ", in: r.stdout)), golden.ppl_numpy, relative: 1.5e-3))
        #expect(try #require(reported("Mean    KLD:", in: r.stdout)) < 1e-3)
    }

    @Test("a base file the command writes reads back as the same run")
    func writtenBaseReadsBack() throws {
        let (model, text, _) = try paths()
        let base = NSTemporaryDirectory() + "sirocco-ppl-\(UUID().uuidString).base"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let common = ["perplexity", "--model", model, "--file", text, "--ctx-size", "16", "--chunks", "16", "--threads", "2",
                      "--kl-divergence-base", base]
        let written = try runSirocco(common)
        #expect(written.status == 0 && written.stderr.contains("wrote the log-probabilities of 112 positions"), "\(written.stderr)")
        let read = try runSirocco(common + ["--kl-divergence"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(try #require(reported("Same top p:", in: read.stdout)) == 100)
        #expect(abs(try #require(reported("Mean    KLD:", in: read.stdout))) < 1e-5)
        #expect(abs(try #require(reported("Mean ln(PPL(Q)/PPL(base))", in: read.stdout))) < 1e-4)
    }

    @Test("errors are one line with a non-zero exit")
    func errors() throws {
        let (model, text, base) = try paths()
        let otherVocabulary = try fixtureURL("Fixtures/perplexity/statistics", "base").path
        let cases: [([String], String)] = [
            (["--file", "/nonexistent/text.txt"], "/nonexistent/text.txt"),
            (["--file", text, "--ctx-size", "16384"], "tokenizes to only"),
            (["--file", text, "--ctx-size", "16", "--kl-divergence"], "--kl-divergence needs --kl-divergence-base"),
            (["--file", text, "--ctx-size", "16", "--kl-divergence-base", otherVocabulary, "--kl-divergence"], "vocabulary of 64 tokens"),
            (["--file", text, "--ctx-size", "32", "--kl-divergence-base", base, "--kl-divergence"], "context of 16 tokens"),
            (["--file", text, "--ctx-size", "16", "--kl-divergence-base", text, "--kl-divergence"], "not a Sirocco perplexity base file"),
            (["--file", text, "--ctx-size", "16", "--kl-divergence-base", "/nonexistent/x.base", "--kl-divergence"], "cannot open"),
        ]
        for (arguments, message) in cases {
            let r = try runSirocco(["perplexity", "--model", model, "--threads", "2"] + arguments)
            #expect(r.status != 0, "\(arguments)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(message), "\(arguments): \(r.stderr)")
        }
    }
}
