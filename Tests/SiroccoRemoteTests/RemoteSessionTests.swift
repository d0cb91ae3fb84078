// A remote conversation against a scripted server (TestSupport's FaultServer): answers streamed,
// settings and the key in each request, and every failure the issue lists — refused, no such
// host, timeouts, 401/403, 404, 429, 5xx, a malformed stream, a close mid-answer — as a
// `RemoteError` with the partial answer kept. Cancelling closes the request.

import Foundation
import Synchronization
import SiroccoEngine
import Testing
import TestSupport
@testable import SiroccoRemote

struct RemoteSessionTests {
    /// A session on `server` (model "m"), with short timeouts.
    func session(_ server: FaultServer, key: String? = nil, idle: Double = 2) throws -> RemoteSession {
        let endpoint = try RemoteEndpoint(url: server.baseURL, apiKey: key, connectTimeout: 2, idleTimeout: idle)
        return RemoteSession(client: RemoteClient(endpoint: endpoint), model: "m")
    }

    /// Sends `text`; the text events, and the error if the answer failed.
    func ask(_ session: RemoteSession, _ text: String = "hi") -> (pieces: [String], events: [GenerationEvent], error: Error?) {
        var events: [GenerationEvent] = []
        do {
            try session.respond(to: text, seed: nil) { events.append($0) }
            return (events.compactMap { if case let .text(t) = $0 { t } else { nil } }, events, nil)
        } catch {
            return (events.compactMap { if case let .text(t) = $0 { t } else { nil } }, events, error)
        }
    }

