// PreTokenizer: splits text into the words that byte-level BPE merges within, for each value of
// `tokenizer.ggml.pre`, as llama.cpp's unicode_regex_split does with its regex table
// (llm_tokenizer_bpe's regex_exprs). The regexes are replaced by hand-written scanners over
// Unicode scalars that mirror llama.cpp's custom splitters (gpt2, llama3, qwen2, qwen35) and its
// std::regex fallbacks (on its collapsed text, where only ASCII letters have a case) step for step.
// It must never produce a split llama.cpp does not make: a pre-tokenizer name whose regexes are not
// implemented here falls back to llama.cpp's "default".

/// One step of a pre-tokenizer; each step refines every piece the previous step produced.
enum PreTokenizerStep: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (GPT-2)
    case gpt2
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` (Llama 3 with 3 digits, Qwen2 with 1;
    /// Qwen3.5 also lets letter runs take combining marks, \p{M})
    case llama3(maxDigits: Int, lettersTakeMarks: Bool)
    /// `\p{N}`: every number scalar becomes its own piece.
    case eachNumber
    /// `\p{N}+`
    case numberRuns
    /// `[\p{P}\$\+<=>\^~\|]+` (with a backtick too for Falcon)
    case punctuationRuns(withBacktick: Bool)
    /// `[0-9][0-9][0-9]`
    case asciiDigitTriples
    /// `[^\r\n\p{L}\p{N}]?\p{Lu}*\p{Ll}+|[^\r\n\p{L}\p{N}]?\p{Lu}+\p{Ll}*` (each with an optional
    /// contraction for GPT-4o) `|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    /// (Tekken with 1 digit and no contractions, GPT-4o with 3 and contractions), cased as llama.cpp
    /// runs it: only ASCII letters have a case.
    case caseSplit(maxDigits: Int, contractions: Bool)
}

/// How one `tokenizer.ggml.pre` value splits text and the vocabulary flags that come with it.
struct PreTokenizer: Sendable {
    /// The name as stored in the file ("default" when the key is absent).
    let name: String
    /// The llama.cpp pre-tokenizer whose regexes `steps` implement.
    let family: String
    /// False when `name` is unknown or not implemented and the default split is used instead.
    let isImplemented: Bool
    let steps: [PreTokenizerStep]
    /// llama.cpp's clean_spaces: detokenizing drops the space in " ?", " 's", ...
    let cleanSpaces: Bool
    /// A word that is itself a vocabulary token is emitted without merging (Llama 3 style).
    let ignoreMerges: Bool
    /// The add-BOS default before `tokenizer.ggml.add_bos_token` is read.
    let addsBOSByDefault: Bool
    /// The vocabulary has no BOS token by default (ChatGLM).
    let clearsBOS: Bool

    private struct Family {
        var names: [String]
        var steps: [PreTokenizerStep]
        var cleanSpaces = true
        var ignoreMerges = false
        var addsBOS = false
        var clearsBOS = false
    }

    private static let defaultSteps: [PreTokenizerStep] = [
        .punctuationRuns(withBacktick: false), .gpt2, .numberRuns, .asciiDigitTriples,
    ]
    private static let llama3Steps: [PreTokenizerStep] = [.llama3(maxDigits: 3, lettersTakeMarks: false)]
    private static let qwen2Steps: [PreTokenizerStep] = [.llama3(maxDigits: 1, lettersTakeMarks: false)]
    private static let digitsThenGPT2: [PreTokenizerStep] = [.eachNumber, .gpt2]

