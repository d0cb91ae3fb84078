// TerminalText: text from files (a model's metadata, a template, a conversation) shown in a message
// with its control characters escaped, so no byte of a stranger's file can move the cursor, change
// colours or retitle the terminal.

public enum TerminalText {
    /// `text` with C0/C1 control characters and DEL written as \xNN (\n and \t as \n and \t).
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where isControl(scalar):
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }
}
