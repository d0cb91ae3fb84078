// InputLine: the line being typed, edited by GNU readline's callback interface (history, Ctrl-A/
// E/K/U/W, Alt-B/F, …). Readline never touches the terminal: the event loop hands it bytes, it
// hands back finished lines and the UI's own keys (bound to escape sequences), and the UI paints
// the line. Readline is process-global C state, so there is one InputLine, used on the UI thread.

import CNCursesW
import CReadline
import Foundation

final class InputLine {
    nonisolated(unsafe) static let shared = InputLine()

    /// A finished line (nil: end of input, Ctrl-D on an empty line).
    private(set) var submitted: [String?] = []
    /// UI keys pressed, in order.
    private(set) var actions: [KeyAction] = []
    /// Bytes waiting for readline.
    private var pending: [UInt8] = []
    private var pendingStart = 0
    /// Asked for when readline wants a byte that has not arrived (rare: a split sequence).
    var waitForByte: () -> UInt8? = { nil }
    private var actionForSequence: [String: KeyAction] = [:]
    private var installed = false
    private var historyFile: String?

    private init() {}

    /// Sets readline up and binds the UI's keys (`bindings`, also under their terminfo names).
    func install(bindings: [KeyBinding], historyFile: String?) {
        guard !installed else { return }
        installed = true
        sh_rl_configure(fopen("/dev/null", "w"), { _ in InputLine.shared.nextByte() },
                        { InputLine.shared.hasPendingInput ? 1 : 0 }, { })
        using_history()
        stifle_history(1000)
        sh_history_keep_multiline()
        self.historyFile = historyFile
        if let historyFile { read_history(historyFile) }
        rl_callback_handler_install("", { line in InputLine.shared.lineFinished(line) })
        for binding in bindings {
            var sequences = binding.sequences
            if let cap = binding.terminfo, let s = sh_tigetstr(cap) { sequences.append(String(cString: s)) }
            for sequence in Set(sequences) where !sequence.isEmpty {
                actionForSequence[sequence] = binding.action
                rl_bind_keyseq(sequence, { _, _ in InputLine.shared.boundKeyPressed() })
            }
        }
    }

    /// Gives readline back its state; saves history.
    func uninstall() {
        guard installed else { return }
        installed = false
        rl_callback_handler_remove()
        if let historyFile {
            try? FileManager.default.createDirectory(atPath: (historyFile as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
            write_history(historyFile)
        }
    }

    var hasPendingInput: Bool { pendingStart < pending.count }

    /// Queues bytes typed; `process()` gives them to readline.
    func feed(_ byte: UInt8) { pending.append(byte) }

    /// Runs readline over the queued bytes; finished lines and UI keys collect in `submitted`
    /// and `actions`.
    func process() {
        while hasPendingInput { rl_callback_read_char() }
        pending.removeAll(keepingCapacity: true)
        pendingStart = 0
    }

    func takeSubmitted() -> [String?] { defer { submitted = [] }; return submitted }
    func takeActions() -> [KeyAction] { defer { actions = [] }; return actions }

    /// The line being edited.
    var text: String { String(cString: sh_rl_line_buffer()) }
    /// The cursor position, in bytes of `text`.
    var cursorByte: Int { Int(sh_rl_point()) }

    /// Replaces the line being edited (e.g. to give back a message that could not be sent).
    func setText(_ s: String) { sh_rl_set_line(s) }

    func addHistory(_ line: String) {
        guard !line.isEmpty else { return }
        add_history(line)
        // readline set its history position for the new line before this entry existed; move it
        // past the end, else the next line's edits would be written into this entry
        using_history()
    }

    // MARK: readline callbacks

    private func nextByte() -> Int32 {
        if hasPendingInput {
            let b = pending[pendingStart]
            pendingStart += 1
            return Int32(b)
        }
        if let b = waitForByte() { return Int32(b) }
        return 0x07  // nothing came: a harmless key (readline rings the bell to /dev/null)
    }

    private func lineFinished(_ line: UnsafeMutablePointer<CChar>?) {
        if let line {
            submitted.append(String(cString: line))
            free(line)
        } else {
            submitted.append(nil)
        }
    }

    private func boundKeyPressed() -> Int32 {
        let length = Int(sh_rl_key_sequence_length())
        if let p = sh_rl_executing_keyseq(), length > 0 {
            let bytes = UnsafeRawBufferPointer(start: p, count: length)
            let sequence = String(decoding: bytes, as: UTF8.self)
            if let action = actionForSequence[sequence] { actions.append(action) }
        }
        return 0
    }

    // MARK: painting

    /// What to paint for a line `text` with the cursor at byte `cursor` in `width` columns after
    /// the prompt: the visible part and the cursor's column in it (scrolled to keep it visible).
    /// Line breaks (from a paste) show as `newline`, one column wide.
    static func visibleSlice(text: String, cursorByte: Int, width: Int, newline: String = "↵") -> (text: String, cursorColumn: Int) {
        guard width > 1 else { return ("", 0) }
        let utf8 = Array(text.utf8)
        // what is painted is the sanitized text; sanitizing works scalar by scalar, so the part
        // before the cursor sanitizes to a prefix of it
        let shown = { (s: String) in TextWidth.sanitize(s).replacingOccurrences(of: "\n", with: newline) }
        let before = shown(String(decoding: utf8[0..<min(max(0, cursorByte), utf8.count)], as: UTF8.self))
        let text = shown(text)
        let cursorColumn = TextWidth.of(before)
        if TextWidth.of(text) < width && cursorColumn < width { return (text, cursorColumn) }
        // drop graphemes from the start until the cursor fits, keeping a few columns of context
        var start = text.startIndex
        var dropped = 0
        let target = cursorColumn - (width - 1) + min(8, width / 4)
        while dropped < target, start < text.endIndex {
            dropped += TextWidth.of(text[start])
            start = text.index(after: start)
        }
        let rest = String(text[start...])
        return (TextWidth.prefix(rest, width: width), cursorColumn - dropped)
    }
}
