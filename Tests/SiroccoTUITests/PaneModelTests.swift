// What a pane is opened on: a server's URL told from a path, `/model URL MODEL`, the server model
// each pane asks for, a resumed chat's servers, and opening through `ChatOptions.openRemote`.

import Foundation
@testable import SiroccoTUI
@testable import SiroccoEngine
import Testing

struct PaneModelTests {
    static func options(_ models: [String]) -> ChatOptions {
        ChatOptions(modelPaths: models, defaultModelPath: "/nowhere/default.gguf", missingDefaultModelHint: "no default")
    }

    @Test(arguments: [
        ("http://10.0.0.5:8080/v1", true),
        ("HTTPS://api.example.com/v1", true),
        ("https://x", true),
        ("/models/http://odd.gguf", false),
        ("./http:/x.gguf", false),
        ("httpx://host", false),
        ("qwen2.5-coder:1.5b", false),
        ("~/models/a b.gguf", false),
    ])
    func aURLIsAServer(reference: String, remote: Bool) {
        #expect(BackendLocation.isRemote(reference) == remote)
    }

    @Test(arguments: [
        ("http://h:8080/v1", PaneModel(reference: "http://h:8080/v1"), "h:8080"),
        ("http://h:8080/v1 qwen2.5-coder-7b", PaneModel(reference: "http://h:8080/v1", remoteModel: "qwen2.5-coder-7b"),
         "qwen2.5-coder-7b @ h:8080"),
        ("https://h/v1 \t org/model  ", PaneModel(reference: "https://h/v1", remoteModel: "org/model"), "org/model @ h"),
        ("~/models/a b.gguf", PaneModel(reference: "~/models/a b.gguf"), "a b.gguf"),
        ("qwen2.5-coder:0.5b", PaneModel(reference: "qwen2.5-coder:0.5b"), "qwen2.5-coder:0.5b"),
    ])
    func modelCommandsArgument(argument: String, parsed: PaneModel, shown: String) throws {
        #expect(try CommandParser.parse("/model " + argument) == .model(parsed))
        #expect(parsed.displayName == shown)
    }

    @Test func theRemoteModelOptionNamesEveryServersModel() {
        var options = PaneModelTests.options(["http://a/v1", "/m.gguf", "http://b/v1"])
        #expect(options.paneModels.map(\.remoteModel) == [nil, nil, nil])
        options.remoteModel = "m7"
        #expect(options.paneModels == [PaneModel(reference: "http://a/v1", remoteModel: "m7"), PaneModel(reference: "/m.gguf"),
                                       PaneModel(reference: "http://b/v1", remoteModel: "m7")])
        #expect(options.apiKeyEnvironmentVariable == "SIROCCO_API_KEY")
    }

    @Test func aResumedChatReopensItsServersModels() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sirocco-pane-model-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let remote = ScriptedBackend(baseURL: "http://10.0.0.5:8080/v1", model: "qwen2.5-coder-7b")
        let file = directory.appendingPathComponent("chat-1.json").path
        try remote.save(to: file)

        var options = PaneModelTests.options([])
        try ChatTUI.chooseModels(&options, resumeFiles: [file])
        #expect(options.paneModels == [PaneModel(reference: "http://10.0.0.5:8080/v1", remoteModel: "qwen2.5-coder-7b")])
        // --remote-model given again wins over the saved one
        options.remoteModel = "other"
        #expect(options.paneModels.first?.remoteModel == "other")

        // a local model that is gone: the default model, missing here too
        let gone = directory.appendingPathComponent("chat-2.json").path
        try JSONEncoder().encode(ChatSession.Saved(model: "/nowhere/gone.gguf", messages: [], settings: SamplerSettings()))
            .write(to: URL(fileURLWithPath: gone))
        var local = PaneModelTests.options([])
        #expect(throws: ChatStartError.self) { try ChatTUI.chooseModels(&local, resumeFiles: [gone]) }
    }

    @Test func withoutAnOpenerAServerIsOneLineBeforeTheTerminal() {
        var options = PaneModelTests.options(["http://10.0.0.5:8080/v1"])
        do {
            try ChatTUI.preflight(options)
            Issue.record("a URL opened without openRemote")
        } catch {
            #expect("\(error)" == "remote models are not available in this build")
        }
        // with one, the URL is no file to check: what stops these tests is the missing terminal
        options.openRemote = { _, _, _ in ScriptedBackend() }
        do { try ChatTUI.preflight(options) } catch {
            #expect("\(error)" != "remote models are not available in this build")
            #expect(!"\(error)".contains("No such file"))
        }
    }

    @Test func openingAServerAppliesTheChatsSettings() throws {
        let opened = LockedBox<(String, String?, ChatOptions)?>(nil)
        var options = PaneModelTests.options([])
        options.settings.temperature = 0.3
        options.maxAnswerTokens = 77
        options.systemPrompt = "from the command line"
        options.openRemote = { url, model, options in
            opened.value = (url, model, options)
            return ScriptedBackend(baseURL: url, model: model ?? "default")
        }
        let session = try EventLoop.openRemote(PaneModel(reference: "http://h:1/v1", remoteModel: "m"), options: options,
                                               systemPrompt: "set in the chat")
        #expect(session.location == .remote(baseURL: "http://h:1/v1", model: "m"))
        #expect(session.settings.temperature == 0.3 && session.maxAnswerTokens == 77)
        #expect(session.systemPrompt == "set in the chat")
        #expect(opened.value?.0 == "http://h:1/v1" && opened.value?.1 == "m" && opened.value?.2.systemPrompt == "set in the chat")
    }

    @Test func anOpenerThatFailsIsOneLine() {
        struct Refused: Error, CustomStringConvertible { var description: String { "http://h:1/v1: connection refused\nmore" } }
        var options = PaneModelTests.options([])
        options.openRemote = { _, _, _ in throw Refused() }
        do {
            _ = try EventLoop.openRemote(PaneModel(reference: "http://h:1/v1"), options: options, systemPrompt: nil)
            Issue.record("the opener's error was lost")
        } catch {
            #expect(EventLoop.message(error) == "http://h:1/v1: connection refused")
        }
        options.openRemote = nil
        #expect(throws: ChatStartError.self) {
            try EventLoop.openRemote(PaneModel(reference: "http://h:1/v1"), options: options, systemPrompt: nil)
        }
    }
}

/// A value the opener closure (which must be Sendable) hands back to the test.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
