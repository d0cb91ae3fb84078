// ChatMessage: one turn of a conversation.

/// A message with a role ("system", "user", "assistant") and its text.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", content: text) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: "assistant", content: text) }

    /// The roles a conversation may have.
    public static let roles = ["system", "user", "assistant", "tool"]

    /// Throws `ChatMessageError.unknownRole` for the first message whose role is not one of `roles`.
    public static func checkRoles(_ messages: [ChatMessage]) throws {
        if let i = messages.firstIndex(where: { !roles.contains($0.role) }) {
            throw ChatMessageError.unknownRole(index: i + 1, role: messages[i].role)
        }
    }
}

/// A message that cannot be part of a conversation.
public enum ChatMessageError: Error, CustomStringConvertible, Equatable {
    case unknownRole(index: Int, role: String)

    public var description: String {
        switch self {
        case let .unknownRole(index, role):
            return "message \(index) has the unknown role '\(TerminalText.escaped(role))' (roles: \(ChatMessage.roles.joined(separator: ", ")))"
        }
    }
}
