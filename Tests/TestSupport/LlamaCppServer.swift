// LlamaCppServer: llama.cpp's own OpenAI-compatible server — llama-cpp-python's `llama_cpp.server`
// (PyPI: llama-cpp-python[server]) — on a free loopback port, for the tests that prove the remote
// backends against a real server. It runs in a process group of its own, killed with SIGKILL by
// `stop` or when the value is dropped, so a failing test leaves no server behind.

import Foundation

public final class LlamaCppServer: @unchecked Sendable {
    /// Whether `python3 -c "import llama_cpp.server"` works (asked once).
    public static let isInstalled: Bool = {
        guard let pid = try? ChildProcess.spawn(["python3", "-c", "import llama_cpp.server"], stdout: "/dev/null") else {
            return false
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status == 0
    }()

    /// Why the tests that need the server are skipped without it.
    public static let missing = "llama_cpp.server does not import: pip install 'llama-cpp-python[server]' (scripts/test.sh does)"

    public let port: UInt16
    /// The model file the server loaded.
    public let modelFile: String
    /// The id `/v1/models` lists: the alias when one was given, else the model file's path as given.
    public let modelID: String
    /// Where its output (stdout and stderr) goes.
    public let logFile: String
    private var pid: pid_t = 0
    private let lock = NSLock()

    /// Starts `python3 -m llama_cpp.server` on `model` (one thread, 2048 tokens of context) at
    /// `port` (nil: a free one) and waits until `GET /v1/models` answers; after `timeout` seconds,
    /// or if the server exits first, throws with the end of its output.
    public init(model: String, port: UInt16? = nil, alias: String? = nil, timeout: Double = 60) throws {
        self.port = try port ?? LlamaCppServer.freePort()
        modelFile = model
        modelID = alias ?? model
        logFile = NSTemporaryDirectory() + "sirocco-llama-server-\(UUID().uuidString).log"
        var arguments = ["python3", "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1", "--port", "\(self.port)",
                         "--n_ctx", "2048", "--n_threads", "1"]
        if let alias { arguments += ["--model_alias", alias] }
        let environment = ProcessInfo.processInfo.environment.merging(["PYTHONUNBUFFERED": "1"]) { $1 }
        pid = try ChildProcess.spawn(arguments, environment: environment, stdout: logFile, newGroup: true)

        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let (status, _) = try? request("GET", "/v1/models", timeout: 2), status == 200 { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                throw LlamaCppServerError("llama_cpp.server exited (status \(status)) before answering:\n\(logTail())")
            }
            if Date() > deadline {
                stop()
                throw LlamaCppServerError("llama_cpp.server did not answer GET /v1/models within \(Int(timeout)) s:\n\(logTail())")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: logFile)
    }

    /// The API base, as `sirocco --model` takes it.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Kills the server and everything it started (its process group), as a crash would.
    public func stop() {
        lock.lock()
        let pid = self.pid
        self.pid = 0
        lock.unlock()
        guard pid > 0 else { return }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// The last `lines` lines of the server's output.
    public func logTail(_ lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// The answer's text to a whole (not streamed) chat completion of `body` (the model is added).
    public func chatCompletion(_ body: [String: Any], timeout: Double = 120) throws -> String {
        var body = body
        body["model"] = modelID
        body["stream"] = false
        let (status, data) = try request("POST", "/v1/chat/completions", body: JSONSerialization.data(withJSONObject: body),
                                         timeout: timeout)
        guard status == 200,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let choices = object["choices"] as? [[String: Any]],
              let message = choices.first?["message"] as? [String: Any],
              let content = message["content"] as? String else {
            throw LlamaCppServerError("POST /v1/chat/completions: \(status) \(String(decoding: data.prefix(500), as: UTF8.self))")
        }
        return content
    }

    // MARK: HTTP

    /// One HTTP/1.1 request on a connection of its own, closed after the response; its status and body.
    public func request(_ method: String, _ path: String, body: Data? = nil, timeout: Double) throws -> (status: Int, body: Data) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LlamaCppServerError("socket failed") }
        defer { close(fd) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = LlamaCppServer.loopback(port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw LlamaCppServerError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + Array(body ?? Data())
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw LlamaCppServerError("sending to 127.0.0.1:\(port) failed: errno \(errno)") }
            offset += n
        }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { break }
            guard n > 0 else { throw LlamaCppServerError("reading from 127.0.0.1:\(port) failed: errno \(errno)") }
            response += buffer[..<n]
        }
        guard let end = response.firstRange(of: [13, 10, 13, 10]) else { throw LlamaCppServerError("no HTTP response head") }
        let statusLine = String(decoding: response[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, Data(response[end.upperBound...]))  // (uvicorn sends whole bodies with a Content-Length)
    }

    // MARK: ports

    /// A port nothing listens on now (the kernel's pick for port 0).
    public static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LlamaCppServerError("socket failed") }
        defer { close(fd) }
        var address = loopback(0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw LlamaCppServerError("no free port") }
        return UInt16(bigEndian: address.sin_port)
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }
}

public struct LlamaCppServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
