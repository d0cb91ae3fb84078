// ChatSession on the default model: prefix reuse across turns, streaming, cancellation, stop
// strings, live settings, context overflow and save/load.

import Foundation
import Testing
@testable import SiroccoEngine

@Suite(.serialized) struct ChatSessionTests {
    func session(context: Int = 1024) throws -> ChatSession {
        let s = try ChatSession(model: try ReferenceModel.load(), contextLength: context, threads: 2, settings: .greedy)
        s.maxAnswerTokens = 24
        return s
    }

    @Test func secondTurnEvaluatesOnlyTheNewTokens() throws {
        let s = try session()
        let first = try s.respond(to: "What is 2+2?")
        #expect(first.stats.reusedTokens == 0)
        let cachedAfterFirst = s.context.tokens.count
        let secondPrompt = try s.promptTokens(for: s.messages + [.user("And 3+3?")])
        let second = try s.respond(to: "And 3+3?")
        // everything up to the end of the first answer is reused; only the rest is evaluated
        #expect(second.stats.reusedTokens >= cachedAfterFirst - 1)
        #expect(second.stats.promptTokens == secondPrompt.count - second.stats.reusedTokens)
        #expect(second.stats.promptTokens < 20, "evaluated \(second.stats.promptTokens) of \(secondPrompt.count)")
        #expect(s.messages.map(\.role) == ["user", "assistant", "user", "assistant"])
        #expect(s.messages[1].content == first.text)
    }