    /// llama.cpp's name -> regex table (llama_vocab::impl::load and llm_tokenizer_bpe), restricted
    /// to the pre-tokenizers whose regexes are implemented here.
    private static let families: [Family] = [
        Family(names: ["default"], steps: defaultSteps),
        Family(names: ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
                       "lfm2", "jina-v5-nano"],
               steps: llama3Steps, ignoreMerges: true, addsBOS: true),
        Family(names: ["dbrx", "smaug-bpe"], steps: llama3Steps),
        Family(names: ["chatglm-bpe"], steps: llama3Steps, clearsBOS: true),
        Family(names: ["glm4", "glm5"], steps: llama3Steps, ignoreMerges: true, clearsBOS: true),
        Family(names: ["falcon"], steps: [.punctuationRuns(withBacktick: true), .gpt2, .asciiDigitTriples]),
        Family(names: ["starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"], steps: digitsThenGPT2),
        Family(names: ["command-r", "smollm"], steps: digitsThenGPT2, cleanSpaces: false),
        Family(names: ["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
                       "mellum", "modern-bert", "mpt", "olmo", "jais", "exaone4", "jina-v1-en", "jina-v2-code",
                       "roberta-bpe"],
               steps: [.gpt2]),
        Family(names: ["trillion", "granite-docling"], steps: [.gpt2], cleanSpaces: false),
        Family(names: ["stablelm2", "megrez"], steps: qwen2Steps),
        Family(names: ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"],
               steps: qwen2Steps, cleanSpaces: false),
        Family(names: ["qwen35"], steps: [.llama3(maxDigits: 1, lettersTakeMarks: true)], cleanSpaces: false),
        Family(names: ["tekken"], steps: [.caseSplit(maxDigits: 1, contractions: false)],
               cleanSpaces: false, ignoreMerges: true, addsBOS: true),
        Family(names: ["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"],
               steps: [.caseSplit(maxDigits: 3, contractions: true)], cleanSpaces: false),
    ]

    private static let byName: [String: Family] = {
        var table: [String: Family] = [:]
        for family in families {
            for name in family.names { table[name] = family }
        }
        return table
    }()

    /// The pre-tokenizer for a `tokenizer.ggml.pre` value; nil or unknown names get llama.cpp's "default".
    static func named(_ pre: String?) -> PreTokenizer {
        let name = (pre?.isEmpty ?? true) ? "default" : pre!
        let known = byName[name]
        let family = known ?? byName["default"]!
        return PreTokenizer(name: name, family: family.names[0], isImplemented: known != nil,
                            steps: family.steps, cleanSpaces: family.cleanSpaces,
                            ignoreMerges: family.ignoreMerges, addsBOSByDefault: family.addsBOS,
                            clearsBOS: family.clearsBOS)
    }

    /// Splits `scalars` (with their `flags`) into words; returns the end index of each word.
    func split(_ scalars: [UInt32], _ flags: [CodepointFlags]) -> [Int] {
        var ends = [scalars.count]
        scalars.withUnsafeBufferPointer { cp in
            flags.withUnsafeBufferPointer { fl in
                for step in steps {
                    var refined: [Int] = []
                    refined.reserveCapacity(ends.count * 2)
                    var start = 0
                    for end in ends {
                        var scanner = Scanner(cp: cp, fl: fl, lo: start, hi: end)
                        scanner.run(step, into: &refined)
                        start = end
                    }
                    ends = refined
                }
            }
        }
        return ends
    }
}

/// Splits one piece `[lo, hi)` of the text; appends the end of every non-empty word.
private struct Scanner {
    let cp: UnsafeBufferPointer<UInt32>
    let fl: UnsafeBufferPointer<CodepointFlags>
    let lo: Int
    let hi: Int

    static let outOfRange: UInt32 = 0xFFFF_FFFF
    static let quote = UInt32(UInt8(ascii: "'"))
    static let space = UInt32(UInt8(ascii: " "))
    static let cr = UInt32(UInt8(ascii: "\r"))
    static let lf = UInt32(UInt8(ascii: "\n"))
    static let slash = UInt32(UInt8(ascii: "/"))

    @inline(__always) func scalar(_ p: Int) -> UInt32 { p >= lo && p < hi ? cp[p] : Scanner.outOfRange }
    @inline(__always) func flags(_ p: Int) -> CodepointFlags { p >= lo && p < hi ? fl[p] : [] }

