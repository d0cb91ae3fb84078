// One model, many clients: a client that goes away mid-stream frees the model, a full queue is
// refused with 503 and Retry-After, and concurrent clients are served strictly in arrival order.
// Nothing here times the engine: order and outcomes only.

import Foundation
import SiroccoEngine
@testable import SiroccoServer
import Testing

@Suite(.serialized) struct ModelSchedulerTests {
    /// A request that would run until the context is full (SmolLM2 counts on greedily), cancelled
    /// in the tests long before.
    static let endless: [String: Any] = [
        "prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", "max_tokens": 100_000, "temperature": 0, "stream": true,
    ]

    /// Waits (polling) until `condition` holds; fails the test after a generous minute.
    func eventually(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<6000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("never happened: \(what)")
    }

    @Test func disconnectingMidStreamCancelsItsGeneration() async throws {
        var options = ServerOptions()
        options.maxTokens = 100_000
        try await withServer(options, contextLength: 4096) { server in
            let stream = try await server.openStream("/v1/completions", json: Self.endless)
            #expect(stream.status == 200)
            // a few tokens arrive, then the client hangs up
            let received = try await blocking {
                var texts = 0
                while texts < 3, let data = try stream.next() { if data.contains("\"text\"") { texts += 1 } }
                stream.connection.close()
                return texts
            }
            #expect(received == 3)
            // the next request runs: the first was cancelled, not run to its end
            let next = try await server.request("POST", "/v1/completions", json: ["prompt": "Hello", "max_tokens": 4])
            #expect(next.status == 200)
            #expect(next.headers["x-sirocco-start"] == "2")
            let first = try #require(server.scheduler.recentlyFinished.first)
            #expect(first.arrival == 1)
            #expect(first.stop == .cancelled)
            #expect(first.generatedTokens < 4000)
        }
    }

    /// A server with a queue of one place whose model is busy with an endless stream.
    func withBusyModel(_ body: (RunningServer, EventStream) async throws -> Void) async throws {
        var options = ServerOptions()
        options.maxTokens = 100_000
        options.maxQueue = 1
        try await withServer(options, contextLength: 4096) { server in
            let running = try await server.openStream("/v1/completions", json: Self.endless)
            _ = try await blocking { try running.next() }
            try await body(server, running)
        }
    }

    /// A whole answer's client is noticed at once (the connection's input ends), a stream's by the
    /// comment written every second while it waits.
    @Test(arguments: [false, true]) func clientLeavingTheQueueFreesItsPlace(stream: Bool) async throws {
        try await withBusyModel { server, running in
            var body = Self.endless
            body["stream"] = stream
            let waiting = try HTTPConnection(port: server.port)
            waiting.send(method: "POST", path: "/v1/completions", headers: ["Content-Type": "application/json"],
                         body: try JSONSerialization.data(withJSONObject: body))
            try await eventually("the second request waits") { server.scheduler.waitingCount == 1 }
            waiting.close()
            try await eventually("the queue is empty again") { server.scheduler.waitingCount == 0 }
            running.connection.close()
            let next = try await server.request("POST", "/v1/completions", json: ["prompt": "Hello", "max_tokens": 2])
            #expect(next.status == 200)
        }
    }

    @Test func fullQueueIs503WithRetryAfter() async throws {
        try await withBusyModel { server, running in
            // one waits (a whole answer, in the background) ...
            let port = server.port
            let waiting = Task { try await request(port, "POST", "/v1/completions", json: ["prompt": "Hello", "max_tokens": 2]) }
            try await eventually("the second request waits") { server.scheduler.waitingCount == 1 }
            // ... and one more is refused
            let refused = try await server.request("POST", "/v1/chat/completions",
                                                   json: ["messages": [["role": "user", "content": "Hi"]]])
            #expect(refused.status == 503)
            #expect(try refused.errorCode().code == "queue_full")
            #expect(Int(refused.headers["retry-after"] ?? "") ?? 0 >= 1)
            // the model frees up and the waiting one is answered
            running.connection.close()
            let answered = try await waiting.value
            #expect(answered.status == 200)
            #expect(answered.headers["x-sirocco-start"] == "2")
        }
    }

    /// 4 clients × 5 requests each, every client sending its next request when its last one is
    /// answered: all succeed and start in exactly the order they arrived.
    @Test func concurrentClientsAreServedFIFO() async throws {
        let clients = 4, perClient = 5
        struct Record: Sendable { var client: Int; var status: Int; var arrival: Int; var start: Int; var waitMs: Int }
        try await withServer { server in
            let records = try await withThrowingTaskGroup(of: [Record].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var mine: [Record] = []
                        for i in 0..<perClient {
                            let reply = try await server.request("POST", "/v1/chat/completions", json: [
                                "messages": [["role": "user", "content": "Say a word about the number \(client * 10 + i)."]],
                                "max_tokens": 6, "temperature": 0,
                            ])
                            mine.append(Record(client: client, status: reply.status,
                                               arrival: Int(reply.headers["x-sirocco-arrival"] ?? "") ?? -1,
                                               start: Int(reply.headers["x-sirocco-start"] ?? "") ?? -1,
                                               waitMs: Int(reply.headers["x-sirocco-queue-wait-ms"] ?? "") ?? -1))
                        }
                        return mine
                    }
                }
                var all: [Record] = []
                for try await part in group { all += part }
                return all
            }
            #expect(records.count == clients * perClient)
            #expect(records.allSatisfy { $0.status == 200 })
            // FIFO: the n-th to arrive is the n-th to start
            #expect(records.allSatisfy { $0.arrival == $0.start }, "\(records.map { ($0.arrival, $0.start) })")
            #expect(Set(records.map(\.start)) == Set(1...(clients * perClient)))
            // no starvation follows: each client has one request out at a time, so a request that
            // starts in its arrival order waits for at most clients - 1 others. (How a client's turns
            // interleave with the others' is the clients' timing, not the server's: on a loaded
            // machine a client may send its next request after others have sent two.)
            // a request waits for the requests ahead of it only: never longer than the one that
            // arrived right after it (which waited for it too), give or take the clock's jitter
            let byArrival = records.sorted { $0.arrival < $1.arrival }
            #expect(byArrival.allSatisfy { $0.waitMs >= 0 })
            print("fairness: waits (ms) in arrival order: \(byArrival.map(\.waitMs))")
        }
    }
}
