// The tests' server: SmolLM2 served in-process on a free port of 127.0.0.1, stopped with the test.

import Foundation
import SiroccoEngine
@testable import SiroccoServer
import TestSupport

enum TestModel {
    /// SmolLM2 (`sirocco pull smollm2:135m`).
    static var path: String { TestModelFiles.smolLM2 }

    nonisolated(unsafe) private static var cached: Model?
    private static let lock = NSLock()

    /// Loaded once and shared by every test.
    static func load() throws -> Model {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestHTTPError("model not found at \(path): run sirocco pull smollm2:135m")
        }
        let model = try Model(path: path)
        cached = model
        return model
    }
}

/// A server running in this process until `stop()`.
final class RunningServer: Sendable {
    let server: InferenceServer
    let port: Int
    private let task: Task<Void, any Error>

    private init(server: InferenceServer, port: Int, task: Task<Void, any Error>) {
        self.server = server
        self.port = port
        self.task = task
    }

    /// Serves SmolLM2 as each of `ids` (`parallel` contexts each) with `options` on a free port.
    static func start(_ options: ServerOptions = ServerOptions(), ids: [String] = ["smollm2"],
                      contextLength: Int = 1024, parallel: Int = 1) async throws -> RunningServer {
        let model = try TestModel.load()
        var options = options
        options.host = "127.0.0.1"
        options.port = 0
        let served = try ids.map {
            try ServedModel(id: $0, model: model, contextLength: contextLength, threads: parallel > 1 ? 2 : 1, parallel: parallel)
        }
        let server = try InferenceServer(models: served, options: options)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await server.run(handlesSignals: false) { continuation.yield($0) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await task.value
            throw TestHTTPError("the server stopped before listening")
        }
        return RunningServer(server: server, port: port, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// The first model's scheduler (to watch its queue).
    var scheduler: FIFOScheduler { server.registry.entries[0].scheduler as! FIFOScheduler }

    func request(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil,
                 headers: [String: String] = [:]) async throws -> HTTPReply {
        try await SiroccoServerTests.request(port, method, path, json: json, body: body, headers: headers)
    }

    /// Opens a streaming request and reads its head.
    func openStream(_ path: String, json: Any, headers: [String: String] = [:]) async throws -> EventStream {
        let data = try JSONSerialization.data(withJSONObject: json)
        let port = self.port
        return try await blocking {
            let connection = try HTTPConnection(port: port)
            connection.send(method: "POST", path: path, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a }, body: data)
            return try EventStream(connection: connection)
        }
    }
}

/// Runs `body` with a server, stopping it afterwards whatever happens.
func withServer<T>(_ options: ServerOptions = ServerOptions(), ids: [String] = ["smollm2"], contextLength: Int = 1024,
                   parallel: Int = 1, _ body: (RunningServer) async throws -> T) async throws -> T {
    let server = try await RunningServer.start(options, ids: ids, contextLength: contextLength, parallel: parallel)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