    mutating func run(_ step: PreTokenizerStep, into ends: inout [Int]) {
        switch step {
        case .gpt2: gpt2(into: &ends)
        case let .llama3(maxDigits, marks): llama3(maxDigits: maxDigits, marks: marks, into: &ends)
        case .eachNumber: isolate(single: true, into: &ends) { $1.contains(.number) }
        case .numberRuns: isolate(single: false, into: &ends) { $1.contains(.number) }
        case let .punctuationRuns(backtick):
            isolate(single: false, into: &ends) { value, f in
                if value < 128 {
                    switch UInt8(value) {
                    case UInt8(ascii: "$"), UInt8(ascii: "+"), UInt8(ascii: "<"), UInt8(ascii: "="), UInt8(ascii: ">"),
                         UInt8(ascii: "^"), UInt8(ascii: "~"), UInt8(ascii: "|"):
                        return true
                    case UInt8(ascii: "`"):
                        return backtick
                    default:
                        return f.contains(.punctuation)
                    }
                }
                return f.contains(.punctuation) && !f.contains(.whitespace)
            }
        case .asciiDigitTriples: digitTriples(into: &ends)
        case let .caseSplit(maxDigits, contractions): caseSplit(maxDigits: maxDigits, contractions: contractions, into: &ends)
        }
    }

    /// A regex of one class: every match (one scalar, or a maximal run) is a word, and so is
    /// every gap between matches (std::regex_iterator semantics in unicode_regex_split_stl).
    private func isolate(single: Bool, into ends: inout [Int], _ matches: (UInt32, CodepointFlags) -> Bool) {
        var p = lo
        while p < hi {
            if matches(cp[p], fl[p]) {
                p += 1
                if !single {
                    while p < hi && matches(cp[p], fl[p]) { p += 1 }
                }
                ends.append(p)
            } else {
                while p < hi && !matches(cp[p], fl[p]) { p += 1 }
                ends.append(p)
            }
        }
    }

    private func digitTriples(into ends: inout [Int]) {
        func isDigit(_ v: UInt32) -> Bool { v >= 0x30 && v <= 0x39 }
        var gapStart = lo
        var p = lo
        while p + 2 < hi {
            if isDigit(cp[p]) && isDigit(cp[p + 1]) && isDigit(cp[p + 2]) {
                if p > gapStart { ends.append(p) }
                p += 3
                ends.append(p)
                gapStart = p
            } else {
                p += 1
            }
        }
        if hi > gapStart { ends.append(hi) }
    }

    /// llama.cpp's unicode_regex_split_custom_gpt2.
    private func gpt2(into ends: inout [Int]) {
        var prevEnd = lo
        func addWord(_ end: Int) {
            if end > prevEnd { ends.append(end) }
            prevEnd = end
        }
        let notWord: CodepointFlags = [.whitespace, .letter, .number]
        var pos = lo
        while pos < hi {
            let c = scalar(pos)
            let f = flags(pos)

            // 's|'t|'re|'ve|'m|'ll|'d
            if c == Scanner.quote && pos + 1 < hi {
                let n1 = scalar(pos + 1)
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {  // s t m d
                    pos += 2
                    addWord(pos)
                    continue
                }
                if pos + 2 < hi {
                    let n2 = scalar(pos + 2)
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {  // re ve ll
                        pos += 3
                        addWord(pos)
                        continue
                    }
                }
            }

            var f2 = c == Scanner.space ? flags(pos + 1) : f
            // <space>?\p{L}+
            if f2.contains(.letter) {
                if c == Scanner.space { pos += 1 }
                while f2.contains(.letter) {
                    pos += 1
                    f2 = flags(pos)
                }
                addWord(pos)
                continue
            }
            // <space>?\p{N}+
            if f2.contains(.number) {
                if c == Scanner.space { pos += 1 }
                while f2.contains(.number) {
                    pos += 1
                    f2 = flags(pos)
                }
                addWord(pos)
                continue
            }
            // <space>?[^\s\p{L}\p{N}]+
            if f2.isDisjoint(with: notWord) && !f2.isEmpty {
                if c == Scanner.space { pos += 1 }
                while f2.isDisjoint(with: notWord) && !f2.isEmpty {
                    pos += 1
                    f2 = flags(pos)
                }
                addWord(pos)
                continue
            }

            var spaces = 0
            while flags(pos + spaces).contains(.whitespace) { spaces += 1 }
            // \s+(?!\S)
            if spaces > 1 && scalar(pos + spaces) != Scanner.outOfRange {
                pos += spaces - 1
                addWord(pos)
                continue
            }
            // \s+
            if spaces > 0 {
                pos += spaces
                addWord(pos)
                continue
            }
            pos += 1
            addWord(pos)
        }
    }

