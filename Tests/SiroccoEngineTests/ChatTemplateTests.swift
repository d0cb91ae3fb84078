// Built-in chat formats reproduce the real published templates they are named after, byte for
// byte, on the conversations those templates accept (expected outputs rendered by Python's jinja2).

import Foundation
import Testing
@testable import SiroccoEngine

struct TemplateFixtures: Decodable {
    struct Message: Decodable { var role: String; var content: String? }
    struct Conversation: Decodable { var messages: [Message] }
    struct Case: Decodable {
        var template: String
        var conversation: String
        var add_generation_prompt: Bool
        var output: String?
    }
    var conversations: [String: Conversation]
    var cases: [Case]

    static func load() throws -> TemplateFixtures {
        let url = try fixtureURL("Fixtures/templates/expected", "json")
        return try JSONDecoder().decode(TemplateFixtures.self, from: Data(contentsOf: url))
    }
}

@Suite struct ChatTemplateTests {
    /// (built-in, the real template it follows, BOS, EOS, conversations to compare). Conversations
    /// are left out where the real template adds a model-specific default system prompt, raises,
    /// or uses tools.
    static let table: [(ChatTemplate, String, String, String, [String])] = [
        (.chatml, "smollm2-instruct", "", "", ["system-user", "system-multi-turn", "whitespace", "system-only"]),
        (.llama2, "llama-2-chat", "<s>", "</s>", ["user", "system-user", "multi-turn", "system-multi-turn", "whitespace", "unicode", "empty-content", "system-only"]),
        (.llama3, "llama-3-instruct", "<|begin_of_text|>", "<|eot_id|>", ["user", "system-user", "multi-turn", "system-multi-turn", "whitespace", "unicode", "empty-content", "system-only", "roles-not-alternating"]),
        (.mistralV1, "mistral-instruct-v1-system", "<s>", "</s>", ["user", "system-user", "multi-turn", "system-multi-turn", "whitespace", "unicode", "empty-content", "system-only"]),
        (.mistralV3, "mistral-7b-instruct-v0.3", "<s>", "</s>", ["user", "system-user", "multi-turn", "system-multi-turn", "whitespace", "unicode", "empty-content", "system-only"]),
        (.mistralV7, "mistral-small-24b-instruct-2501", "<s>", "</s>", ["system-user", "system-multi-turn", "whitespace", "system-only"]),
        (.gemma, "gemma-3-it", "<bos>", "<eos>", ["user", "system-user", "multi-turn", "system-multi-turn", "whitespace", "unicode", "empty-content", "system-only"]),
        (.phi3, "phi-3-mini", "<s>", "<|endoftext|>", ["user", "system-user", "multi-turn", "system-multi-turn", "whitespace", "unicode", "empty-content", "system-only"]),
        (.zephyr, "zephyr", "<s>", "</s>", ["user", "system-user", "multi-turn", "system-multi-turn", "whitespace", "unicode", "empty-content", "system-only", "roles-not-alternating"]),
    ]

    @Test(arguments: table.map { $0.0 })
    func builtinMatchesThePublishedTemplate(_ template: ChatTemplate) throws {
        let fixtures = try TemplateFixtures.load()
        let row = Self.table.first { $0.0 == template }!
        var compared = 0
        for c in fixtures.cases where c.template == row.1 && row.4.contains(c.conversation) {
            guard let expected = c.output else { continue }
            let messages = fixtures.conversations[c.conversation]!.messages.map { ChatMessage(role: $0.role, content: $0.content ?? "") }
            let ours = template.render(messages, addGenerationPrompt: c.add_generation_prompt, bos: row.2, eos: row.3)
            #expect(ours == expected, "\(template.rawValue) on \(c.conversation) (generation prompt \(c.add_generation_prompt))")
            compared += 1
        }
        #expect(compared >= 2 * row.4.count - 2, "only \(compared) cases compared")
    }

    @Test func everyBuiltinIsCovered() {
        #expect(Set(Self.table.map { $0.0 }) == Set(ChatTemplate.allCases))
    }

    @Test(arguments: [
        ("smollm2-instruct", ChatTemplate.chatml), ("llama-2-chat", .llama2), ("llama-3-instruct", .llama3),
        ("llama-3.1-instruct", .llama3), ("mistral-7b-instruct-v0.1", .llama2), ("mistral-instruct-v1-system", .mistralV1), ("mistral-7b-instruct-v0.3", .mistralV3),
        ("mistral-small-24b-instruct-2501", .mistralV7), ("gemma-3-it", .gemma), ("gemma-2-it", .gemma),
        ("phi-3-mini", .phi3), ("zephyr", .zephyr), ("qwen2.5-instruct", .chatml),
    ])
    func detectionFromTheJinjaText(file: String, expected: ChatTemplate) throws {
        let url = try fixtureURL("Fixtures/templates/\(file)", "jinja")
        #expect(ChatTemplate.detect(fromJinja: try String(contentsOf: url, encoding: .utf8)) == expected)
    }

    @Test func modelsOwnTemplateRendersLikeJinja2() throws {
        let fixtures = try TemplateFixtures.load()
        let format = ChatFormat.forModel(try ReferenceModel.load())
        var compared = 0
        for c in fixtures.cases where c.template == "smollm2-instruct" {
            guard let expected = c.output else { continue }
            let messages = fixtures.conversations[c.conversation]!.messages.map { ChatMessage(role: $0.role, content: $0.content ?? "") }
            #expect(try format.render(messages, addGenerationPrompt: c.add_generation_prompt) == expected, "\(c.conversation)")
            compared += 1
        }
        #expect(compared >= 20)
        #expect(format.takeNotice() == nil)
    }