    @Test func aRetryEvaluatesOnlyTheLastPromptTokenAndAnEditOnlyTheNewMessage() throws {
        let s = try session()
        try s.respond(to: "What is 2+2?")
        let firstTurnCells = s.context.tokens.count
        let second = try s.respond(to: "And 3+3?")
        let prompt = try s.promptTokens(for: Array(s.messages.dropLast()))
        #expect(try s.takeBackLastExchange() == "And 3+3?")
        #expect(s.messages.map(\.role) == ["user", "assistant"])
        // the same prompt again: every token of it is in the cache; the last is evaluated again for its logits
        let retry = try s.respond(to: "And 3+3?", seed: 99)
        #expect(retry.stats.reusedTokens == prompt.count - 1 && retry.stats.promptTokens == 1,
                "reused \(retry.stats.reusedTokens), evaluated \(retry.stats.promptTokens) of \(prompt.count)")
        #expect(retry.stats.seed == 99)
        #expect(retry.tokens == second.tokens)  // greedy: the same cells give the same answer
        #expect(s.messages.count == 4 && s.messages[3].content == retry.text)
        // an edited message: the first turn stays in the cache, only the changed message is read
        #expect(try s.takeBackLastExchange() == "And 3+3?")
        let edited = try s.respond(to: "And 4+4?")
        #expect(edited.stats.reusedTokens >= firstTurnCells - 1 && edited.stats.promptTokens < 20,
                "reused \(edited.stats.reusedTokens), evaluated \(edited.stats.promptTokens)")
        #expect(s.messages.map(\.content).prefix(3) == [s.messages[0].content, s.messages[1].content, "And 4+4?"])
        // nothing to take back in an empty conversation
        s.clear()
        #expect(try s.takeBackLastExchange() == nil)
    }

    @Test func reusedPrefixGivesTheLogitsOfAFreshContext() throws {
        // the second turn evaluates only its new tokens on top of the cached first turn (whose answer
        // went in one token at a time); a fresh context evaluates the whole prompt in batches. Batches
        // shorter than SK_ATTENTION_TILE take the same one-row attention path as generation, so the
        // two must agree to rounding (a batch of 64 or more would take the tiled path, which differs
        // from it by about as much as llama.cpp's flash attention on and off)
        let s = try session()
        try s.respond(to: "Name a color.")
        let prompt = try s.promptTokens(for: s.messages + [.user("Name a fruit.")])
        let shared = s.context.sharedPrefixLength(with: prompt)
        #expect(shared > 20 && shared < prompt.count)
        s.context.truncate(to: shared)
        let warm = try s.context.evaluate(Array(prompt[shared...]))
        let cold = try InferenceContext(model: s.model, contextLength: 1024, batchSize: 32, threads: 2).evaluate(prompt)
        let diff = zip(warm, cold).map { abs($0 - $1) }.max()!
        if ProcessInfo.processInfo.environment["SIROCCO_PARITY_REPORT"] != nil { print("reused prefix: max logit difference \(diff)") }
        #expect(diff < 1e-3, "max logit difference \(diff)")
        let top = cold.indices.sorted { cold[$0] > cold[$1] }.prefix(2)
        if cold[top.first!] - cold[top.last!] > 2 * diff {  // not a near-tie: the same first answer token
            #expect(SamplerChain.argmax(warm) == SamplerChain.argmax(cold))
        }
    }

    @Test func streamYieldsTextProgressAndFinish() async throws {
        let s = try session()
        var text = ""
        var progress = 0
        var finish: StopReason?
        for try await event in s.send("Say hello.") {
            switch event {
            case let .text(piece): text += piece
            case .progress: progress += 1
            case let .finished(reason, stats):
                finish = reason
                #expect(stats.generationTokensPerSecond > 0 && stats.promptTokensPerSecond > 0)
                #expect(stats.cacheCellsUsed > 0 && stats.cacheCellsUsed <= stats.cacheCapacity && stats.cacheBytesUsed > 0)
            case let .notice(text): Issue.record("the engine sent a notice: \(text)")
            }
        }
        #expect(!text.isEmpty && progress > 1 && finish != nil)
        #expect(s.messages.last == .assistant(text))
        #expect(!s.isGenerating)
    }

    @Test func cancellingKeepsThePartialAnswerAndTheSessionUsable() async throws {
        let s = try session()
        // an answer that only cancelling ends early: no end-of-generation token, room for 900 tokens
        // (seconds of generation, so a consumer starved by a loaded machine still cancels in time)
        s.settings.logitBias = Dictionary(uniqueKeysWithValues: s.model.tokenizer.endOfGenerationTokens.map { ($0, -Float.infinity) })
        s.maxAnswerTokens = 900
        var pieces = 0
        var reason: StopReason?
        for try await event in s.send("Write a long story about a dragon.") {
            if case .text = event {
                pieces += 1
                if pieces == 3 { s.cancel() }
            }
            if case let .finished(r, _) = event { reason = r }
        }
        #expect(reason == .cancelled)
        #expect(s.messages.count == 2 && !s.messages[1].content.isEmpty)
        s.settings.logitBias = [:]
        s.maxAnswerTokens = 24
        let next = try s.respond(to: "Thanks!")
        #expect(!next.text.isEmpty || next.stop == .endOfGeneration)
        #expect(s.messages.count == 4)
    }

    @Test func stopStringEndsTheAnswerBeforeIt() throws {
        let s = try session()
        let plain = try session()
        let full = try plain.respond(to: "What is 2+2?").text
        let word = String(full.split(separator: " ")[3])  // a word from the middle of the answer
        s.stopStrings = [word]
        let r = try s.respond(to: "What is 2+2?")
        #expect(r.stop == .stopString)
        #expect(!r.text.contains(word))
        #expect(full.hasPrefix(r.text))
    }

    @Test func settingsChangeMidAnswer() throws {
        let s = try session()
        let banned = s.model.tokenizer.encode("!", addSpecial: false, parseSpecial: false)[0]
        var seen = 0
        let r = try s.respond(to: "Tell me a joke.") { event in
            if case .text = event {
                seen += 1
                if seen == 2 { s.settings.logitBias = [banned: 100] }
            }
        }
        // after the change every token is the boosted one
        #expect(r.tokens.suffix(5).allSatisfy { $0 == banned }, "\(r.tokens)")
        #expect(!r.tokens.prefix(2).contains(banned))
    }

    @Test func overflowDropsOldestTurnsButKeepsTheSystemPrompt() throws {
        let s = try session(context: 160)
        s.systemPrompt = "You are terse."
        for i in 0..<6 { try s.respond(to: "Tell me fact number \(i) about the ocean.") }
        #expect(s.droppedMessages > 0)
        #expect(s.messages.first?.role == "user")
        let prompt = try s.promptTokens(for: s.messages)
        #expect(s.model.tokenizer.decode(prompt, renderSpecial: true).contains("You are terse."))
        #expect(s.context.position <= 160)
    }

    @Test func refusePolicyThrowsAClearError() throws {
        let s = try session(context: 64)
        s.overflowPolicy = .refuse
        let long = String(repeating: "very ", count: 80)
        #expect(throws: ChatError.self) { try s.respond(to: long) }
        #expect(s.messages.isEmpty)
        do { try s.respond(to: long) } catch { #expect("\(error)".contains("context holds 64")) }
    }

    @Test func saveAndLoadRoundTripAtomically() throws {
        let s = try session()
        s.systemPrompt = "Be kind. ☀️"
        var settings = SamplerSettings.greedy
        settings.topK = 7
        s.settings = settings
        try s.respond(to: "Hi! 你好")
        let dir = NSTemporaryDirectory() + "sirocco-save-\(UUID().uuidString)"
        let path = dir + "/conversation.json"
        try s.save(to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["conversation.json"])
        let other = try session()
        try other.load(from: path)
        #expect(other.messages == s.messages && other.systemPrompt == s.systemPrompt && other.settings == s.settings)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ChatError.self) { try other.load(from: path) }
        #expect(other.messages == s.messages)  // a bad file changes nothing
    }

    @Test func aResumedSessionWithItsCacheReadsOnlyTheNewMessage() throws {
        let dir = NSTemporaryDirectory() + "sirocco-cache-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try session()
        try s.respond(to: "Name three rivers in Europe.")
        try s.save(to: dir + "/chat.json")
        try s.saveCache(to: dir + "/chat.kv")
        let cached = s.context.tokens.count
        let original = try s.respond(to: "Which is the longest?")

        let resumed = try session()
        try resumed.load(from: dir + "/chat.json")
        #expect(try resumed.restoreCache(from: dir + "/chat.kv") == cached)
        let answer = try resumed.respond(to: "Which is the longest?")
        // only the tokens after the first answer are evaluated, and the answer is the one the
        // session that never stopped gives (the same cells, the same greedy tokens)
        #expect(answer.stats.reusedTokens == original.stats.reusedTokens && answer.stats.reusedTokens >= cached - 1)
        #expect(answer.stats.promptTokens == original.stats.promptTokens && answer.stats.promptTokens < 20,
                "evaluated \(answer.stats.promptTokens)")
        #expect(answer.tokens == original.tokens)

        // without the cache the whole conversation is read again
        let cold = try session()
        try cold.load(from: dir + "/chat.json")
        let coldAnswer = try cold.respond(to: "Which is the longest?")
        #expect(coldAnswer.stats.reusedTokens == 0 && coldAnswer.stats.promptTokens > cached)

        // another conversation shares only the start of the prompt (the template's system prompt)
        let other = try session()
        try other.respond(to: "Say hi.")
        try other.save(to: dir + "/other.json")
        let mixed = try session()
        try mixed.load(from: dir + "/other.json")
        let prompt = try mixed.promptTokens(for: mixed.messages + [.user("…")])
        let shared = zip(prompt, s.context.tokens).prefix { $0 == $1 }.count
        #expect(try mixed.restoreCache(from: dir + "/chat.kv") == shared)
        #expect(shared > 0 && shared < cached)
    }

    @Test func emptyMessageIsRejected() throws {
        #expect(throws: ChatError.emptyMessage) { try session().respond(to: "") }
    }

    @Test func aRandomSeedIsReportedAndReproducesTheAnswer() throws {
        var settings = SamplerSettings()
        settings.temperature = 1.5
        settings.topK = 0
        settings.topP = 1
        settings.minP = 0
        #expect(settings.seed == nil)  // random by default
        let s = try ChatSession(model: try ReferenceModel.load(), contextLength: 1024, threads: 2, settings: settings)
        s.maxAnswerTokens = 24
        let question = "Write a sentence about a cat."
        let first = try s.respond(to: question)
        s.clear()
        let second = try s.respond(to: question)
        let firstSeed = try #require(first.stats.seed)
        let secondSeed = try #require(second.stats.seed)
        #expect(firstSeed != secondSeed)
        #expect(first.text != second.text, "two random seeds gave the same answer: \(first.text)")
        #expect(s.lastStats.seed == secondSeed)
        // the first answer's seed, fixed: the same question on the same history gives the same answer
        s.settings.seed = firstSeed
        s.clear()
        let again = try s.respond(to: question)
        #expect(again.stats.seed == firstSeed)
        #expect(again.text == first.text)
        #expect(again.tokens == first.tokens)
    }

    @Test func effectiveSystemPromptIsTheTemplatesDefaultUntilOneIsSet() throws {
        let s = try session()  // SmolLM2's template writes its own system prompt when there is none
        #expect(s.systemPrompt == nil)
        #expect(s.effectiveSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        s.systemPrompt = "You are terse."
        #expect(s.effectiveSystemPrompt == "You are terse.")
        s.systemPrompt = nil
        s.format = .builtin(.chatml)
        #expect(s.effectiveSystemPrompt == nil)
    }

    @Test func loadErrorsSpeakOfTheConversation() throws {
        let s = try session()
        do {
            try s.load(from: "/nonexistent/chat.json")
            Issue.record("loaded a file that does not exist")
        } catch {
            #expect("\(error)" == "cannot load the conversation from /nonexistent/chat.json: No such file or directory")
        }
    }
}
