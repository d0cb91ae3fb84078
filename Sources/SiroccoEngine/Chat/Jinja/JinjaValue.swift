// JinjaValue: the data a chat template sees — the JSON-like values Hugging Face passes to
// jinja2 (messages, tools, flags, special tokens) plus jinja2's `Undefined`. Objects keep their
// insertion order, as Python dicts do, because `tojson` and `items()` print keys in that order.
// How values behave in templates (truthiness, printing, equality) lives in JinjaPythonSemantics.

/// A value passed to or produced by a Jinja template, modelled on the Python values jinja2 sees.
public enum JinjaValue: Sendable, Equatable {
    /// jinja2's `Undefined`: a missing variable, key or attribute. Prints as "".
    case undefined
    /// Python's `None`.
    case none
    /// `True` / `False`.
    case bool(Bool)
    /// A Python int (64-bit here; arithmetic that would overflow fails instead of growing).
    case int(Int)
    /// A Python float.
    case double(Double)
    /// A Python str.
    case string(String)
    /// A Python list (tuples are represented as lists too).
    case array([JinjaValue])
    /// A Python dict with string keys, in insertion order.
    case object(JinjaObject)
}

/// A string-keyed dictionary that remembers insertion order, like a Python dict.
/// Equality ignores order, as Python's dict equality does.
public struct JinjaObject: Sendable, Equatable {
    /// What Python object this stands for. Templates only ever see dicts from outside; the
    /// interpreter also uses objects for `namespace()` results and for methods looked up as values.
    enum Kind: Sendable, Equatable {
        case dict
        /// jinja2's `Namespace`, the only object `{% set ns.attr = … %}` may assign to.
        case namespace
        /// A bound method such as `message.items` (not called): defined and truthy, nothing more.
        case method(name: String, owner: String)
    }

    /// The keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]
    var kind = Kind.dict

    /// An empty object.
    public init() {}

    /// An object with `pairs` in order; a repeated key keeps its first position and last value.
    public init(_ pairs: [(String, JinjaValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The value for `key`; assigning `nil` removes the key.
    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The number of keys.
    public var count: Int { keys.count }

    /// Whether the object has no keys.
    public var isEmpty: Bool { keys.isEmpty }

    /// The key/value pairs in insertion order.
    public var pairs: [(key: String, value: JinjaValue)] { keys.map { ($0, storage[$0]!) } }

    /// The values in insertion order.
    public var values: [JinjaValue] { keys.map { storage[$0]! } }

    public static func == (lhs: JinjaObject, rhs: JinjaObject) -> Bool { lhs.kind == rhs.kind && lhs.storage == rhs.storage }

    /// A plain dict (not a namespace or method stand-in).
    var isDict: Bool { kind == .dict }

    /// The stand-in for Python's bound method `owner.name`.
    static func method(_ name: String, of owner: String) -> JinjaObject {
        var object = JinjaObject()
        object.kind = .method(name: name, owner: owner)
        return object
    }
}

extension JinjaObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self.init(elements) }
}

/// Literals build values directly: `["role": "user", "content": "hi"]`, `[1, 2.5, nil]`.
extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self = .object(JinjaObject(elements)) }
    /// `nil` is Python's `None`, not undefined.
    public init(nilLiteral: ()) { self = .none }
}

extension JinjaValue {
    /// The `messages` list a chat template iterates: one `{"role": …, "content": …}` dict per turn.
    public static func messages(_ turns: [(role: String, content: String)]) -> JinjaValue {
        .array(turns.map { .object(["role": .string($0.role), "content": .string($0.content)]) })
    }

    /// The `messages` list a chat template iterates, from chat messages.
    public static func messages(_ messages: [ChatMessage]) -> JinjaValue {
        .messages(messages.map { (role: $0.role, content: $0.content) })
    }
}