    @Test func templateThatDoesNotCompileFallsBackToTheDetectedFormat() throws {
        let format = ChatFormat.jinja("{% for m in messages %}<|im_start|>{{ m.content }", name: "broken", bos: nil, eos: nil)
        #expect(try format.render([.user("hi")]) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        let notice = try #require(format.takeNotice())
        #expect(notice.contains("broken") && notice.contains("chatml"))
        #expect(format.takeNotice() == nil)
    }

    @Test func templateThatFailsToRenderFallsBackAndSaysSoOnce() throws {
        let format = ChatFormat.jinja("{{ raise_exception('no system role') }}[INST]<<SYS>>", name: "strict", bos: "<s>", eos: "</s>")
        #expect(try format.render([.user("hi")]) == "<s>[INST] hi [/INST]")
        #expect(format.takeNotice()?.contains("no system role") == true)
        _ = try format.render([.user("again")])
        #expect(format.takeNotice() == nil)
    }

    // MARK: the template's default system prompt

    @Test(arguments: [
        ("qwen2.5-instruct", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
        ("smollm2-instruct", "You are a helpful AI assistant named SmolLM, trained by Hugging Face"),
        ("llama-3-instruct", nil), ("llama-2-chat", nil), ("gemma-3-it", nil), ("phi-3-mini", nil), ("zephyr", nil),
    ] as [(String, String?)])
    func defaultSystemPromptOfARealTemplate(file: String, expected: String?) throws {
        let source = try String(contentsOf: try fixtureURL("Fixtures/templates/\(file)", "jinja"), encoding: .utf8)
        let format = ChatFormat.jinja(source, name: file, bos: "<s>", eos: "</s>")
        #expect(format.defaultSystemPrompt == expected)
        #expect(format.takeNotice() == nil)
    }

    @Test func minimalChatMLWithADefaultSystemPromptIsFound() {
        let source = """
            {%- if messages[0].role != 'system' %}<|im_start|>system\nBe brief.<|im_end|>\n{% endif %}\
            {%- for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}
            """
        #expect(ChatFormat.jinja(source, name: "t", bos: nil, eos: nil).defaultSystemPrompt == "Be brief.")
    }

    @Test(arguments: ChatTemplate.allCases)
    func builtinFormatsWriteNoDefaultSystemPrompt(_ template: ChatTemplate) {
        #expect(ChatFormat.builtin(template).defaultSystemPrompt == nil)
    }

    @Test func aTemplateThatRefusesSystemMessagesHasNoDefaultAndPostsNothing() throws {
        // Gemma 2 raises on a system message: the probe gets nil, and no fallback notice is posted
        let source = try String(contentsOf: try fixtureURL("Fixtures/templates/gemma-2-it", "jinja"), encoding: .utf8)
        let format = ChatFormat.jinja(source, name: "gemma-2", bos: "<bos>", eos: "<eos>")
        #expect(format.defaultSystemPrompt == nil)
        #expect(format.takeNotice() == nil)
    }

    // MARK: completion mode

    @Test func aModelWithoutATemplateGetsCompletionMode() throws {
        let gemma = try ReferenceModel.load(ReferenceModel.gemmaPath)  // Gemma 3 270M, a base model
        #expect(gemma.chatTemplate == nil)
        let format = ChatFormat.forModel(gemma)
        #expect(format.isCompletion && format.name == "completion")
        #expect(try format.render([.user("The capital of France is")]) == "The capital of France is")
        // BOS as the tokenizer says (Gemma adds it), then the plain text
        let tokens = try format.promptTokens([.user("The capital of France is")], tokenizer: gemma.tokenizer)
        let t = gemma.tokenizer
        #expect(t.addsBOS)
        #expect(tokens == [t.bos!] + t.encode("The capital of France is", addSpecial: false))
        #expect(!t.decode(tokens, renderSpecial: true).contains("<start_of_turn>"))
        // the guessed chat format is still there by name
        let named = try ChatFormat.named("gemma", for: gemma)
        #expect(!named.isCompletion)
        #expect(try named.render([.user("hi")]).contains("<start_of_turn>user"))
        #expect(ChatFormat.likelyTemplate(for: gemma) == .gemma)
        #expect(try ChatFormat.named("model", for: gemma).isCompletion)
        // a chat model keeps its template; "completion" picks plain text for it too
        let smol = try ReferenceModel.load()
        #expect(!ChatFormat.forModel(smol).isCompletion)
        #expect(try ChatFormat.named("completion", for: smol).isCompletion)
    }

    @Test func completionTextJoinsTheTurnsWithoutMarkers() throws {
        let format = ChatFormat.completion
        let messages: [ChatMessage] = [.system("A story."), .user("Once upon a time"), .assistant(", a fox lived."),
                                       .user("The end."), .assistant(" Really."), .user(" And again")]
        #expect(try format.render(messages) == "A story.\n\nOnce upon a time, a fox lived.\nThe end. Really. And again")
        #expect(format.defaultSystemPrompt == nil)
    }
}
