// InferenceServer: the served models behind an OpenAI-compatible HTTP API (Hummingbird over
// SwiftNIO). Listens, answers until SIGINT/SIGTERM or its task is cancelled, then cancels every
// generation so in-flight requests end at once. Logs nothing: the command prints what the user
// needs, and the API key is never written anywhere.

import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// How the server listens and what it allows one request.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (the one bound is passed to `run`'s `onRunning`).
    public var port = 8080
    /// The key every request must send as `Authorization: Bearer KEY`; nil: none needed.
    public var apiKey: String?
    /// The most tokens one answer may have (a request asking for more gets this many).
    public var maxTokens = 2048
    /// The most requests waiting per model; one more is refused with 503 and Retry-After.
    public var maxQueue = 16
    /// The largest request body accepted (413 beyond).
    public var maxBodyBytes = 4 << 20

    public init() {}
}

/// Why the server cannot start.
public enum ServeError: Error, CustomStringConvertible, Equatable {
    case noModels
    case duplicateModelID(String)
    case invalidOption(String)
    case cannotListen(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .noModels: return "no model to serve"
        case let .duplicateModelID(id): return "two models would be served as '\(id)'; give each a different file or name"
        case let .invalidOption(message): return message
        case let .cannotListen(host, port, reason): return "cannot listen on \(host):\(port): \(reason)"
        }
    }
}

/// The HTTP server of `sirocco serve`.
public final class InferenceServer: Sendable {
    public let options: ServerOptions
    public let models: [ServedModel]
    let registry: ModelRegistry

    /// Starts one generation thread per slot of each model (idle until requests come).
    public init(models: [ServedModel], options: ServerOptions) throws(ServeError) {
        guard !models.isEmpty else { throw .noModels }
        var seen = Set<String>()
        for m in models where !seen.insert(m.id).inserted { throw .duplicateModelID(m.id) }
        guard (0...65535).contains(options.port) else { throw .invalidOption("the port must be between 0 and 65535, got \(options.port)") }
        guard options.maxTokens >= 1 else { throw .invalidOption("the answer limit must be at least 1 token, got \(options.maxTokens)") }
        guard options.maxQueue >= 0 else { throw .invalidOption("the queue limit must be at least 0, got \(options.maxQueue)") }
        self.options = options
        self.models = models
        registry = ModelRegistry(entries: models.map {
            .init(served: $0, scheduler: FIFOScheduler(modelID: $0.id, slots: $0.slots, maxQueue: options.maxQueue))
        })
    }

    /// Serves until SIGINT or SIGTERM (with `handlesSignals`) or until the calling task is
    /// cancelled; `onRunning` gets the port listened on once connections are accepted. Every
    /// generation is cancelled on the way out, and the model threads end.
    public func run(handlesSignals: Bool = true, onRunning: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let logger = Logger(label: "sirocco-serve") { _ in SwiftLogNoOpLogHandler() }
        let started = ManagedFlag()
        let port = options.port
        let app = Application(
            responder: APIResponder(models: registry, keyCheck: APIKeyCheck(key: options.apiKey), options: options),
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: port)),
            onServerRunning: { channel in
                started.set()
                onRunning(channel.localAddress?.port ?? port)
            },
            logger: logger)
        // the last service is shut down first: generations are cancelled before the server waits
        // for its open requests to end
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: GenerationCanceller(registry: registry))],
            gracefulShutdownSignals: handlesSignals ? [.sigterm, .sigint] : [],
            logger: logger))
        defer { for entry in registry.entries { entry.scheduler.shutdown() } }
        do {
            try await group.run()
        } catch where !started.isSet {
            throw ServeError.cannotListen(host: options.host, port: port, reason: Self.reason(error))
        }
    }

    /// Whether `host` is a loopback address: `localhost`, 127.0.0.0/8 or ::1.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } == [UInt8](repeating: 0, count: 15) + [1] }
        return false
    }

    /// A socket error's message without NIO's call-site prefix ("bind(descriptor:ptr:bytes:): ").
    private static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if error is SocketAddressError.UnknownHost { return "no such host" }
        return "\(error)"
    }
}

/// Cancels every generation when shutdown begins, so streams end instead of running to max_tokens.
private struct GenerationCanceller: Service {
    let registry: ModelRegistry

    func run() async throws {
        try? await gracefulShutdown()
        for entry in registry.entries { entry.scheduler.shutdown() }
    }
}

/// A flag set once, read from any thread.
private final class ManagedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
