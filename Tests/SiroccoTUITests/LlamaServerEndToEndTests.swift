// Sirocco against llama.cpp's own OpenAI-compatible server (llama-cpp-python's `llama_cpp.server`,
// SmolLM2 on loopback): `sirocco run --model URL` streams the server's greedy answer; in tmux a
// remote pane answers beside a local one, a server that dies mid-chat is one line in its pane and
// the chat goes on once it is back, and `--resume` reopens a remote pane. Skipped when the server
// does not import (scripts/test.sh installs it).

import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: LlamaCppServer.isInstalled, Comment(rawValue: LlamaCppServer.missing)))
struct LlamaServerEndToEndTests {
    /// The chat's helpers (ask a question and wait for the answers).
    let chat = TUIEndToEndTests()

    /// A server on the tests' model (SmolLM2), its id the file's path (llama_cpp.server's default).
    func startServer(port: UInt16? = nil) throws -> LlamaCppServer {
        let model = TestModelFiles.smolLM2
        guard FileManager.default.fileExists(atPath: model) else {
            throw TUITestError("test model missing at \(model) (run sirocco pull smollm2:135m)")
        }
        return try LlamaCppServer(model: model, port: port)
    }

    /// The server's own greedy answer to `question`, whole: no repeat penalty (the server's default
    /// is 1.1, Sirocco's 1, off).
    func greedyAnswer(_ server: LlamaCppServer, to question: String, maxTokens: Int) throws -> String {
        try server.chatCompletion(["messages": [["role": "user", "content": question]], "temperature": 0, "repeat_penalty": 1.0,
                                   "max_tokens": maxTokens])
    }

    /// Pane `pane`'s non-empty lines after the last line with `question` (above the stats under it).
    func linesAfter(_ question: String, in screen: String, pane: Int = 0) -> [String] {
        let conversations = screen.split(separator: "\n").prefix { !$0.hasPrefix("├─ stats") }.joined(separator: "\n")
        let lines = StatsReader.conversation(conversations, pane: pane)
        guard let i = lines.lastIndex(where: { $0.contains("› " + question) }) else { return [] }
        return Array(lines[(i + 1)...]).filter { !$0.isEmpty }
    }

