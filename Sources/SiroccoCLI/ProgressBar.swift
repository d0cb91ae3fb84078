// ProgressBar: a pull's progress on stderr — a bar redrawn in place on a terminal, a line every
// tenth of the way otherwise (logs, CI).

import Foundation
import SiroccoModels

/// Draws `PullProgress` for one model.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let interactive = isatty(2) == 1
    private let lock = NSLock()
    private var lastTenth = -1
    private var drawn = false

    init(label: String) { self.label = label }

    func update(_ p: PullProgress) {
        lock.lock()
        defer { lock.unlock() }
        if interactive {
            let width = max(10, min(30, terminalColumns() - 70))
            let filled = Int(p.fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write("\r\u{1B}[K" + ProgressBar.line(label, p, bar: bar))
            drawn = true
        } else {
            let tenth = Int(p.fraction * 10)
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            write(ProgressBar.line(label, p, bar: nil) + "\n")
        }
    }

    /// Ends the bar's line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if interactive && drawn { write("\n") }
        drawn = false
    }

    /// "pulling NAME  42% ▕███░░░▏ 469 MiB/1.0 GiB  182 MiB/s  ETA 3s"
    static func line(_ label: String, _ p: PullProgress, bar: String?) -> String {
        let percent = String(format: "%3d%%", Int(p.fraction * 100))
        var parts = ["pulling \(label)", percent]
        if let bar { parts.append("▕\(bar)▏") }
        parts.append("\(ByteCount.format(p.completed))/\(ByteCount.format(p.total))")
        if p.bytesPerSecond > 0 { parts.append("\(ByteCount.format(Int64(p.bytesPerSecond)))/s") }
        if let left = p.secondsLeft, p.completed < p.total { parts.append("ETA \(duration(left))") }
        return parts.joined(separator: "  ")
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    private func terminalColumns() -> Int {
        var size = winsize()
        return ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }
}
