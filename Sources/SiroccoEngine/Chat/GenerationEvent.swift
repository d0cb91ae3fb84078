// GenerationEvent: what a streaming generation yields.

/// One event of a streaming answer: a UTF-8-complete text piece, live statistics, or the end.
public enum GenerationEvent: Sendable, Equatable {
    /// Text that became complete with the last token (never a broken UTF-8 sequence).
    case text(String)
    /// Statistics so far (after the prompt, then after every token).
    case progress(GenerationStats)
    /// The answer is over: why, and the final statistics.
    case finished(StopReason, GenerationStats)
    /// Something the user should see that is not the answer (a remote backend retrying).
    case notice(String)
}
