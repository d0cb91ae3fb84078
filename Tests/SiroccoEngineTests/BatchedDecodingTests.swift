// Rows evaluated together — a draft verified in one batch, sequences of one model decoded in one
// forward call — get exactly the logits they would get one token at a time, alone.

import Foundation
import Synchronization
import Testing
import TestSupport
@testable import SiroccoEngine

struct BatchedDecodingTests {
    /// SmolLM2 (in CI), and the models a machine has pulled: Gemma 3 has sliding-window layers.
    static let models = ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf", "qwen2.5-coder-0.5b-instruct.gguf"]

    static func load(_ file: String) throws -> Model? {
        let path = TestModelFiles.directory + "/" + file
        guard FileManager.default.fileExists(atPath: path) else {
            #expect(file != models[0], "SmolLM2 is missing: run `sirocco pull smollm2:135m`")
            return nil
        }
        return try Model(path: path)
    }

    /// Where two lists of logit rows first differ, and by how much at most.
    static func difference(_ a: [[Float]], _ b: [[Float]]) -> String {
        guard a.count == b.count else { return "\(a.count) rows vs \(b.count)" }
        let rows = zip(a, b).map { x, y in zip(x, y).map { abs($0 - $1) }.max() ?? 0 }
        return "first differing row \(rows.firstIndex { $0 != 0 }.map(String.init) ?? "none"), max |Δ| \(rows.max() ?? 0)"
    }

    static func tokens(_ n: Int, seed: Int, vocab: Int) -> [TokenID] {
        (0..<n).map { TokenID(($0 * 7919 + 13 + seed * 104_729) % vocab) }
    }

    /// Six tokens after a short prompt and after one past 512 positions (where one token's attention
    /// is split over the threads, and Gemma's windows have wrapped): verified in one call, or
    /// evaluated one at a time, the logits are equal bit for bit.
    @Test(arguments: models)
    func aVerifiedDraftHasTheLogitsOfOneTokenAtATime(file: String) throws {
        guard let model = try Self.load(file) else { return }
        let vocab = model.config.vocabularySize
        for promptLength in [20, 600] {
            let prompt = Self.tokens(promptLength, seed: 0, vocab: vocab)
            let draft = Self.tokens(6, seed: 1, vocab: vocab)
            let alone = InferenceContext(model: model, contextLength: 1024, threads: 2)
            try alone.evaluate(prompt)
            let expected = try draft.map { try alone.evaluate([$0]) }
            let verifier = InferenceContext(model: model, contextLength: 1024, threads: 2)
            try verifier.evaluate(prompt)
            let verified = try verifier.evaluateEach(draft)
            let same = verified == expected
            #expect(same, "\(file), prompt of \(promptLength): \(Self.difference(verified, expected))")
            #expect(verifier.tokens == prompt + draft && verifier.position == prompt.count + draft.count)
        }
    }

    /// Three sequences of one model at different depths (one past 512) step together, one leaving
    /// and one joining midway; each step gives every sequence the logits it gets decoding alone.
    @Test(arguments: models)
    func sequencesDecodedTogetherHaveTheirOwnLogits(file: String) throws {
        guard let model = try Self.load(file) else { return }
        let vocab = model.config.vocabularySize
        let prompts = [Self.tokens(9, seed: 2, vocab: vocab), Self.tokens(530, seed: 3, vocab: vocab), Self.tokens(40, seed: 4, vocab: vocab)]
        let steps = (0..<3).map { Self.tokens(6, seed: 10 + $0, vocab: vocab) }
        // alone
        var expected: [[[Float]]] = []
        for (p, s) in zip(prompts, steps) {
            let context = InferenceContext(model: model, contextLength: 1024, threads: 2)
            try context.evaluate(p)
            expected.append(try s.map { try context.evaluate([$0]) })
        }
        // together: sequence 2 joins at step 2, sequence 0 leaves after step 4
        let contexts = prompts.map { _ in InferenceContext(model: model, contextLength: 1024, threads: 2) }
        var got: [[[Float]]] = [[], [], []]
        for (c, p) in zip(contexts, prompts) { try c.evaluate(p) }
        var next = [0, 0, 0]
        for step in 0..<8 {
            let members = [0, 1, 2].filter { s in
                next[s] < 6 && (s != 2 || step >= 2) && (s != 0 || step <= 4)
            }
            let logits = try InferenceContext.evaluate(together: members.map { SequenceStep(contexts[$0], [steps[$0][next[$0]]]) })
            for (m, l) in zip(members, logits) {
                got[m].append(l)
                next[m] += 1
            }
        }
        // sequence 0 left after five steps; it finishes alone
        for t in steps[0][next[0]...] { got[0].append(try contexts[0].evaluate([t])) }
        for s in 0..<3 {
            let same = got[s] == expected[s]
            #expect(same, "\(file): sequence \(s): \(Self.difference(got[s], expected[s]))")
            #expect(contexts[s].tokens == prompts[s] + steps[s])
        }
    }
}

