// Routes: the HTTP face of the server — the key check, the table of endpoints (an unknown path is
// a 404, a known path with the wrong method a 405), and the handlers. Parsing, rendering and
// tokenizing run on a Dispatch queue, generation on the model's own thread: the event loop and
// the cooperative pool only wait. A client that goes away cancels its generation.

import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import SiroccoEngine
import Synchronization

/// The served models by id, each with its scheduler.
struct ModelRegistry: Sendable {
    struct Entry: Sendable {
        var served: ServedModel
        var scheduler: any GenerationScheduler
    }
    let entries: [Entry]

    var ids: [String] { entries.map(\.served.id) }

    /// The model a request names; with one model served, a request may leave `model` out.
    func pick(_ id: String?) throws(APIError) -> Entry {
        guard let id else {
            if entries.count == 1 { return entries[0] }
            throw .invalid("model", "'model' is required: this server serves \(ids.joined(separator: ", "))")
        }
        guard let entry = entries.first(where: { $0.served.id == id }) else { throw .modelNotFound(id, served: ids) }
        return entry
    }
}

/// Answers every request: checks the key, routes, and turns any failure into a JSON error.
struct APIResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let models: ModelRegistry
    let keyCheck: APIKeyCheck
    let options: ServerOptions

    /// The endpoints and the one method each accepts.
    enum Endpoint {
        case listModels, retrieveModel(String), chatCompletions, completions

        static func resolve(_ path: String) -> (Endpoint, HTTPRequest.Method)? {
            var path = path
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            switch path {
            case "/v1/models": return (.listModels, .get)
            case "/v1/chat/completions": return (.chatCompletions, .post)
            case "/v1/completions": return (.completions, .post)
            default:
                let prefix = "/v1/models/"
                guard path.hasPrefix(prefix) else { return nil }
                let id = String(path.dropFirst(prefix.count))
                return (.retrieveModel(id.removingPercentEncoding ?? id), .get)
            }
        }
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            try keyCheck.check(request.headers)
            let path = request.uri.path
            guard let (endpoint, method) = Endpoint.resolve(path) else { throw APIError.routeNotFound(request.method, path) }
            guard request.method == method else { throw APIError.methodNotAllowed(request.method, path, allowed: [method]) }
            switch endpoint {
            case .listModels: return JSONResponse.make(ModelListBody(data: models.entries.map { Self.listEntry($0.served) }))
            case let .retrieveModel(id): return JSONResponse.make(Self.listEntry(try models.pick(id).served))
            case .chatCompletions: return try await complete(request, format: .chat)
            case .completions: return try await complete(request, format: .text)
            }
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError.generationFailed("\(error)").response
        }
    }

    private static func listEntry(_ served: ServedModel) -> ModelListBody.Entry {
        ModelListBody.Entry(id: served.id, created: served.created)
    }

    /// `POST /v1/chat/completions` and `POST /v1/completions`. The body is read inside Hummingbird's
    /// inbound-close watch, so a client that hangs up while its whole answer is being generated
    /// (or waits in the queue) cancels it; a stream notices through its writes.
    private func complete(_ request: Request, format: AnswerFormat) async throws -> Response {
        let limit = options.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw APIError.bodyTooLarge(limit: limit) }
        let watch = DisconnectWatch()
        return try await request.body.consumeWithInboundCloseHandler({ body in
            let data = try await Self.read(body, limit: limit)
            let job = try await submit(data, format: format)
            if job.parameters.stream {
                watch.disarm()  // the watch ends with this closure; the stream's writes take over
                return Self.streamingResponse(job)
            }
            watch.watch(job.job)
            defer { job.job.cancel() }
            return try await Self.wholeResponse(job)
        }, onInboundClosed: { watch.clientLeft() })
    }

    /// A queued job and how to answer it.
    private struct Submitted: Sendable {
        var job: GenerationJob
        var parameters: GenerationParameters
        var header: CompletionHeader
        var format: AnswerFormat
    }

    /// A prompt ready for a model, and how to answer it.
    private struct Prepared: Sendable {
        var entry: ModelRegistry.Entry
        var prompt: [TokenID]
        var parameters: GenerationParameters
    }

    /// Parses, renders and tokenizes off the pool, then queues the job (503 when the queue is full).
    private func submit(_ body: Data, format: AnswerFormat) async throws -> Submitted {
        let models = self.models
        // a struct, not a tuple: a typed-throws closure returning a tuple crashes Swift 6.3.1's SILGen
        let prepared = try await offThePool { () throws(APIError) -> Prepared in
            switch format {
            case .chat:
                let p = try ChatCompletionParameters(json: body)
                let entry = try models.pick(p.generation.model)
                return Prepared(entry: entry, prompt: try entry.served.chatPrompt(p.messages), parameters: p.generation)
            case .text:
                let p = try TextCompletionParameters(json: body)
                let entry = try models.pick(p.generation.model)
                return Prepared(entry: entry, prompt: try entry.served.textPrompt(p.prompt), parameters: p.generation)
            }
        }
        let (entry, parameters) = (prepared.entry, prepared.parameters)
        let job = try entry.scheduler.submit(GenerationRequest(
            prompt: prepared.prompt, maxTokens: min(parameters.maxTokens ?? options.maxTokens, options.maxTokens),
            settings: parameters.settings, stopStrings: parameters.stop))
        return Submitted(job: job, parameters: parameters, header: .new(prefix: format.idPrefix, model: entry.served.id), format: format)
    }

    /// Waits for the whole answer.
    private static func wholeResponse(_ submitted: Submitted) async throws -> Response {
        let outcome = await Outcome.collect(submitted.job)
        guard let (stop, stats) = outcome.finished else {
            throw outcome.failure ?? APIError.generationFailed("the generation was cancelled")
        }
        var headers = outcome.timing?.headers ?? [:]
        headers[.connection] = "close"
        let usage = UsageBody(submitted.job.request, stats)
        return submitted.format.whole(submitted.header, text: outcome.text, reason: finishReason(stop), usage: usage, headers: headers)
    }

    /// The answer as server-sent events; a comment every second while the job waits, so a client
    /// that left is noticed (its writes fail) and its place in the queue freed.
    private static func streamingResponse(_ submitted: Submitted) -> Response {
        let job = submitted.job
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "close"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let heartbeat = Task {
                while !job.hasStarted {
                    try await Task.sleep(for: .seconds(1))
                    job.yield(.waiting)
                }
            }
            defer {
                heartbeat.cancel()
                job.cancel()
            }
            try await stream(submitted, to: &writer)
            try await writer.finish(nil)
        })
    }

    /// Writes a job's events as server-sent events until it finishes.
    private static func stream(_ submitted: Submitted, to writer: inout any ResponseBodyWriter) async throws {
        let (format, header) = (submitted.format, submitted.header)
        for await event in submitted.job.events {
            switch event {
            case .waiting:
                try await writer.write(ByteBuffer(string: ": waiting\n\n"))
            case let .started(timing):
                try await writer.write(timing.comment)
                if let start = format.startEvent(header) { try await writer.write(start) }
            case let .text(piece):
                try await writer.write(format.textEvent(header, piece))
            case let .finished(stop, stats):
                try await writer.write(format.finishEvent(header, finishReason(stop)))
                if submitted.parameters.includeUsage {
                    let usage = UsageBody(submitted.job.request, stats)
                    try await writer.write(format.usageEvent(header, usage))
                }
                try await writer.write(JSONResponse.done)
            case let .failed(error):
                try await writer.write(JSONResponse.event(error.body))
                try await writer.write(JSONResponse.done)
            }
        }
    }

    /// The whole body, read to its end even past `limit` (the inbound-close watch needs every
    /// part consumed), then 413 if it was larger.
    private static func read(_ body: RequestBody, limit: Int) async throws -> Data {
        var data = Data()
        var tooLarge = false
        for try await buffer in body where !tooLarge {
            if data.count + buffer.readableBytes > limit {
                tooLarge = true
                data = Data()
            } else {
                data.append(contentsOf: buffer.readableBytesView)
            }
        }
        if tooLarge { throw APIError.bodyTooLarge(limit: limit) }
        return data
    }
}

