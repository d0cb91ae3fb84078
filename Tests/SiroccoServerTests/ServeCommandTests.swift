// `sirocco serve` as a user runs it: the startup line, a clean stop on SIGTERM and SIGINT, one-line
// errors for what a user gets wrong, and the official `openai` Python client against it
// (scripts/check_serve_openai.py, when `import openai` works).

import Foundation
import Testing

/// The built `sirocco` binary, next to the test bundle.
var siroccoBinary: String {
    get throws {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL.deletingLastPathComponent(), Bundle.main.bundleURL]
        for dir in candidates {
            let path = dir.appendingPathComponent("sirocco").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestHTTPError("no sirocco binary next to the tests (build the package before testing: swift build -c release --build-tests)")
    }
}

/// A `sirocco serve` process, stopped when dropped; stderr is collected.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    private let errPipe = Pipe()
    private let lock = NSLock()
    private var collected = Data()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: try siroccoBinary)
        process.arguments = ["serve"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["SIROCCO_MODEL"] = TestModel.path
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardError = errPipe
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        try process.run()
    }

    /// A test that failed half-way leaves no server behind.
    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// The port of the startup line, once printed (nil if the process ended first).
    func waitForPort() async throws -> Int? {
        for _ in 0..<3000 {
            // sirocco serve: http://127.0.0.1:PORT/v1 (models: …)
            if let line = stderr.split(separator: "\n").first(where: { $0.hasPrefix("sirocco serve: http://") }),
               let url = line.split(separator: " ").dropFirst(2).first, let port = URL(string: String(url))?.port {
                return port
            }
            if !process.isRunning { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Waits for the process to end; its status.
    func wait() async throws -> Int32 {
        for _ in 0..<6000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite(.serialized) struct ServeCommandTests {
    @Test(arguments: [SIGTERM, SIGINT])
    func startsWithOneLineAndStopsCleanly(signal: Int32) async throws {
        let serve = try ServeProcess(["--port", "0", "--ctx-size", "512", "--threads", "1"])
        let port = try #require(try await serve.waitForPort(), "\(serve.stderr)")
        let lines = serve.stderr.split(separator: "\n")
        #expect(lines == ["sirocco serve: http://127.0.0.1:\(port)/v1 (models: SmolLM2-135M-Instruct.Q4_1.gguf)"])
        let models = try await request(port, "GET", "/v1/models")
        #expect(models.status == 200)
        // a stream is running when the signal comes: it ends, and so does the server
        let data = try JSONSerialization.data(withJSONObject: ["prompt": "1, 2, 3,", "max_tokens": 2000, "stream": true])
        let stream = try await blocking {
            let connection = try HTTPConnection(port: port)
            connection.send(method: "POST", path: "/v1/completions", headers: ["Content-Type": "application/json"], body: data)
            let stream = try EventStream(connection: connection)
            _ = try stream.next()
            return stream
        }
        kill(serve.process.processIdentifier, signal)
        _ = try await blocking { try stream.rest() }
        #expect(try await serve.wait() == 0)
        #expect(!serve.stderr.contains("Fatal error"))
    }

    @Test(arguments: [
        (["--host", "0.0.0.0", "--port", "0"], [String: String](), "refusing to serve 0.0.0.0 without an API key: export SIROCCO_API_KEY"),
        (["--port", "0", "--api-key-env", "SIROCCO_TEST_NO_SUCH_VAR"], [:], "SIROCCO_TEST_NO_SUCH_VAR named by --api-key-env is not set"),
        (["--port", "0", "--model", "/nonexistent/model.gguf"], [:], "No such file"),
        (["--port", "0", "--model", "no-such-model:7b"], [:], "no-such-model:7b"),
        (["--port", "70000"], [:], "--port must be between 0 and 65535"),
        (["--port", "0", "--parallel", "0"], [:], "--parallel must be between 1 and 64, got 0"),
        (["--port", "0", "--host", "not a host!", "--no-api-key"], [:], "cannot listen on not a host!:0: no such host"),
        (["--port", "0", "--model", "x", "--api-key-env", "A", "--no-api-key"], [:], "contradict"),
    ])
    func userMistakesAreOneLine(arguments: [String], environment: [String: String], message: String) async throws {
        let serve = try ServeProcess(arguments, environment: environment)
        let status = try await serve.wait()
        #expect(status == 1)
        let lines = serve.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(serve.stderr)")
        #expect(lines.first?.hasPrefix("sirocco: error: ") == true && lines.first?.contains(message) == true, "\(serve.stderr)")
    }

    @Test func portInUseIsOneLine() async throws {
        let first = try ServeProcess(["--port", "0", "--ctx-size", "256", "--threads", "1"])
        let port = try #require(try await first.waitForPort())
        let second = try ServeProcess(["--port", "\(port)", "--ctx-size", "256", "--threads", "1"])
        #expect(try await second.wait() == 1)
        #expect(second.stderr == "sirocco: error: cannot listen on 127.0.0.1:\(port): Address already in use\n")
        kill(first.process.processIdentifier, SIGTERM)
        #expect(try await first.wait() == 0)
    }

    @Test func networkAddressWithAKeyServesAndChecksIt() async throws {
        let serve = try ServeProcess(["--host", "0.0.0.0", "--port", "0", "--api-key-env", "SIROCCO_TEST_KEY", "--ctx-size", "256"],
                                     environment: ["SIROCCO_TEST_KEY": "k-\(UInt32.random(in: 0...UInt32.max))"])
        let port = try #require(try await serve.waitForPort(), "\(serve.stderr)")
        let refused = try await request(port, "GET", "/v1/models")
        #expect(refused.status == 401)
        kill(serve.process.processIdentifier, SIGTERM)
        #expect(try await serve.wait() == 0)
        #expect(!serve.stderr.contains("k-"))
    }

    /// The official `openai` client: chat and completions, streamed and whole, the model list, a
    /// 404 as openai.NotFoundError, and 4 threads × 20 requests with no error.
    @Test(.enabled(if: pythonHasOpenAI())) func officialOpenAIClient() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/check_serve_openai.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--sirocco", try siroccoBinary, "--model", TestModel.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(output)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("errors: 0"))
    }
}

func pythonHasOpenAI() -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import openai"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}
