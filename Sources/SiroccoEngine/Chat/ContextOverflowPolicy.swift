// ContextOverflowPolicy: what a session does when the conversation no longer fits the context.

/// When the rendered conversation outgrows the context window.
public enum ContextOverflowPolicy: String, Sendable, Codable {
    /// Drop the oldest turns (never the system prompt) and re-evaluate.
    case dropOldestTurns
    /// Refuse with `ChatError.conversationTooLong`.
    case refuse
}

/// Errors of a chat session a user can cause.
public enum ChatError: Error, CustomStringConvertible, Equatable {
    case conversationTooLong(tokens: Int, capacity: Int)
    case emptyMessage
    case busy
    case badConversationFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .conversationTooLong(tokens, capacity):
            return "the conversation needs \(tokens) tokens but the context holds \(capacity); start a new conversation (/clear) or use a larger context"
        case .emptyMessage:
            return "the message is empty"
        case .busy:
            return "an answer is still being generated"
        case let .badConversationFile(path, reason):
            return "cannot load the conversation from \(path): \(reason)"
        }
    }
}
