// GGUFValue: one metadata value of a GGUF file, as typed in the file.

/// A GGUF metadata value. Integers keep their stored width; arrays hold values of one type.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// The value as an integer, if it is one of the integer types (or a bool).
    public var intValue: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return v <= UInt64(Int.max) ? Int(v) : nil
        case let .int64(v): return Int(v)
        case let .bool(v): return v ? 1 : 0
        default: return nil
        }
    }

    /// The value as a float, if it is numeric.
    public var floatValue: Float? {
        switch self {
        case let .float32(v): return v
        case let .float64(v): return Float(v)
        default: return intValue.map { Float($0) }
        }
    }

    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// A short rendering for `sirocco info`: arrays show their length, long strings are cut.
    public var summary: String {
        switch self {
        case let .string(s):
            let oneLine = s.replacingOccurrences(of: "\n", with: "\\n")
            return oneLine.count > 60 ? "\"\(oneLine.prefix(57))...\"" : "\"\(oneLine)\""
        case let .array(a): return "[\(a.count) items]"
        case let .bool(b): return b ? "true" : "false"
        case let .float32(v): return "\(v)"
        case let .float64(v): return "\(v)"
        default: return intValue.map { "\($0)" } ?? "?"
        }
    }
}