    /// llama.cpp's unicode_regex_split_custom_llama3 (maxDigits 3), _qwen2 (maxDigits 1) and
    /// _qwen35 (maxDigits 1, marks).
    private func llama3(maxDigits: Int, marks: Bool, into ends: inout [Int]) {
        var prevEnd = lo
        func addWord(_ end: Int) {
            if end > prevEnd { ends.append(end) }
            prevEnd = end
        }
        let letterLike: CodepointFlags = marks ? [.letter, .mark] : [.letter]
        let notWord: CodepointFlags = marks ? [.whitespace, .letter, .mark, .number] : [.whitespace, .letter, .number]
        func lower(_ v: UInt32) -> UInt32 { v >= 0x41 && v <= 0x5A ? v + 0x20 : v }

        var pos = lo
        while pos < hi {
            let c = scalar(pos)
            let f = flags(pos)

            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if c == Scanner.quote && pos + 1 < hi {
                let n1 = lower(scalar(pos + 1))
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {
                    pos += 2
                    addWord(pos)
                    continue
                }
                if pos + 2 < hi {
                    let n2 = lower(scalar(pos + 2))
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                        pos += 3
                        addWord(pos)
                        continue
                    }
                }
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(c == Scanner.cr || c == Scanner.lf || f.contains(.number)) {
                if !f.isDisjoint(with: letterLike) || !flags(pos + 1).isDisjoint(with: letterLike) {
                    pos += 1
                    while !flags(pos).isDisjoint(with: letterLike) { pos += 1 }
                    addWord(pos)
                    continue
                }
            }

            // \p{N}{1,3} or \p{N}
            if f.contains(.number) {
                if maxDigits == 1 {
                    pos += 1
                } else {
                    var runStart = pos
                    while flags(pos).contains(.number) {
                        pos += 1
                        if pos - runStart >= maxDigits {
                            addWord(pos)
                            runStart = pos
                        }
                    }
                }
                addWord(pos)
                continue
            }

            pos = symbolsOrSpaces(at: pos, notWord: notWord, slash: false)
            addWord(pos)
        }
    }
    /// The tail the llama3-like regexes share, at `pos`: ` ?[^\s\p{L}\p{N}]+[\r\n]*` (`notWord` says
    /// which classes end the run; `slash` adds `/` to the trailing class), `\s*[\r\n]+`, `\s+(?!\S)`,
    /// `\s+`, else one scalar. Returns the end of the word.
    private func symbolsOrSpaces(at start: Int, notWord: CodepointFlags, slash: Bool) -> Int {
        var pos = start
        let c = scalar(pos)
        // <space>?[^\s\p{L}\p{N}]+[\r\n]*
        var f2 = c == Scanner.space ? flags(pos + 1) : flags(pos)
        if f2.isDisjoint(with: notWord) && !f2.isEmpty {
            if c == Scanner.space { pos += 1 }
            while f2.isDisjoint(with: notWord) && !f2.isEmpty {
                pos += 1
                f2 = flags(pos)
            }
            var c2 = scalar(pos)
            while c2 == Scanner.cr || c2 == Scanner.lf || (slash && c2 == Scanner.slash) {
                pos += 1
                c2 = scalar(pos)
            }
            return pos
        }

        var spaces = 0
        var lastNewlineEnd = 0
        while flags(pos + spaces).contains(.whitespace) {
            let c2 = scalar(pos + spaces)
            if c2 == Scanner.cr || c2 == Scanner.lf { lastNewlineEnd = pos + spaces + 1 }
            spaces += 1
        }
        // \s*[\r\n]+
        if lastNewlineEnd > 0 { return lastNewlineEnd }
        // \s+(?!\S)
        if spaces > 1 && scalar(pos + spaces) != Scanner.outOfRange { return pos + spaces - 1 }
        // \s+
        if spaces > 0 { return pos + spaces }
        return pos + 1
    }

