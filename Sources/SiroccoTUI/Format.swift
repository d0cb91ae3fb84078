// Format: how numbers read in the stats panel and the status line. Pure.

/// Number formatting shared by the panels.
enum Format {
    /// 0.7 → "0.70", 1 → "1.00", 0.05 → "0.05"
    static func decimal(_ v: Float) -> String {
        let scaled = (Double(v) * 100).rounded()
        let negative = scaled < 0
        let a = Int(abs(scaled))
        return (negative ? "-" : "") + "\(a / 100)." + (a % 100 < 10 ? "0" : "") + "\(a % 100)"
    }

    /// One decimal: 123.45 → "123.4"
    static func oneDecimal(_ v: Double) -> String {
        guard v.isFinite else { return "–" }
        let scaled = Int((v * 10).rounded())
        return "\(scaled / 10).\(abs(scaled % 10))"
    }

    static func mebibytes(_ bytes: Int) -> String { oneDecimal(Double(bytes) / 1_048_576) }
}
