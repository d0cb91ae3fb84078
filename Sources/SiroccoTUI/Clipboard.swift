// Clipboard: what /copy takes from a pane's last answer (a code block by the number in its label,
// the last code block, or the whole answer as written) and the OSC 52 sequence that asks the
// terminal to put it on the clipboard. Inside tmux the sequence goes out as is: tmux keeps it as
// a paste buffer and passes it on with `set -g set-clipboard on`. Choosing and encoding are pure;
// `send` writes to the terminal, after curses has written a frame.

import Foundation

/// Why /copy has nothing to copy.
enum CopyError: Error, Equatable, CustomStringConvertible {
    case noAnswer
    case noCodeBlock
    case noSuchBlock(Int, count: Int)

    var description: String {
        switch self {
        case .noAnswer: return "no answer to copy yet"
        case .noCodeBlock: return "the last answer has no code block (/copy all copies all of it)"
        case let .noSuchBlock(n, count):
            return "the last answer has no code block \(n) (it has \(count == 1 ? "one" : "\(count)"))"
        }
    }
}

/// Text chosen by /copy, and what to call it in the status line.
struct ClipboardText: Equatable, Sendable {
    var text: String
    var summary: String
}

enum Clipboard {
    /// What `target` names in `pane`'s last answer.
    static func text(_ target: CopyTarget, in pane: PaneState) throws(CopyError) -> ClipboardText {
        guard let answer = pane.lastAnswer else { throw .noAnswer }
        let blocks = Markdown.parse(answer).codeBlocks
        let block: CodeBlock
        switch target {
        case .answer:
            return ClipboardText(text: answer, summary: "the last answer (\(lineCount(answer)))")
        case .lastCodeBlock:
            guard let last = blocks.last else { throw .noCodeBlock }
            block = last
        case let .codeBlock(n):
            guard blocks.indices.contains(n - 1) else { throw blocks.isEmpty ? .noCodeBlock : .noSuchBlock(n, count: blocks.count) }
            block = blocks[n - 1]
        }
        return ClipboardText(text: block.text, summary: "code block \(block.number) (\(lineCount(block.text)))")
    }

    private static func lineCount(_ text: String) -> String {
        let n = text.split(separator: "\n", omittingEmptySubsequences: false).count
        return n == 1 ? "1 line" : "\(n) lines"
    }

    /// `ESC ] 52 ; c ; <base64 of text> BEL`: sets the clipboard ("c") to `text`.
    static func osc52(_ text: String) -> String {
        "\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}"
    }

    /// Writes the OSC 52 sequence for `text` to the terminal (standard output), all of it.
    static func send(_ text: String) {
        let bytes = Array(osc52(text).utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            written += n
        }
    }
}