    /// llama.cpp's tekken and gpt-4o regexes, which it runs with std::regex on its collapsed text:
    /// `[^\r\n\p{L}\p{N}]?` + (`U*L+` or `U+L*`) + (gpt-4o) an optional contraction, `\p{N}{1,maxDigits}`,
    /// ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`. Collapsed, only ASCII letters
    /// have a case: U is a letter but not a-z, L a letter but not A-Z, so any other letter is both,
    /// and marks are not letters at all.
    private func caseSplit(maxDigits: Int, contractions: Bool, into ends: inout [Int]) {
        var prevEnd = lo
        func addWord(_ end: Int) {
            if end > prevEnd { ends.append(end) }
            prevEnd = end
        }
        var pos = lo
        while pos < hi {
            let c = scalar(pos)
            let f = flags(pos)

            // [^\r\n\p{L}\p{N}]? then U*L+ | U+L*
            let prefixed = !(c == Scanner.cr || c == Scanner.lf || f.contains(.letter) || f.contains(.number))
            if let end = casedLetters(from: prefixed ? pos + 1 : pos) {
                pos = contractions ? contractionEnd(end) : end
                addWord(pos)
                continue
            }

            // \p{N}{1,maxDigits}
            if f.contains(.number) {
                let runStart = pos
                while pos - runStart < maxDigits && flags(pos).contains(.number) { pos += 1 }
                addWord(pos)
                continue
            }

            pos = symbolsOrSpaces(at: pos, notWord: [.whitespace, .letter, .number], slash: true)
            addWord(pos)
        }
    }

    /// `U*L+`, else `U+L*`, from `start`, with std::regex's backtracking: the greedy `U*` gives back
    /// letters one at a time until a lower-case-capable letter follows. Nil when neither matches.
    private func casedLetters(from start: Int) -> Int? {
        func isUpper(_ p: Int) -> Bool { flags(p).contains(.letter) && !(0x61...0x7A).contains(scalar(p)) }
        func isLower(_ p: Int) -> Bool { flags(p).contains(.letter) && !(0x41...0x5A).contains(scalar(p)) }
        var upperEnd = start
        while isUpper(upperEnd) { upperEnd += 1 }
        // U*L+
        var k = upperEnd
        while true {
            if isLower(k) {
                var end = k
                while isLower(end) { end += 1 }
                return end
            }
            if k == start { break }
            k -= 1
        }
        // U+L*
        guard upperEnd > start else { return nil }
        var end = upperEnd
        while isLower(end) { end += 1 }
        return end
    }

    /// `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?` at `pos`: the end of the contraction, or `pos`.
    private func contractionEnd(_ pos: Int) -> Int {
        guard scalar(pos) == Scanner.quote else { return pos }
        func lower(_ v: UInt32) -> UInt32 { v >= 0x41 && v <= 0x5A ? v + 0x20 : v }
        let n1 = lower(scalar(pos + 1))
        if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 { return pos + 2 }  // s t m d
        let n2 = lower(scalar(pos + 2))
        if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) { return pos + 3 }  // re ve ll
        return pos
    }
}