    /// A conversation file's messages as (role, content), and its fields.
    func savedConversation(_ path: String) throws -> (messages: [(role: String, content: String)], object: [String: Any]) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let messages = (object["messages"] as? [[String: Any]] ?? []).map { ($0["role"] as? String ?? "", $0["content"] as? String ?? "") }
        return (messages, object)
    }

    /// Saves the focused pane's conversation to a new file and reads it back.
    func save(_ t: TmuxSession, messages: Int) throws -> (messages: [(role: String, content: String)], object: [String: Any]) {
        let file = t.dataHome + "/saved-\(UUID().uuidString.prefix(8)).json"
        try t.submit("/save \(file)")
        try t.waitFor(text: "(\(messages) messages) to \(file)")
        return try savedConversation(file)
    }

    // MARK: sirocco run

    @Test func runStreamsTheServersGreedyAnswer() throws {
        let server = try startServer()
        defer { server.stop() }
        let question = "What is the capital of France?"
        let r = try shell([try siroccoBinary(), "run", "--model", server.baseURL, "--temp", "0", "-n", "40", "-p", question], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)\nserver:\n\(server.logTail())")
        let whole = try greedyAnswer(server, to: question, maxTokens: 40)
        #expect(!whole.isEmpty)
        #expect(r.stdout == whole + "\n", "streamed:\n\(r.stdout)\nwhole:\n\(whole)")

        // prompt: … | generation: 40 tokens, 123.4 tokens/s | first token: … | kv cache: on the server (127.0.0.1:P) | model: …
        let stats = try #require(r.stderr.split(separator: "\n").last { $0.contains("generation:") }.map(String.init), "\(r.stderr)")
        #expect(stats.contains("kv cache: on the server (127.0.0.1:\(server.port))"), "\(stats)")
        #expect(stats.contains("model: \(server.modelID)"), "\(stats)")
        #expect(!stats.contains("prompt: 0 tokens"), "\(stats)")  // llama_cpp.server sends no usage: unknown, not 0
        let speed = stats.firstMatch(of: #/generation: (\d+) tokens, ([0-9.]+) tokens/s/#)
        #expect(speed.flatMap { Int($0.1) } == 40 && speed.flatMap { Double($0.2) }.map { $0 > 0 } == true, "\(stats)")
    }

    // MARK: sirocco chat

    @Test func aRemotePaneStreamsBesideALocalOne() throws {
        let server = try startServer()
        defer { server.stop() }
        let t = try TmuxSession(["chat", "--model", server.baseURL, "--model", "smollm2:135m", "--max-tokens", "200"])
        defer { t.close() }
        let first = try t.waitFor(text: TUIEndToEndTests.ready)
        // the server's model by its file name, and where it runs
        let title = "1 · SmolLM2-135M-Instruct.Q4_1.gguf @ 127.0.0.1:\(server.port)"
        #expect(first.split(separator: "\n").contains { $0.hasPrefix("┌─ " + title + " ") }, "\(first)")
        #expect(first.contains("2 · SmolLM2-135M-Instruct.Q4_1 ─"))

        // greedy in both panes (settings follow the focus)
        try t.submit("/set temp 0")
        try t.press("Tab")
        try t.waitFor(text: "focus: pane 2")
        try t.submit("/set temp 0")
        try t.waitFor("temp 0 in both panes") { StatsReader.values("temp", in: $0) == ["0.00", "0.00"] }
        try t.press("Tab")
        try t.waitFor(text: "focus: pane 1")

        let question = "Tell me about the sea."
        try t.submit(question)
        // both answers on screen while one of them is still being written
        let streaming = try t.waitFor("both panes answering", timeout: 60, transient: true) { screen in
            screen.contains("answering…")
                && (0..<2).allSatisfy { linesAfter(question, in: screen, pane: $0).contains { $0.contains { $0.isLetter } } }
        }
        #expect(streaming.contains("▍"), "no streaming cursor:\n\(streaming)")
        let done = try t.waitFor("both answers finished", timeout: 120) { screen in
            screen.components(separatedBy: "idle (").count - 1 == 2 && !screen.contains("answering…")
        }
        #expect(StatsReader.values("KV cache", in: done) == ["remote"], "\(done)")
        let cells = StatsReader.kvCells(done)
        #expect(cells.count == 1 && cells[0] > 0, "local KV cells: \(cells)\n\(done)")
        let speeds = StatsReader.numbers("generation", in: done)
        #expect(speeds.count == 2 && speeds.allSatisfy { $0 > 0 }, "generation: \(speeds)\n\(done)")
        #expect(!done.contains("[sirocco exited"))

        // what the remote pane streamed is the server's greedy answer
        let saved = try save(t, messages: 2)
        #expect(saved.messages.map(\.content) == [question, try greedyAnswer(server, to: question, maxTokens: 200)])
    }

    @Test func aServerThatDiesMidChatIsOneLineAndTheChatGoesOn() throws {
        var server = try startServer()
        defer { server.stop() }
        let port = server.port
        let t = try TmuxSession(["chat", "--model", server.baseURL, "--max-tokens", "40"])
        defer { t.close() }
        try t.waitFor(text: TUIEndToEndTests.ready)
        try t.submit("/set temp 0")
        let first = "What is the capital of France?", second = "And of Italy?"
        let answered = try chat.ask(t, first)
        let firstAnswer = try #require(linesAfter(first, in: answered).first, "\(answered)")

        server.stop()
        try t.submit(second)
        let refused = "! cannot connect to 127.0.0.1:\(port): connection refused (is the server running?)"
        let failed = try t.waitFor(text: refused, timeout: 60)
        #expect(failed.split(separator: "\n").contains { $0.contains(refused) }, "not on one line:\n\(failed)")
        #expect(failed.contains("› " + first) && failed.contains(firstAnswer) && failed.contains("› " + second), "\(failed)")
        #expect(!failed.contains("[sirocco exited"))
        let kept = try save(t, messages: 2)
        #expect(kept.messages.map(\.role) == ["user", "assistant"] && kept.messages.first?.content == first, "\(kept.messages)")
        #expect(kept.object["remoteModel"] as? String == server.modelID && kept.object["model"] as? String == server.baseURL)

        // back on the same port: /retry answers the message that failed
        server = try startServer(port: port)
        try t.submit("/retry")
        let retried = try t.waitFor("the retried answer", timeout: 120) { screen in
            !screen.contains(refused) && screen.contains("idle (") && !screen.contains("answering…")
                && !linesAfter(second, in: screen).isEmpty
        }
        #expect(retried.contains("› " + first) && retried.contains(firstAnswer), "\(retried)")
        let after = try save(t, messages: 4)
        #expect(after.messages.map(\.role) == ["user", "assistant", "user", "assistant"], "\(after.messages)")
        #expect(after.messages.map(\.content).prefix(3) == [first, kept.messages[1].content, second])
        #expect(!after.messages[3].content.isEmpty)

        // and the next message too
        try chat.ask(t, "And of Spain?")
        #expect(try save(t, messages: 6).messages.count == 6)
    }

    @Test func resumeReopensTheRemotePane() throws {
        let server = try startServer()
        defer { server.stop() }
        let dataHome = NSTemporaryDirectory() + "sirocco-remote-resume-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dataHome, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dataHome) }
        let folder = dataHome + "/sirocco/conversations"
        let question = "My name is Zanzibar and I like kites."

        let first = try TmuxSession(["chat", "--model", server.baseURL, "--max-tokens", "40"], dataHome: dataHome)
        try first.waitFor(text: TUIEndToEndTests.ready)
        let answered = try chat.ask(first, question)
        let answer = try #require(linesAfter(question, in: answered).first, "\(answered)")
        try first.submit("/quit")
        try first.waitFor("exit", timeout: 20) { $0.contains("[sirocco exited 0]") }
        first.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(files.count == 1 && files[0].hasSuffix("-1.json"), "\(files)")  // no KV cache file for a server's pane
        let saved = try savedConversation(folder + "/" + files[0])
        #expect(saved.object["model"] as? String == server.baseURL && saved.object["remoteModel"] as? String == server.modelID)
        #expect(saved.messages.map(\.role) == ["user", "assistant"])

        let second = try TmuxSession(["chat", "--resume", "--max-tokens", "40"], dataHome: dataHome)
        defer { second.close() }
        let screen = try second.waitFor(text: "resumed")
        #expect(screen.contains("SmolLM2-135M-Instruct.Q4_1.gguf @ 127.0.0.1:\(server.port)"), "\(screen)")
        #expect(screen.contains("› " + question) && screen.contains(answer), "\(screen)")
        #expect(StatsReader.values("KV cache", in: screen) == ["remote"])
        try chat.ask(second, "What do I like?")
        try second.submit("/quit")
        try second.waitFor("exit", timeout: 20) { $0.contains("[sirocco exited 0]") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == files)
        #expect(try savedConversation(folder + "/" + files[0]).messages.count == 4)
    }
}
