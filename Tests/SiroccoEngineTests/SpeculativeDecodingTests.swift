// Speculative decoding: with a draft model, greedy answers are the target's own, token for token —
// on SmolLM2 drafted by its own first layers (in CI), across Gemma 3's sliding window, and on the
// real pair (Qwen2.5-Coder 0.5B drafting for 1.5B) when a machine has both.

import Foundation
import Testing
import TestSupport
@testable import SiroccoEngine

@Suite(.serialized) struct SpeculativeDecodingTests {
    static let questions = [
        "What is the capital of Japan?", "Write a haiku about the sea.", "List three prime numbers.",
        "Explain recursion in one sentence.", "Write a Python function that reverses a string.",
        "What does HTTP stand for?", "Name a famous painting.", "How many legs does a spider have?",
        "Write a SQL query that counts the rows of a table named users.", "Say hello in French.",
    ]

    static func path(_ file: String) -> String? {
        let p = TestModelFiles.directory + "/" + file
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// A draft made of the first `layers` layers of the model at `path` (the same file with a
    /// smaller block count): the same vocabulary, cheaper, and right often enough to be kept.
    static func truncatedDraft(of path: String, architecture: String, layers: UInt32) throws -> Model {
        let copy = try #require(try GGUFPatch.copy(of: path, settingUInt32: GGUFKey.blockCount(architecture), to: layers))
        defer { try? FileManager.default.removeItem(atPath: copy) }
        return try Model(path: copy)  // mapped: the file may go once loaded
    }

    /// Greedy answers to `prompts` without and with a draft: equal token for token; returns the
    /// draft's counters summed.
    @discardableResult
    static func expectSameGreedyAnswers(target: Model, draft: Model, prompts: [[TokenID]], maxTokens: Int,
                                        contextLength: Int = 1024, minProbability: Float? = nil) throws -> DraftStatistics {
        var total = DraftStatistics()
        let alone = InferenceContext(model: target, contextLength: contextLength, threads: 2)
        let drafted = InferenceContext(model: target, contextLength: contextLength, threads: 2)
        let speculative = try SpeculativeDraft(context: InferenceContext(model: draft, contextLength: contextLength, threads: 2),
                                               target: target)
        if let minProbability { speculative.minProbability = minProbability }
        for (i, prompt) in prompts.enumerated() {
            var a = SamplerChain(settings: .greedy), b = SamplerChain(settings: .greedy)
            alone.reset()
            let expected = try alone.generate(prompt: prompt, maxTokens: maxTokens, sampler: &a)
            let got = try drafted.generate(prompt: prompt, maxTokens: maxTokens, sampler: &b, draft: speculative)
            #expect(got.tokens == expected.tokens, "prompt \(i): \(expected.text.debugDescription) vs \(got.text.debugDescription)")
            #expect(got.stop == expected.stop)
            let d = try #require(got.stats.draft)
            total.rounds += d.rounds
            total.drafted += d.drafted
            total.accepted += d.accepted
        }
        return total
    }

    static func chatPrompt(_ question: String, _ model: Model) -> [TokenID] {
        model.tokenizer.encode("<|im_start|>user\n\(question)<|im_end|>\n<|im_start|>assistant\n", addSpecial: true, parseSpecial: true)
    }

    @Test func smolLM2DraftedByItsFirstLayersAnswersAsAlone() throws {
        let path = try #require(Self.path("SmolLM2-135M-Instruct.Q4_1.gguf"), "run `sirocco pull smollm2:135m`")
        let target = try Model(path: path)
        let draft = try Self.truncatedDraft(of: path, architecture: "llama", layers: 20)
        #expect(draft.config.layerCount == 20 && target.config.layerCount == 30)
        let stats = try Self.expectSameGreedyAnswers(target: target, draft: draft,
                                                     prompts: Self.questions.map { Self.chatPrompt($0, target) }, maxTokens: 40)
        // the draft was used, and both kept and rejected
        #expect(stats.drafted > 50 && stats.accepted > 0 && stats.accepted < stats.drafted, "\(stats)")
    }

    /// Gemma 3's windowed layers keep 512 positions: answers that start past them take rejected
    /// drafts back out of a rolling buffer that has wrapped.
    @Test func gemma3TakesBackDraftsAcrossItsSlidingWindow() throws {
        guard let path = Self.path("gemma-3-270m-q4_k_m.gguf") else { return }  // `sirocco pull gemma3:270m`
        let target = try Model(path: path)
        let window = try #require(target.config.layerWindows.compactMap { $0 }.max())
        let draft = try Self.truncatedDraft(of: path, architecture: "gemma3", layers: 9)
        let story = "The lighthouse keeper climbed the stairs every evening, counting the steps as his father had. "
        let prompts = (0..<3).map { i in
            target.tokenizer.encode(String(repeating: story, count: 30) + "Chapter \(i + 2). The", addSpecial: true, parseSpecial: false)
        }
        #expect(prompts.allSatisfy { $0.count > window && $0.count < window + 100 }, "\(prompts.map(\.count))")
        // a draft of half the layers is seldom sure of a token: it drafts whatever its probability
        let stats = try Self.expectSameGreedyAnswers(target: target, draft: draft, prompts: prompts, maxTokens: 48, minProbability: 0)
        #expect(stats.drafted > 20 && stats.accepted < stats.drafted, "\(stats)")
    }

    @Test func qwenCoderSmallDraftsForTheLargeOne() throws {
        guard let targetPath = Self.path("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
              let draftPath = Self.path("qwen2.5-coder-0.5b-instruct.gguf") else { return }
        let target = try Model(path: targetPath), draft = try Model(path: draftPath)
        let stats = try Self.expectSameGreedyAnswers(target: target, draft: draft,
                                                     prompts: Self.questions.map { Self.chatPrompt($0, target) }, maxTokens: 48)
        #expect(stats.acceptanceRate > 0.5, "\(stats)")
    }

    /// Sampled answers with a draft: valid, reproducible from their seed, and with the draft used.
    @Test func sampledAnswersWithADraftRepeatForASeed() throws {
        let path = try #require(Self.path("SmolLM2-135M-Instruct.Q4_1.gguf"), "run `sirocco pull smollm2:135m`")
        let target = try Model(path: path)
        let draft = try SpeculativeDraft(context: InferenceContext(model: try Self.truncatedDraft(of: path, architecture: "llama", layers: 20),
                                                                   contextLength: 512, threads: 2), target: target)
        var settings = SamplerSettings()
        settings.seed = 42
        let prompt = Self.chatPrompt("Tell me about cats.", target)
        func answer() throws -> GenerationResult {
            var sampler = SamplerChain(settings: settings)
            return try InferenceContext(model: target, contextLength: 512, threads: 2)
                .generate(prompt: prompt, maxTokens: 40, sampler: &sampler, draft: draft)
        }
        let first = try answer(), second = try answer()
        #expect(first.tokens == second.tokens && !first.text.isEmpty)
        #expect((first.stats.draft?.drafted ?? 0) > 0)
    }

    @Test func aDraftWithAnotherVocabularyIsRefused() throws {
        guard let smol = Self.path("SmolLM2-135M-Instruct.Q4_1.gguf"), let qwen = Self.path("qwen2.5-coder-0.5b-instruct.gguf") else { return }
        let target = try Model(path: smol)
        let context = InferenceContext(model: try Model(path: qwen), contextLength: 64, threads: 1)
        #expect(throws: DraftVocabularyMismatch.self) { try SpeculativeDraft(context: context, target: target) }
    }

    /// The cost model: k follows the acceptance rate and the measured costs, and drafting is judged
    /// not to pay once the draft's tokens are seldom kept.
    @Test func draftLengthFollowsAcceptanceAndCost() {
        var good = DraftCostModel(draftBytes: 1, targetBytes: 2)
        good.recordPlainStep(seconds: 0.040)
        for _ in 0..<20 { good.recordRound(drafted: 4, kept: 4, firstCallSeconds: 0.012, draftSeconds: 4 * 0.012, targetSeconds: 0.050) }
        #expect(good.bestDraftLength(max: 16) >= 6 && good.speedup(k: good.bestDraftLength(max: 16)) > 1.5)
        #expect(!good.showsDraftingDoesNotPay)

        var poor = DraftCostModel(draftBytes: 1, targetBytes: 2)
        poor.recordPlainStep(seconds: 0.040)
        for _ in 0..<20 { poor.recordRound(drafted: 2, kept: 0, firstCallSeconds: 0.012, draftSeconds: 2 * 0.012, targetSeconds: 0.050) }
        #expect(poor.bestDraftLength(max: 16) == 1 && poor.showsDraftingDoesNotPay)

        // half kept: a short draft still pays when the draft is cheap, not when it costs as much as the target
        var cheap = DraftCostModel(draftBytes: 1, targetBytes: 10)
        cheap.recordPlainStep(seconds: 0.040)
        for _ in 0..<20 { cheap.recordRound(drafted: 2, kept: 1, firstCallSeconds: 0.004, draftSeconds: 2 * 0.004, targetSeconds: 0.042) }
        #expect(!cheap.showsDraftingDoesNotPay && (1...3).contains(cheap.bestDraftLength(max: 16)))
        var dear = DraftCostModel(draftBytes: 1, targetBytes: 1)
        dear.recordPlainStep(seconds: 0.040)
        for _ in 0..<20 { dear.recordRound(drafted: 2, kept: 1, firstCallSeconds: 0.040, draftSeconds: 2 * 0.040, targetSeconds: 0.042) }
        #expect(dear.showsDraftingDoesNotPay)
    }

    /// How sure a greedy draft is: the top softmax probability, within 1e-3 of the exact one
    /// though far logits are left out, on a flat, a peaked and a two-way vocabulary of 152k.
    @Test(arguments: [0.0, 8.0, 30.0])
    func topProbabilityIsTheSoftmaxMaximum(peak: Double) {
        var rng = SplitMix64(seed: 7)
        var logits = (0..<151_936).map { _ in Float(Double(rng.next() % 10_000) / 1000 - 5) }
        logits[42] += Float(peak)
        logits[43] = logits[42] - 0.5
        let top = Double(logits.max()!)
        let exact = 1 / logits.reduce(0.0) { $0 + exp(Double($1) - top) }
        let got = Double(TokenDecoder.topProbability(logits))
        #expect(abs(got - exact) <= 1e-3 * exact, "\(got) against \(exact)")
    }
}
