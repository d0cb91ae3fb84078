// Comparison: when several panes answered one message, a line under them comparing the answers —
// tokens, generation speed and the whole answer's time per pane — so models (or settings) can be
// weighed at a glance. Pure text from the pane states.

import Foundation

enum Comparison {
    /// How much of a pane's numbers a line has room for.
    enum Form { case long, short, speedOnly }

    /// One pane's numbers: "1: 48 tok · 370.1 tok/s · 0.35 s", "1: 48tok 370/s 0.4s" or "1: 370/s".
    static func item(_ pane: PaneState, _ form: Form) -> String {
        let s = pane.stats
        let seconds = s.promptSeconds + s.generationSeconds
        let speed = Int(s.generationTokensPerSecond.rounded())
        switch form {
        case .long:
            return "\(pane.index + 1): \(s.generatedTokens) tok · \(Format.oneDecimal(s.generationTokensPerSecond)) tok/s · "
                + String(format: "%.2f s", seconds)
        case .short: return "\(pane.index + 1): \(s.generatedTokens)tok \(speed)/s " + String(format: "%.1fs", seconds)
        case .speedOnly: return "\(pane.index + 1): \(speed)/s"
        }
    }

    /// The line for `panes` in `width` columns, in the longest form that fits: the panes that
    /// answered the last message together (`compared`), once all have finished; nil when fewer
    /// than two did.
    static func line(_ panes: [PaneState], width: Int = .max) -> String? {
        let compared = panes.filter(\.compared)
        guard compared.count >= 2, !compared.contains(where: \.streaming) else { return nil }
        let long = "answers  " + compared.map { item($0, .long) }.joined(separator: "   ")
        let short = compared.map { item($0, .short) }.joined(separator: "  ")
        let speeds = "tok/s  " + compared.map { item($0, .speedOnly) }.joined(separator: "  ")
        return [long, "answers  " + short, short].first { TextWidth.of($0) <= width } ?? speeds
    }
}
