// Drives the real `sirocco` binary in a detached tmux server (one per test) and reads its screen:
// the helpers the end-to-end TUI tests share. Every wait polls with a deadline; nothing hangs.

import Foundation
import Testing
import TestSupport

/// The built `sirocco` next to the test bundle (.build/<config>/ or another --scratch-path).
func siroccoBinary() throws -> String {
    var candidates: [URL] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    if let arg0 = CommandLine.arguments.first {
        candidates.append(URL(fileURLWithPath: arg0).deletingLastPathComponent())
    }
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    candidates.append(Bundle.main.bundleURL)
    for dir in candidates {
        var d = dir
        // the xctest bundle may be a directory: look a few levels up
        for _ in 0..<3 {
            let path = d.appendingPathComponent("sirocco").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
            d.deleteLastPathComponent()
        }
    }
    throw TUITestError("sirocco binary not found next to the tests (build first: swift build -c release)")
}

/// The default model the tests chat with.
var defaultModelPath: String {
    let env = ProcessInfo.processInfo.environment
    if let p = env["SIROCCO_MODEL"], !p.isEmpty { return p }
    let dir = env["SIROCCO_MODELS"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache/sirocco/models"
    return dir + "/SmolLM2-135M-Instruct.Q4_1.gguf"
}

struct TUITestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs a command (found on PATH) and returns its exit status and output; kills it after `timeout`.
/// Spawned by TestSupport's `ChildProcess`: no signal blocked, output to files, not pipes.
@discardableResult
func shell(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 20) throws -> (status: Int32, stdout: String, stderr: String) {
    let base = NSTemporaryDirectory() + "sirocco-shell-\(UUID().uuidString)"
    defer {
        try? FileManager.default.removeItem(atPath: base + ".out")
        try? FileManager.default.removeItem(atPath: base + ".err")
    }
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let pid = try ChildProcess.spawn(arguments, environment: env, stdout: base + ".out", stderr: base + ".err")
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            throw TUITestError("\(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        usleep(5_000)
    }
    let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let o = FileManager.default.contents(atPath: base + ".out") ?? Data()
    let e = FileManager.default.contents(atPath: base + ".err") ?? Data()
    return (exitStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// A tmux server of its own running `sirocco` in one window.
final class TmuxSession {
    let server: String
    /// A fresh directory for conversations (XDG_DATA_HOME) unless one is given.
    let dataHome: String
    private let ownsDataHome: Bool
    private var socketPath: String?
    private var closed = false

    /// Starts `sirocco ARGS` in a `width`×`height` window. When it exits, the window shows
    /// "[sirocco exited N]" and stays.
    /// `startDelay` seconds pass before it starts (keys sent meanwhile wait in the terminal).
    /// `program` replaces the sirocco binary (e.g. the install script that ends by running it).
    init(_ arguments: [String], program: String? = nil, width: Int = 140, height: Int = 40, dataHome: String? = nil,
         environment: [String: String] = [:], startDelay: Double = 0) throws {
        server = "sirocco-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        ownsDataHome = dataHome == nil
        if let dataHome {
            self.dataHome = dataHome
        } else {
            self.dataHome = NSTemporaryDirectory() + "sirocco-tui-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: self.dataHome, withIntermediateDirectories: true)
        }
        let binary = try program ?? siroccoBinary()
        let quoted = ([binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = (startDelay > 0 ? "sleep \(startDelay); " : "") + quoted.joined(separator: " ") + "; echo \"[sirocco exited $?]\"; sleep 600"
        var env = ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "XDG_DATA_HOME": self.dataHome]
        for (k, v) in environment { env[k] = v }
        var args = ["tmux", "-L", server, "-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)"]
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { args += ["-e", "\(k)=\(v)"] }
        args.append(command)
        let r = try shell(args)
        guard r.status == 0 else { throw TUITestError("tmux new-session failed: \(r.stderr)") }
        // the window keeps the size asked for even though no client is attached
        try shell(["tmux", "-L", server, "set-option", "-g", "window-size", "manual"])
        socketPath = try shell(["tmux", "-L", server, "display-message", "-p", "#{socket_path}"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        // the shell in the window and its children (sirocco), to wait for after the server goes:
        // sirocco quits on SIGHUP and writes its history on the way out
        var pids: [pid_t] = []
        if let pane = try? shell(["tmux", "-L", server, "display-message", "-p", "#{pane_pid}"]).stdout,
           let panePid = pid_t(pane.trimmingCharacters(in: .whitespacesAndNewlines)) {
            pids.append(panePid)
            let children = (try? String(contentsOfFile: "/proc/\(panePid)/task/\(panePid)/children", encoding: .utf8)) ?? ""
            pids += children.split(separator: " ").compactMap { pid_t($0) }
        }
        _ = try? shell(["tmux", "-L", server, "kill-server"])
        let deadline = Date().addingTimeInterval(5)
        while pids.contains(where: isRunning) && Date() < deadline { usleep(20_000) }
        if let socketPath, !socketPath.isEmpty { try? FileManager.default.removeItem(atPath: socketPath) }
        if ownsDataHome { try? FileManager.default.removeItem(atPath: dataHome) }
    }

    /// Whether `pid` exists and is not a zombie waiting to be reaped.
    private func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// A tmux format's value for the window's pane (`#{pane_pid}`, `#{alternate_on}`, …).
    func query(_ format: String) throws -> String {
        try shell(["tmux", "-L", server, "display-message", "-p", format]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a tmux command on this server (`set-option -g set-clipboard on`, `show-buffer`, …).
    @discardableResult
    func tmux(_ arguments: String...) throws -> String { try shell(["tmux", "-L", server] + arguments).stdout }

    /// The screen with its colours and attributes as SGR escape sequences.
    func styledScreen() throws -> String { try tmux("capture-pane", "-e", "-p") }

    /// Types text literally.
    func type(_ text: String) throws { try shell(["tmux", "-L", server, "send-keys", "-l", text]) }

    /// Presses keys by tmux name (Enter, F3, C-c, Tab, PageUp, …).
    func press(_ keys: String...) throws { try shell(["tmux", "-L", server, "send-keys"] + keys) }

    /// Pastes `text` as a terminal does, marked as a paste when the app asked for that.
    func paste(_ text: String) throws {
        try shell(["tmux", "-L", server, "set-buffer", "-b", "sirocco-paste", text])
        try shell(["tmux", "-L", server, "paste-buffer", "-p", "-d", "-b", "sirocco-paste"])
    }

    /// Types a line and presses Enter.
    func submit(_ line: String) throws {
        try type(line)
        try press("Enter")
    }

    func resize(width: Int, height: Int) throws {
        try shell(["tmux", "-L", server, "resize-window", "-x", "\(width)", "-y", "\(height)"])
    }

    /// The screen as text.
    func screen() throws -> String { try shell(["tmux", "-L", server, "capture-pane", "-p"]).stdout }

    /// Polls the screen until `condition` holds on two captures in a row (a capture can catch a
    /// frame half painted); fails the test with the last screen after `timeout`. A `transient`
    /// state (one that may last only a moment on a loaded machine) needs one capture, polled faster.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 30, transient: Bool = false,
                 sourceLocation: SourceLocation = #_sourceLocation, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        var heldOnce = false
        while Date() < deadline {
            last = try screen()
            if condition(last) {
                if heldOnce || transient { return last }
                heldOnce = true
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            heldOnce = false
            if last.contains("[sirocco exited") && !what.contains("exit") { break }
            Thread.sleep(forTimeInterval: transient ? 0.03 : 0.15)
        }
        Issue.record("timed out waiting for \(what); screen:\n\(last)", sourceLocation: sourceLocation)
        throw TUITestError("timed out waiting for \(what)")
    }

    /// Waits for the newest paste buffer to hold what `condition` wants; returns it.
    func waitForBuffer(timeout: Double = 10, sourceLocation: SourceLocation = #_sourceLocation,
                       _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = (try? tmux("show-buffer")) ?? ""
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("the clipboard (tmux buffer) never held what was expected: \(last.debugDescription)", sourceLocation: sourceLocation)
        throw TUITestError("no clipboard text")
    }

    /// Waits for `text` to be on the screen.
    @discardableResult
    func waitFor(text: String, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try waitFor("'\(text)'", timeout: timeout, sourceLocation: sourceLocation) { $0.contains(text) }
    }
}

/// Numbers read off the stats panels of a screen (inside the boxes only, not the status line).
enum StatsReader {
    /// The values after `label` in every pane's stats, left to right.
    static func values(_ label: String, in screen: String) -> [String] {
        var found: [String] = []
        for line in screen.split(separator: "\n") where line.hasPrefix("│") {
            var rest = Substring(line)
            while let r = rest.range(of: "│ " + label + " ") ?? rest.range(of: "  " + label + " ") {
                let after = rest[r.upperBound...].drop(while: { $0 == " " })
                found.append(String(after.prefix(while: { $0 != " " && $0 != "│" })))
                rest = after
            }
        }
        return found
    }

    static func numbers(_ label: String, in screen: String) -> [Double] {
        values(label, in: screen).compactMap { Double($0) }
    }

    /// "KV cells 123 / 4096" → [123, …]
    static func kvCells(_ screen: String) -> [Int] { values("KV cells", in: screen).compactMap { Int($0) } }

    /// The text of pane `pane`'s conversation column (the lines inside its box), top to bottom.
    static func conversation(_ screen: String, pane: Int = 0) -> [String] {
        var lines: [String] = []
        for line in screen.split(separator: "\n") where line.hasPrefix("│") {
            let cells = line.split(separator: "│", omittingEmptySubsequences: false)
            // "│ a │" splits into ["", " a ", ""]; "│ a ││ b │" into ["", " a ", "", " b ", ""]
            let columns = cells.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            guard pane < columns.count else { continue }
            lines.append(columns[pane].trimmingCharacters(in: .whitespaces))
        }
        return lines
    }
}
