// VocabularyCompatibility: whether a draft model's token ids mean what the target's do, so the
// target can verify the draft's tokens as they are (speculative decoding). The rules are llama.cpp's
// common_speculative_are_compatible (common/speculative.cpp), one for one and in its order.
// It never tokenizes and never looks at weights.

/// Why a draft model cannot propose tokens to a target; `description` names the first difference.
public enum DraftVocabularyMismatch: Error, CustomStringConvertible, Equatable {
    case tokenizerKind(draft: String, target: String)
    case addsBOS(draft: Bool, target: Bool)
    case bos(draft: TokenID?, target: TokenID?)
    case addsEOS(draft: Bool, target: Bool)
    case eos(draft: TokenID?, target: TokenID?)
    case size(draft: Int, target: Int)
    case tokenText(id: TokenID, draft: String, target: String)

    public var description: String {
        let prefix = "the draft model's vocabulary does not match the target's: "
        func adds(_ token: String, draft: Bool) -> String {
            draft ? "the draft adds \(token) to a prompt, the target does not" : "the target adds \(token) to a prompt, the draft does not"
        }
        func id(_ t: TokenID?) -> String { t.map { String($0) } ?? "none" }
        func quoted(_ text: String) -> String { "\"" + TerminalText.escaped(text) + "\"" }
        switch self {
        case let .tokenizerKind(draft, target):
            return prefix + "a \(draft) tokenizer in the draft, \(target) in the target"
        case let .addsBOS(draft, _):
            return prefix + adds("BOS", draft: draft)
        case let .bos(draft, target):
            return prefix + "BOS token \(id(draft)) in the draft, \(id(target)) in the target"
        case let .addsEOS(draft, _):
            return prefix + adds("EOS", draft: draft)
        case let .eos(draft, target):
            return prefix + "EOS token \(id(draft)) in the draft, \(id(target)) in the target"
        case let .size(draft, target):
            return prefix + "vocabulary sizes \(draft) (draft) and \(target) (target) differ by more than "
                + "\(Tokenizer.draftMaxSizeDifference)"
        case let .tokenText(id, draft, target):
            return prefix + "token \(id) is \(quoted(draft)) in the draft, \(quoted(target)) in the target"
        }
    }
}

extension Tokenizer {
    /// How many more tokens one vocabulary may have (SPEC_VOCAB_MAX_SIZE_DIFFERENCE).
    static let draftMaxSizeDifference = 128
    /// Texts are compared from this id on (SPEC_VOCAB_CHECK_START_TOKEN_ID): the first few are
    /// special tokens that models of one family name differently.
    static let draftFirstComparedToken = 5

    /// Throws unless `draft` can propose tokens for `target`: same tokenizer kind, BOS/EOS added
    /// alike and (when added) the same ids, sizes within 128, the same token texts from id 5 on.
    public static func checkDraft(_ draft: Tokenizer, for target: Tokenizer) throws(DraftVocabularyMismatch) {
        let d = draft.vocabulary, t = target.vocabulary
        guard d.kind == t.kind else {
            throw .tokenizerKind(draft: d.kind.name, target: t.kind.name)
        }
        // llama.cpp compares the flags as stored, and the ids only when they are added
        guard d.addsBOS == t.addsBOS else { throw .addsBOS(draft: d.addsBOS, target: t.addsBOS) }
        guard !t.addsBOS || d.bos == t.bos else { throw .bos(draft: d.bos, target: t.bos) }
        guard d.addsEOS == t.addsEOS else { throw .addsEOS(draft: d.addsEOS, target: t.addsEOS) }
        guard !t.addsEOS || d.eos == t.eos else { throw .eos(draft: d.eos, target: t.eos) }
        guard abs(d.count - t.count) <= draftMaxSizeDifference else { throw .size(draft: d.count, target: t.count) }
        for i in draftFirstComparedToken..<max(draftFirstComparedToken, min(d.count, t.count))
        where !d.texts[i].utf8.elementsEqual(t.texts[i].utf8) {
            throw .tokenText(id: TokenID(i), draft: d.texts[i], target: t.texts[i])
        }
    }
}

extension VocabularyKind {
    /// For messages: "SentencePiece", "byte-level BPE".
    var name: String {
        switch self {
        case .sentencePiece: return "SentencePiece"
        case .bytePairs: return "byte-level BPE"
        }
    }
}
