// JinjaLimits: what a template may use. A model's chat template is code from a stranger; like
// jinja2's sandbox (which caps range() at 100,000) these bounds make sure no template can crash,
// hang or exhaust the machine, while every real template renders far below them.

/// Resource limits for compiling and rendering one template. Exceeding one is a `JinjaError.limit`.
public struct JinjaLimits: Sendable, Equatable {
    /// Nesting of expressions and blocks the parser accepts (real templates: under 20). With the
    /// evaluation depth it keeps the stack under ~200 KiB, so a 512 KiB thread can render.
    public var nesting = 100
    /// Depth of macro calls inside macro calls (recursion); real templates: 2 or 3.
    public var macroCalls = 50
    /// Depth of expressions and statements being evaluated, macro bodies included.
    public var evaluation = 300
    /// Expressions evaluated, statements executed and loop iterations, in all (real templates on a
    /// long conversation: tens of thousands). Under a second of work at the most (the slowest template
    /// the fuzzer found stops here after 0.7 s in a release build).
    public var steps = 4_000_000
    /// Bytes of strings (and 16 per list element) a render may build in all — output, concatenation,
    /// repetition, filters — before anything is allocated: this much, plus 16 times the input.
    public var bytesBuilt = 256 << 20

    public init() {}

    public static let standard = JinjaLimits()
}

/// What a render has used of its limits.
struct JinjaBudget {
    let limits: JinjaLimits
    /// Bytes that may be built: the limit plus 16 times the size of the template's input.
    let byteAllowance: Int
    var bytesBuilt = 0
    var steps = 0
    var depth = 0
    var macroDepth = 0

    init(limits: JinjaLimits, inputBytes: Int) {
        self.limits = limits
        let (scaled, overflow) = inputBytes.multipliedReportingOverflow(by: 16)
        byteAllowance = overflow ? .max : limits.bytesBuilt &+ scaled
    }
}