/// Sequences generating on their own threads through one SequenceBatcher: each answer is the one
/// it gets alone, and the steps served several sequences at once.
struct SequenceBatcherTests {
    @Test func threadsGeneratingTogetherGetTheirOwnAnswers() throws {
        let model = try #require(try BatchedDecodingTests.load(BatchedDecodingTests.models[0]))
        let questions = ["Name three colours.", "What is two plus two?", "Write a haiku about rain."]
        let prompts = questions.map {
            model.tokenizer.encode("<|im_start|>user\n\($0)<|im_end|>\n<|im_start|>assistant\n", addSpecial: true, parseSpecial: true)
        }
        let expected = try prompts.map { prompt in
            var sampler = SamplerChain(settings: .greedy)
            return try InferenceContext(model: model, contextLength: 256, threads: 2).generate(prompt: prompt, maxTokens: 40, sampler: &sampler).tokens
        }
        let batcher = SequenceBatcher(model: model, threads: 2)
        let results = Mutex<[Int: GenerationResult]>([:])
        let group = DispatchGroup()
        for (i, prompt) in prompts.enumerated() {
            group.enter()
            Thread {
                defer { group.leave() }
                let context = InferenceContext(model: model, contextLength: 256, threads: 1)
                context.batcher = batcher
                var sampler = SamplerChain(settings: .greedy)
                let result = try? context.generate(prompt: prompt, maxTokens: 40, sampler: &sampler)
                results.withLock { $0[i] = result }
            }.start()
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        let got = results.withLock { $0 }
        for i in prompts.indices {
            let same = got[i]?.tokens == expected[i]
            #expect(same, "sequence \(i)")
            // its answer says it was decoded together (its last tokens may have been alone)
            let perStep = got[i]?.stats.sequencesPerStep ?? 0
            #expect(perStep > 1.5, "sequence \(i): \(perStep) sequences a step")
        }
        // a request a token (and one a prompt), in far fewer steps
        #expect(batcher.requestsServed >= expected.map(\.count).reduce(0, +) && Double(batcher.requestsServed) / Double(batcher.steps) > 1.5,
                "\(batcher.requestsServed) requests in \(batcher.steps) steps")
    }

    /// Chat sessions made with a batcher (panes of one model) answer as they would alone, and
    /// run on the batcher's threads.
    @Test func chatSessionsOnOneBatcherAnswerAsAlone() throws {
        let model = try #require(try BatchedDecodingTests.load(BatchedDecodingTests.models[0]))
        let questions = ["Name three colours.", "What is the capital of France?"]
        let expected = try questions.map { question in
            try ChatSession(model: model, contextLength: 512, threads: 2, settings: .greedy).respond(to: question).text
        }
        let batcher = SequenceBatcher(model: model, threads: 2)
        let sessions = try questions.map { _ in
            try ChatSession(model: model, contextLength: 512, threads: 7, settings: .greedy, batcher: batcher)
        }
        #expect(sessions.allSatisfy { $0.context.threadCount == 2 })
        let answers = Mutex<[Int: GenerationResult]>([:])
        let group = DispatchGroup()
        for (i, session) in sessions.enumerated() {
            group.enter()
            Thread {
                defer { group.leave() }
                let result = try? session.respond(to: questions[i])
                answers.withLock { $0[i] = result }
            }.start()
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        let got = answers.withLock { $0 }
        for i in questions.indices {
            #expect(got[i]?.text == expected[i], "session \(i)")
            #expect((got[i]?.stats.sequencesPerStep ?? 0) > 1, "session \(i) was decoded alone")
        }
        // a session alone on its batcher is not reported as decoded together
        let alone = try sessions[0].respond(to: "And two more?")
        #expect(alone.stats.sequencesPerStep == 1)
    }
}
