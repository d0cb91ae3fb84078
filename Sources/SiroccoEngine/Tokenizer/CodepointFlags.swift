// CodepointFlags: the Unicode classes the pre-tokenizers test (\p{L}, \p{N}, \s, ...), classified
// as llama.cpp's unicode_cpt_flags: one general-category class per scalar plus a whitespace bit
// from a fixed list. Categories come from the Swift runtime's Unicode tables; scalars assigned after
// Unicode 15.1 (the version of llama.cpp's unicode-data.cpp) count as unassigned, which makes the
// classification identical to llama.cpp's for every code point (checked exhaustively).

/// Category bits of one scalar. Every real scalar has at least one bit set; the empty set means
/// "outside the text" to the scanners.
struct CodepointFlags: OptionSet, Sendable {
    let rawValue: UInt16

    static let undefined = CodepointFlags(rawValue: 1 << 0)    // Cn
    static let number = CodepointFlags(rawValue: 1 << 1)       // \p{N}
    static let letter = CodepointFlags(rawValue: 1 << 2)       // \p{L}
    static let separator = CodepointFlags(rawValue: 1 << 3)    // \p{Z}
    static let mark = CodepointFlags(rawValue: 1 << 4)         // \p{M}
    static let punctuation = CodepointFlags(rawValue: 1 << 5)  // \p{P}
    static let symbol = CodepointFlags(rawValue: 1 << 6)       // \p{S}
    static let control = CodepointFlags(rawValue: 1 << 7)      // \p{C} except Cn
    static let whitespace = CodepointFlags(rawValue: 1 << 8)   // \s as llama.cpp defines it

    /// Flags of a scalar value.
    static func of(_ value: UInt32) -> CodepointFlags {
        if value < 128 { return ascii[Int(value)] }
        return classify(value)
    }

    private static let ascii: [CodepointFlags] = (0..<128).map { classify(UInt32($0)) }

    /// The Unicode version of llama.cpp's category table (src/unicode-data.cpp).
    private static let llamaCppUnicodeVersion = (15, 1)

    /// llama.cpp's whitespace list (unicode_set_whitespace).
    private static func isWhitespace(_ v: UInt32) -> Bool {
        switch v {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    private static func classify(_ v: UInt32) -> CodepointFlags {
        guard let scalar = Unicode.Scalar(v) else { return .control }  // surrogate code points (Cs)
        var flags: CodepointFlags
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags = .letter
        case .nonspacingMark, .spacingMark, .enclosingMark:
            flags = .mark
        case .decimalNumber, .letterNumber, .otherNumber:
            flags = .number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags = .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            flags = .symbol
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            flags = .separator
        case .control, .format, .surrogate, .privateUse:
            flags = .control
        case .unassigned:
            flags = .undefined
        @unknown default:
            flags = .undefined
        }
        if flags != .control, let age = scalar.properties.age, (age.major, age.minor) > llamaCppUnicodeVersion {
            flags = .undefined
        }
        if isWhitespace(v) { flags.insert(.whitespace) }
        return flags
    }
}
