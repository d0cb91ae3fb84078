// `sirocco serve`: the engine behind an OpenAI-compatible HTTP API. Options are checked, the models
// loaded and the port bound before the one startup line; a user's mistake is one line and exit 1.

import ArgumentParser
import Foundation
import SiroccoEngine
import SiroccoModels
import SiroccoServer

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve models over an OpenAI-compatible HTTP API (/v1/models, /v1/chat/completions, /v1/completions).",
        discussion: """
            Each model answers one request at a time, in arrival order; a request's `model` picks among \
            them by id (the catalog name, or the file name of a path). Ctrl-C or SIGTERM stops the server.
            """)

    @Option(help: "The address to listen on; a non-loopback address needs --api-key-env (or --no-api-key).")
    var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "The port to listen on (0: any free port, printed at startup).")
    var port = 8080
    @Option(name: .shortAndLong, help: "A catalog name (pulled on first use) or a GGUF file; repeat to serve several models (default: $SIROCCO_MODEL, else \(ModelCatalog.defaultChatModel)).")
    var model: [String] = []
    @Option(help: "The name of an environment variable holding the API key; requests must then send Authorization: Bearer KEY.")
    var apiKeyEnv: String?
    @Flag(help: "Serve a non-loopback address without an API key (anyone who can reach it can use it).")
    var noApiKey = false
    @Option(name: [.customShort("c"), .customLong("ctx-size")], parsing: .unconditional, help: "Context length in tokens per model (prompt and answer together).")
    var ctxSize = 4096
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Worker threads per model (default: cores / models, at least 1).")
    var threads: Int?
    @Option(help: cacheTypeHelp)
    var cacheType: KVCacheType = .f16
    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: "Most tokens in one answer; a request asking for more gets this many.")
    var maxTokens = 2048
    @Option(parsing: .unconditional, help: "Most requests waiting per model; more are refused with 503 and Retry-After.")
    var maxQueue = 16
    @Option(parsing: .unconditional,
            help: "Requests per model answered at once, decoded together (one pass over the weights a step); each has its own --ctx-size cache, which takes memory as it fills.")
    var parallel = 4

    /// Value checks, worded as `run`'s.
    func checkValues() throws {
        guard (0...65535).contains(port) else { throw CLIError("--port must be between 0 and 65535, got \(port)") }
        guard (16...1_048_576).contains(ctxSize) else { throw CLIError("--ctx-size must be between 16 and 1048576, got \(ctxSize)") }
        if let threads, !(1...512).contains(threads) { throw CLIError("--threads must be between 1 and 512, got \(threads)") }
        guard (1...1_000_000).contains(maxTokens) else { throw CLIError("--max-tokens must be between 1 and 1000000, got \(maxTokens)") }
        guard (0...100_000).contains(maxQueue) else { throw CLIError("--max-queue must be between 0 and 100000, got \(maxQueue)") }
        guard (1...64).contains(parallel) else { throw CLIError("--parallel must be between 1 and 64, got \(parallel)") }
        if apiKeyEnv != nil && noApiKey { throw CLIError("--api-key-env and --no-api-key contradict each other; give one") }
    }

    /// The key named by --api-key-env, or nil; refuses a network address without one.
    func apiKey() throws -> String? {
        if let name = apiKeyEnv {
            guard let key = ProcessInfo.processInfo.environment[name], !key.isEmpty else {
                throw CLIError("the environment variable \(name) named by --api-key-env is not set or empty: export \(name)=YOUR-KEY first")
            }
            return key
        }
        if !InferenceServer.isLoopback(host) && !noApiKey {
            throw CLIError("refusing to serve \(host) without an API key: export SIROCCO_API_KEY=YOUR-KEY and add --api-key-env SIROCCO_API_KEY (or pass --no-api-key)")
        }
        return nil
    }

    /// A model's id: the catalog name asked for, else the file name of the path.
    static func modelID(for reference: String) -> String {
        ModelCatalog.entry(named: reference) != nil ? reference : (reference as NSString).lastPathComponent
    }

    func run() throws {
        try reportingErrors {
            try checkValues()
            var options = ServerOptions()
            options.host = host
            options.port = port
            options.apiKey = try apiKey()
            options.maxTokens = maxTokens
            options.maxQueue = maxQueue

            let references = model.isEmpty ? [ModelReference.requested(nil)] : model
            let perModelThreads = threads ?? max(1, defaultThreadCount() / references.count)
            let served = try references.map { reference in
                let path = try ModelReference.path(for: reference, pull: true)
                do {
                    return try ServedModel(id: Self.modelID(for: reference), model: try Model(path: path),
                                           contextLength: ctxSize, threads: perModelThreads, cacheType: cacheType,
                                           parallel: parallel)
                } catch {
                    throw CLIError("\(error)")
                }
            }
            let server: InferenceServer
            do { server = try InferenceServer(models: served, options: options) } catch { throw CLIError("\(error)") }
            try Self.block {
                try await server.run { port in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    let line = "sirocco serve: http://\(shown):\(port)/v1 (models: \(served.map(\.id).joined(separator: ", ")))\n"
                    FileHandle.standardError.write(Data(line.utf8))
                }
            }
        }
    }

    /// Runs `body` on the cooperative pool and waits for it on this thread.
    private static func block(_ body: @escaping @Sendable () async throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = LockedError()
        Task {
            do { try await body() } catch { failure.set(error) }
            done.signal()
        }
        done.wait()
        if let error = failure.error {
            if let serve = error as? ServeError { throw CLIError(serve.description) }
            throw error
        }
    }
}

/// The error a background task ended with.
private final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: any Error) {
        lock.lock()
        stored = error
        lock.unlock()
    }
    var error: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