    @Test func anAnswerStreamsAndJoinsTheConversation() throws {
        let server = try FaultServer { _ in FaultServer.answer(["Hello", ", ", "world"], pause: 0.02) }
        let s = try session(server, key: "sk-secret")
        s.systemPrompt = "Be brief."
        var settings = SamplerSettings()
        settings.temperature = 0.3
        settings.topK = 7
        s.settings = settings
        s.maxAnswerTokens = 99
        let (pieces, events, error) = ask(s, "Say hello")
        #expect(error == nil)
        #expect(pieces == ["Hello", ", ", "world"])
        #expect(s.messages == [.user("Say hello"), .assistant("Hello, world")])
        guard case let .finished(stop, stats) = try #require(events.last) else { Issue.record("no finish"); return }
        #expect(stop == .endOfGeneration)
        #expect(stats.generatedTokens == 3 && stats.promptTokens == 11)
        #expect(stats.timeToFirstToken > 0.015 && stats.generationSeconds > 0.03)

        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.path == "/v1/chat/completions")
        #expect(request.headers["authorization"] == "Bearer sk-secret")
        let json = try #require(request.json)
        #expect(json["model"] as? String == "m")
        #expect(json["stream"] as? Bool == true)
        #expect(json["max_tokens"] as? Int == 99)
        #expect(json["top_k"] as? Int == 7)
        #expect((json["temperature"] as? Double).map { abs($0 - 0.3) < 1e-6 } == true)
        let messages = try #require(json["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Say hello"]])
    }

    @Test func settingsChangedBetweenAnswersGoWithTheNextRequest() throws {
        let server = try FaultServer { _ in FaultServer.answer(["ok"]) }
        let s = try session(server)
        _ = ask(s)
        var settings = s.settings
        settings.temperature = 1.7
        settings.seed = 42
        s.settings = settings
        s.stopStrings = ["END"]
        _ = ask(s, "again")
        let second = try #require(server.requests.last?.json)
        #expect((second["temperature"] as? Double).map { abs($0 - 1.7) < 1e-6 } == true)
        #expect(second["seed"] as? Int == 42)
        #expect(second["stop"] as? [String] == ["END"])
        // the conversation so far goes with it
        #expect((second["messages"] as? [[String: String]])?.map { $0["content"]! } == ["hi", "ok", "again"])
    }

    @Test func theKeyIsNeverSavedAndAConversationResumes() throws {
        let server = try FaultServer { _ in FaultServer.answer(["saved"]) }
        let s = try session(server, key: "sk-do-not-save")
        _ = ask(s)
        let file = NSTemporaryDirectory() + "remote-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try s.save(to: file)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!text.contains("sk-do-not-save"))
        let saved = try ChatSession.Saved.read(from: file)
        #expect(saved.model == server.baseURL && saved.remoteModel == "m")
        let resumed = try session(server)
        try resumed.load(from: file)
        #expect(resumed.messages == [.user("hi"), .assistant("saved")])
    }

    @Test func openPicksTheFirstListedModelAndRefusesAnUnknownOne() throws {
        let server = try FaultServer { request in
            request.path.hasSuffix("/models") ? FaultServer.models(["big-model", "small-model"]) : FaultServer.json(500, "{}")
        }
        let endpoint = try RemoteEndpoint(url: server.baseURL)
        #expect(try RemoteSession.open(endpoint: endpoint, model: nil).model == "big-model")
        #expect(try RemoteSession.open(endpoint: endpoint, model: "small-model").model == "small-model")
        #expect(throws: RemoteError.modelNotFound(model: "nope", message: "it lists big-model, small-model")) {
            try RemoteSession.open(endpoint: endpoint, model: "nope")
        }
        let empty = try FaultServer { _ in FaultServer.models([]) }
        #expect(throws: RemoteError.noModels) { try RemoteSession.open(endpoint: try RemoteEndpoint(url: empty.baseURL), model: nil) }
    }

    @Test func aBaseURLWithoutAPathMeansV1() throws {
        #expect(try RemoteEndpoint(url: "http://127.0.0.1:8080").baseURL == "http://127.0.0.1:8080/v1")
        #expect(try RemoteEndpoint(url: "http://h:1/api/v1/").baseURL == "http://h:1/api/v1")
        #expect(try RemoteEndpoint(url: "https://example.com/v1").host == "example.com")
        for bad in ["ftp://h/v1", "http://", "http://u:p@h/v1", "http://h/v1?x=1", "model.gguf"] {
            #expect(throws: RemoteError.invalidURL(bad)) { try RemoteEndpoint(url: bad) }
        }
        #expect(!"\(try RemoteEndpoint(url: "http://h/v1", apiKey: "sk-x"))".contains("sk-x"))
    }

    // MARK: failures

    @Test func aServerThatIsNotThereIsConnectionRefused() throws {
        let server = try FaultServer { _ in [] }
        let endpoint = try RemoteEndpoint(url: server.baseURL, connectTimeout: 30)
        let s = RemoteSession(client: RemoteClient(endpoint: endpoint), model: "m")
        server.stop()
        let clock = ContinuousClock()
        let start = clock.now
        let (_, _, error) = ask(s)
        #expect(clock.now - start < .seconds(1))  // said at once, not retried until the connect timeout
        #expect(error as? RemoteError == .connectionRefused(host: "127.0.0.1:\(server.port)"), "\(String(describing: error))")
        // at once, not when the connect timeout ends (the connection is not tried again and again)
        #expect(clock.now - start < .seconds(15))
        #expect(s.messages.isEmpty)  // nothing arrived: the message is not half in the conversation
        #expect("\(error!)".contains("connection refused"))
    }

    @Test func aHostThatDoesNotResolveSaysSo() throws {
        let endpoint = try RemoteEndpoint(url: "http://no-such-host.invalid:8080/v1", connectTimeout: 5)
        #expect(throws: RemoteError.hostNotFound(host: "no-such-host.invalid:8080")) {
            try RemoteSession.open(endpoint: endpoint, model: nil)
        }
    }

    @Test func aServerThatDoesNotAcceptTimesOut() throws {
        let listener = try FullListener()
        let endpoint = try RemoteEndpoint(url: "http://127.0.0.1:\(listener.port)/v1", connectTimeout: 0.5)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(throws: RemoteError.connectTimeout(host: "127.0.0.1:\(listener.port)", seconds: 0.5)) {
            try RemoteSession.open(endpoint: endpoint, model: nil)
        }
        #expect(clock.now - start < .seconds(5))
    }

    @Test func aServerSilentBeforeTheAnswerTimesOut() throws {
        let server = try FaultServer { _ in [.hang] }
        defer { server.stop() }
        let s = try session(server, idle: 0.5)
        let clock = ContinuousClock()
        let start = clock.now
        let (_, _, error) = ask(s)
        #expect(error as? RemoteError == .stalled(seconds: 0.5), "\(String(describing: error))")
        #expect(clock.now - start < .seconds(10))
    }

    @Test func aServerSilentMidAnswerTimesOutAndThePartialAnswerStays() throws {
        let server = try FaultServer { _ in
            [FaultServer.streamHead, .chunk("data: \(FaultServer.chunkData("Once"))\n\n"),
             .chunk("data: \(FaultServer.chunkData(" upon"))\n\n"), .hang]
        }
        defer { server.stop() }
        let s = try session(server, idle: 0.5)
        let (pieces, _, error) = ask(s)
        #expect(error as? RemoteError == .stalled(seconds: 0.5), "\(String(describing: error))")
        #expect(pieces == ["Once", " upon"])
        #expect(s.messages == [.user("hi"), .assistant("Once upon")])
    }

    @Test(arguments: [401, 403])
    func aRefusedKeyIsUnauthorizedWithTheServersWords(status: Int) throws {
        let server = try FaultServer { _ in FaultServer.json(status, #"{"error":{"message":"Invalid API Key","type":"auth"}}"#) }
        let s = try session(server, key: "wrong")
        let (_, _, error) = ask(s)
        #expect(error as? RemoteError == .unauthorized(status: status, message: "Invalid API Key"))
        #expect("\(error!)".contains("Invalid API Key") && "\(error!)".contains("--api-key-env"))
        #expect(throws: RemoteError.unauthorized(status: status, message: "Invalid API Key")) {
            try RemoteSession.open(endpoint: try RemoteEndpoint(url: server.baseURL), model: nil)
        }
    }

    @Test func anUnknownModelIsNotFound() throws {
        let server = try FaultServer { _ in FaultServer.json(404, #"{"error":{"message":"model 'm' not found"}}"#) }
        let (_, _, error) = ask(try session(server))
        #expect(error as? RemoteError == .modelNotFound(model: "m", message: "model 'm' not found"))
    }

    @Test func rateLimitingSaysWhenToTryAgain() throws {
        let server = try FaultServer { _ in FaultServer.json(429, #"{"error":{"message":"slow down"}}"#, headers: ["Retry-After": "30"]) }
        let (_, _, error) = ask(try session(server))
        #expect(error as? RemoteError == .rateLimited(status: 429, message: "slow down", retryAfter: 30))
        #expect("\(error!)".contains("try again in 30 s"))
        #expect(server.requests.count == 1)  // a long wait is the user's to make
    }

    /// A server that refuses for a second (429, or 503 with Retry-After) is asked again, saying so;
    /// twice at most.
    @Test(arguments: [429, 503])
    func aShortRefusalIsRetriedVisibly(status: Int) throws {
        let refusals = Mutex(0)
        let server = try FaultServer { _ in
            let refused = refusals.withLock { n in
                n += 1
                return n <= 1
            }
            return refused ? FaultServer.json(status, #"{"error":{"message":"queue full"}}"#, headers: ["Retry-After": "1"])
                : FaultServer.answer(["Fine."])
        }
        let s = try session(server)
        let (pieces, events, error) = ask(s)
        #expect(error == nil && pieces == ["Fine."])
        #expect(events.first == .notice("the server is busy (\(status)): asking again in 1 s (1 of 2)"))
        #expect(server.requests.count == 2)

        let always = try FaultServer { _ in FaultServer.json(status, #"{"error":{"message":"busy"}}"#, headers: ["Retry-After": "1"]) }
        let (_, failedEvents, failure) = ask(try session(always))
        #expect(failure as? RemoteError == .rateLimited(status: status, message: "busy", retryAfter: 1))
        #expect(failedEvents.count { if case .notice = $0 { true } else { false } } == 2)
        #expect(always.requests.count == 3)
    }

    @Test func aServiceUnavailableWithoutRetryAfterIsNotRetried() throws {
        let server = try FaultServer { _ in FaultServer.json(503, #"{"error":{"message":"loading model"}}"#) }
        let (_, _, error) = ask(try session(server))
        #expect(error as? RemoteError == .http(status: 503, message: "loading model"))
        #expect(server.requests.count == 1)
    }

    @Test(arguments: [500, 503])
    func aServerErrorCarriesItsText(status: Int) throws {
        let server = try FaultServer { _ in FaultServer.json(status, #"{"detail":"CUDA out of memory"}"#) }
        let s = try session(server)
        let (_, _, error) = ask(s)
        #expect(error as? RemoteError == .http(status: status, message: "CUDA out of memory"))
        #expect("\(error!)" == "the server answered \(status): CUDA out of memory")
    }

    @Test func aMalformedStreamFailsAndKeepsWhatCameBefore() throws {
        let server = try FaultServer { _ in
            [FaultServer.streamHead, .chunk("data: \(FaultServer.chunkData("Good"))\n\n"), .chunk("data: {\"choices\": [oops\n\n"), .endChunks]
        }
        let s = try session(server)
        let (pieces, _, error) = ask(s)
        guard case .malformed = error as? RemoteError else { Issue.record("\(String(describing: error))"); return }
        #expect(pieces == ["Good"])
        #expect(s.messages.last == .assistant("Good"))
    }

    @Test func aCloseMidAnswerFailsAndKeepsThePartialAnswer() throws {
        for ending: [FaultServer.Step] in [[.close], [.endChunks]] {  // cut, or a body that ends early
            let server = try FaultServer { _ in
                [FaultServer.streamHead, .chunk("data: \(FaultServer.chunkData("Half"))\n\n"), .pause(seconds: 0.05)] + ending
            }
            let s = try session(server)
            let (pieces, _, error) = ask(s)
            #expect(error as? RemoteError == .closedMidAnswer, "\(String(describing: error))")
            #expect(pieces == ["Half"])
            #expect(s.messages == [.user("hi"), .assistant("Half")])
        }
    }

    @Test func anErrorSentInsideTheStreamIsTheServersMessage() throws {
        let server = try FaultServer { _ in
            [FaultServer.streamHead, .chunk(#"data: {"error":{"message":"context length exceeded"}}"# + "\n\n"), .endChunks]
        }
        let (_, _, error) = ask(try session(server))
        #expect(error as? RemoteError == .http(status: 200, message: "context length exceeded"))
    }

    @Test func cancellingStopsTheRequestAndKeepsThePartialAnswer() throws {
        let server = try FaultServer { _ in FaultServer.answer((0..<200).map { "w\($0) " }, pause: 0.05) }
        let s = try session(server)
        var events: [GenerationEvent] = []
        let clock = ContinuousClock()
        var cancelledAt: ContinuousClock.Instant?
        let result = try s.respond(to: "go", seed: nil) { event in
            events.append(event)
            if case .text = event, cancelledAt == nil {
                cancelledAt = clock.now
                s.cancel()
            }
        }
        #expect(result.stop == .cancelled)
        #expect(clock.now - cancelledAt! < .seconds(2))
        #expect(result.text.hasPrefix("w0 ") && result.text.count < 40)
        #expect(s.messages.last == .assistant(result.text))
        #expect(!s.isGenerating)
    }

    /// Pieces already received when the answer is cancelled are not read on: a fast server's
    /// whole answer may be waiting in the buffers.
    @Test func aCancelStopsReadingWhatIsAlreadyHere() throws {
        let server = try FaultServer { _ in FaultServer.answer((0..<2000).map { "w\($0) " }) }
        let s = try session(server)
        let result = try s.respond(to: "go", seed: nil) { event in
            if case .text = event { s.cancel() }
        }
        #expect(result.stop == .cancelled)
        #expect(result.text == "w0 ", "\(result.text.prefix(80))")
    }

    @Test func reasoningSentApartIsFoldedInThinkTags() throws {
        let server = try FaultServer { _ in
            [FaultServer.streamHead,
             .chunk("data: \(FaultServer.chunkData(nil, reasoning: "Let me"))\n\n"),
             .chunk("data: \(FaultServer.chunkData(nil, reasoning: " think."))\n\n"),
             .chunk("data: \(FaultServer.chunkData("Four."))\n\n"),
             .chunk("data: \(FaultServer.chunkData(nil, finish: "stop"))\n\n"), .chunk("data: [DONE]\n\n"), .endChunks]
        }
        let s = try session(server)
        let (pieces, events, error) = ask(s)
        #expect(error == nil)
        #expect(pieces.joined() == "<think>\nLet me think.\n</think>\n\nFour.")
        guard case let .finished(_, stats) = events.last else { Issue.record("no finish"); return }
        #expect(stats.reasoningTokens == 2 && stats.generatedTokens == 3)
        // the next request sends the answer without its reasoning
        _ = ask(s, "more")
        let messages = try #require(server.requests.last?.json?["messages"] as? [[String: String]])
        #expect(messages[1] == ["role": "assistant", "content": "Four."])
    }
}