/// Cancels a whole answer's job when its client hangs up.
private final class DisconnectWatch: Sendable {
    private let state = Mutex<(job: GenerationJob?, left: Bool, armed: Bool)>((nil, false, true))

    func watch(_ job: GenerationJob) {
        let cancelNow = state.withLock { s in
            s.job = job
            return s.left && s.armed
        }
        if cancelNow { job.cancel() }
    }

    func clientLeft() {
        let job = state.withLock { s in
            s.left = true
            return s.armed ? s.job : nil
        }
        job?.cancel()
    }

    func disarm() { state.withLock { $0.armed = false } }
}

/// A whole answer gathered from a job's events.
private struct Outcome: Sendable {
    var text = ""
    var timing: QueueTiming?
    var finished: (StopReason, GenerationStats)?
    var failure: APIError?

    static func collect(_ job: GenerationJob) async -> Outcome {
        var outcome = Outcome()
        for await event in job.events {
            switch event {
            case .waiting: break
            case let .started(timing): outcome.timing = timing
            case let .text(piece): outcome.text += piece
            case let .finished(stop, stats): outcome.finished = (stop, stats)
            case let .failed(error): outcome.failure = error
            }
        }
        return outcome
    }
}

/// Runs `work` on a Dispatch queue: CPU work (JSON, templates, tokenizing up to a 4 MiB body)
/// stays off the event loop and the cooperative pool.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
