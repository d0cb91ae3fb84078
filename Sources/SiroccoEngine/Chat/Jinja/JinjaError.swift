// JinjaError: what can go wrong compiling or rendering a Jinja chat template. Every case carries
// what a user needs to see; rendering never crashes on a bad template, it throws one of these.

/// An error from compiling or rendering a Jinja template.
public enum JinjaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The template text is not valid Jinja.
    case syntax(line: Int, message: String)
    /// The template uses a Jinja construct this interpreter does not implement.
    case unsupported(line: Int, feature: String)
    /// The template called `raise_exception(message)`; `message` is the template author's text.
    case raised(message: String)
    /// Rendering failed where Python's jinja2 fails too (an undefined value used, a type mismatch).
    case runtime(line: Int, message: String)
    /// A JSON text given as a template value could not be parsed.
    case invalidJSON(offset: Int, message: String)
    /// The template went past one of its `JinjaLimits` (named in `limit`, e.g. "macro call depth 50").
    case limit(line: Int, limit: String)

    public var description: String {
        switch self {
        case .syntax(let line, let message):
            return "Jinja syntax error on line \(line): \(message)"
        case .unsupported(let line, let feature):
            return "Jinja template uses \(feature) on line \(line), which is not supported"
        case .raised(let message):
            return "The chat template raised an error: \(message)"
        case .runtime(let line, let message):
            return "Jinja template failed on line \(line): \(message)"
        case .invalidJSON(let offset, let message):
            return "Invalid JSON at offset \(offset): \(message)"
        case .limit(let line, let limit):
            return "Jinja template stopped on line \(line): it exceeds the \(limit)"
        }
    }
}
