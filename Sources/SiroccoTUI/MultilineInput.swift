// MultilineInput: Ollama's typed multi-line messages. A line starting with """ opens a block; the
// Enter-terminated lines after it are collected (and shown above the input line); a line ending
// with """ closes it and the whole text is sent as one message. """text""" on one line sends text.
// Inside a block every line is text, slash commands included. Pure state, no curses.

import Foundation

/// The multi-line message being typed between """ lines.
struct MultilineInput: Equatable, Sendable {
    static let delimiter = "\"\"\""

    /// The lines of the open block as typed, the opening """ line first; nil when none is open.
    private(set) var typed: [String]?

    var isOpen: Bool { typed != nil }

    /// What a finished input line turned out to be.
    enum Outcome: Equatable, Sendable {
        /// Not part of a block: an ordinary line (a message or a command).
        case line(String)
        /// Taken into the open block.
        case collecting
        /// The block (or a one-line """text""") is complete: this text is the message.
        case message(String)
    }

    /// Takes a line Enter finished.
    mutating func take(_ line: String) -> Outcome {
        let d = MultilineInput.delimiter
        guard var lines = typed else {
            let opening = String(line.drop { $0 == " " || $0 == "\t" })
            guard opening.hasPrefix(d) else { return .line(line) }
            let body = opening.dropFirst(d.count)
            let closed = body.trailingTrimmed
            if closed.hasSuffix(d) {
                // """text""" on one line (also a recalled or pasted block, its line breaks inside)
                return .message(String(closed.dropLast(d.count)).trimmingNewlines)
            }
            typed = [line]
            return .collecting
        }
        lines.append(line)
        guard line.trailingTrimmed.hasSuffix(d) else {
            typed = lines
            return .collecting
        }
        typed = nil
        return .message(MultilineInput.text(of: lines))
    }

    /// Forgets the open block (Ctrl-C).
    mutating func discard() { typed = nil }

    /// The message of a closed block: the opening line's text after """, the lines between as
    /// typed, the closing line's text before """; an empty first or last part adds no line.
    static func text(of lines: [String]) -> String {
        let d = delimiter
        var parts = lines
        parts[0] = String(parts[0].drop { $0 == " " || $0 == "\t" }.dropFirst(d.count))
        parts[parts.count - 1] = String(parts[parts.count - 1].trailingTrimmed.dropLast(d.count))
        if parts.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { parts.removeFirst() }
        if let last = parts.last, last.trimmingCharacters(in: .whitespaces).isEmpty { parts.removeLast() }
        return parts.joined(separator: "\n")
    }

    /// The history entry for a sent block: one """-quoted line that sends it again when recalled.
    static func historyEntry(for text: String) -> String { delimiter + "\n" + text + "\n" + delimiter }
}

private extension StringProtocol {
    /// Without trailing spaces and tabs.
    var trailingTrimmed: String {
        var s = Substring(self)
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

private extension String {
    /// Without leading and trailing line breaks.
    var trimmingNewlines: String { trimmingCharacters(in: .newlines) }
}
