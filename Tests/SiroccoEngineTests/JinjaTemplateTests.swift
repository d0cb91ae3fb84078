// JinjaTemplateTests: the Jinja interpreter against Python's jinja2.
// Goldens: Fixtures/templates/expected.json, written by scripts/render_templates.py with jinja2
// configured as transformers configures it — real published chat templates over a set of
// conversations, and small snippets pinning single language features. Every output must be
// byte-identical; every error jinja2 raised must be raised here too (raise_exception with the
// same message). Hand-written tests below cover the pieces and the error reporting.

import Foundation
import Testing
@testable import SiroccoEngine

/// Text compared byte for byte (Swift's `==` on String treats canonically equivalent text as
/// equal; jinja2's output must match exactly), printed escaped when a comparison fails.
struct ExactText: Equatable, CustomTestStringConvertible {
    let text: String
    init(_ text: String) { self.text = text }
    static func == (a: ExactText, b: ExactText) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }
    var testDescription: String { text.debugDescription }
}

/// One golden: a template, its variables, and what jinja2 produced.
struct JinjaGolden: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable {
        case output(String)
        /// `raise_exception(message)`.
        case raised(String)
        /// Any other jinja2 failure (UndefinedError, TypeError, …); the text is Python's message.
        case failure(String)
        /// jinja2 rejected the template itself, on this line.
        case syntax(line: Int, message: String)
    }

    let name: String
    let source: String
    let context: [String: JinjaValue]
    let expected: Expected

    var testDescription: String { name }
}

enum JinjaGoldens {
    /// The instant scripts/render_templates.py fixes for `strftime_now` (2025-01-31 14:05:09 local).
    static let now: Date = {
        var components = DateComponents(year: 2025, month: 1, day: 31, hour: 14, minute: 5, second: 9)
        components.timeZone = TimeZone.current
        return Calendar(identifier: .gregorian).date(from: components)!
    }()

    static func fixtureDirectory() throws -> URL {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/templates/expected", withExtension: "json"))
        return url.deletingLastPathComponent()
    }

    static func document() throws -> JinjaObject {
        let data = try Data(contentsOf: fixtureDirectory().appendingPathComponent("expected.json"))
        guard case .object(let root) = try JinjaValue(json: String(decoding: data, as: UTF8.self)) else {
            throw JinjaError.invalidJSON(offset: 0, message: "expected.json is not an object")
        }
        return root
    }

    static func expected(_ entry: JinjaObject) -> JinjaGolden.Expected {
        if case .string(let output)? = entry["output"] { return .output(output) }
        guard case .object(let error)? = entry["error"], case .string(let kind)? = error["kind"],
              case .string(let message)? = error["message"] else { return .failure("malformed golden") }
        switch kind {
        case "raise": return .raised(message)
        case "syntax":
            guard case .int(let line)? = error["line"] else { return .failure(message) }
            return .syntax(line: line, message: message)
        default: return .failure(message)
        }
    }

    /// Every published template × conversation × add_generation_prompt.
    static func templateCases() throws -> [JinjaGolden] {
        let root = try document()
        let directory = try fixtureDirectory()
        guard case .object(let templates)? = root["templates"], case .object(let conversations)? = root["conversations"],
              case .array(let cases)? = root["cases"] else { return [] }
        var sources: [String: String] = [:]
        return try cases.map { value in
            guard case .object(let entry) = value, case .string(let templateName)? = entry["template"],
                  case .string(let conversationName)? = entry["conversation"],
                  case .bool(let addGenerationPrompt)? = entry["add_generation_prompt"],
                  case .object(let template)? = templates[templateName], case .string(let file)? = template["file"],
                  case .object(let conversation)? = conversations[conversationName] else {
                throw JinjaError.invalidJSON(offset: 0, message: "malformed case in expected.json")
            }
            if sources[file] == nil {
                let data = try Data(contentsOf: directory.appendingPathComponent(file))
                sources[file] = String(decoding: data, as: UTF8.self)
            }
            var context: [String: JinjaValue] = [
                "messages": conversation["messages"] ?? .array([]),
                "tools": conversation["tools"] ?? .none,
                "documents": .none,
                "add_generation_prompt": .bool(addGenerationPrompt),
            ]
            for token in ["bos_token", "eos_token"] {
                if case .string(let text)? = template[token] { context[token] = .string(text) }
            }
            return JinjaGolden(name: "\(templateName) / \(conversationName) / add_generation_prompt=\(addGenerationPrompt)",
                               source: sources[file]!, context: context, expected: expected(entry))
        }
    }

    /// The one-feature snippets.
    static func snippetCases() throws -> [JinjaGolden] {
        guard case .array(let snippets)? = try document()["snippets"] else { return [] }
        return snippets.compactMap { value in
            guard case .object(let entry) = value, case .string(let name)? = entry["name"],
                  case .string(let source)? = entry["template"], case .object(let context)? = entry["context"] else { return nil }
            var variables: [String: JinjaValue] = [:]
            for pair in context.pairs { variables[pair.key] = pair.value }
            return JinjaGolden(name: name, source: source, context: variables, expected: expected(entry))
        }
    }

    /// Checks one golden: same bytes, or the same kind of failure.
    static func check(_ golden: JinjaGolden) throws {
        let render = { try JinjaTemplate(golden.source).render(golden.context, now: now) }
        switch golden.expected {
        case .output(let expected):
            let output = ExactText(try render())
            #expect(output == ExactText(expected), "\(golden.name)")
        case .raised(let message):
            #expect(throws: JinjaError.raised(message: message)) { try render() }
        case .syntax(let expectedLine, let message):
            do {
                _ = try JinjaTemplate(golden.source)
                Issue.record("\(golden.name): jinja2 rejected the template (line \(expectedLine): \(message)) but this compiled it")
            } catch JinjaError.syntax(let line, _) {
                #expect(line == expectedLine, "\(golden.name): \(message)")
            }
        case .failure(let message):
            do {
                let output = try render()
                Issue.record("\(golden.name): jinja2 failed (\(message)) but this rendered \(output.debugDescription)")
            } catch let error as JinjaError {
                if case .raised = error { Issue.record("\(golden.name): expected \(message), got \(error)") }
            }
        }
    }
}

@Suite("Jinja templates match Python's jinja2")
struct JinjaTemplateTests {
    // MARK: - goldens from jinja2

    @Test("published chat templates render byte-identically", arguments: try JinjaGoldens.templateCases())
    func publishedTemplate(_ golden: JinjaGolden) throws {
        try JinjaGoldens.check(golden)
    }

    @Test("language snippets render byte-identically", arguments: try JinjaGoldens.snippetCases())
    func languageSnippet(_ golden: JinjaGolden) throws {
        try JinjaGoldens.check(golden)
    }

    @Test func goldensCoverEveryTemplate() throws {
        let cases = try JinjaGoldens.templateCases()
        #expect(cases.count >= 16 * 22)
        #expect(Set(cases.map { $0.name.split(separator: "/")[0] }).count == 16)
        #expect(cases.contains { if case .raised = $0.expected { return true }; return false })
        #expect(try JinjaGoldens.snippetCases().count >= 60)
    }

    // MARK: - whitespace control

    private func render(_ source: String, _ context: [String: JinjaValue] = [:]) throws -> String {
        try JinjaTemplate(source).render(context)
    }

    @Test func trimBlocksDropsTheNewlineAfterABlockTag() throws {
        #expect(try render("{% if true %}\nyes\n{% endif %}\nafter") == "yes\nafter")
        #expect(try render("{{ 'x' }}\nkept") == "x\nkept")
    }

    @Test func lstripBlocksDropsIndentationBeforeABlockTag() throws {
        #expect(try render("a\n    {% if true %}\n    b\n    {% endif %}\nc") == "a\n    b\nc")
        #expect(try render("a\n    {%+ if true %}b{% endif %}") == "a\n    b")
        #expect(try render("a {% if true %}b{% endif %}") == "a b")
    }

    @Test func dashesStripAllAdjacentWhitespace() throws {
        #expect(try render("a \n {%- if true -%} \n b \n {%- endif -%} \n c") == "abc")
        #expect(try render("a  {{- 'b' -}}  c") == "abc")
    }

    @Test func oneTrailingNewlineIsDropped() throws {
        #expect(try render("x\n") == "x")
        #expect(try render("x\n\n") == "x\n")
        #expect(try render("a\r\nb") == "a\nb")
    }

    // MARK: - statements

    @Test func loopVariables() throws {
        let source = "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}"
        #expect(try render(source, ["xs": ["a", "b"]]) == "102TrueFalse2|211FalseTrue2|")
        #expect(try render("{% for x in xs if x > 1 %}{{ loop.index }}{{ x }}{% else %}none{% endfor %}", ["xs": [1, 2, 3]]) == "1223")
        #expect(try render("{% for x in [] %}a{% else %}none{% endfor %}") == "none")
        #expect(try render("{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}", ["d": ["b": 1, "a": 2]]) == "b1a2")
    }

    @Test func setInsideALoopStaysInTheLoopButNamespacesCarryOut() throws {
        #expect(try render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{% endfor %}{{ x }}") == "1")
        let source = "{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"
        #expect(try render(source) == "6")
    }

    @Test func macrosTakeDefaultsAndKeywords() throws {
        let source = "{% macro tag(name, close=true) %}<{{ name }}>{% if close %}</{{ name }}>{% endif %}{% endmacro %}{{ tag('a') }}{{ tag('b', close=false) }}"
        #expect(try render(source) == "<a></a><b>")
    }

    @Test func breakAndContinue() throws {
        #expect(try render("{% for i in range(6) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}") == "023")
    }

    // MARK: - expressions

    @Test func valuesPrintLikePython() throws {
        #expect(try render("{{ none }} {{ true }} {{ 1.0 }} {{ 1e16 }} {{ 1e-5 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 % 3 }}") == "None True 1.0 1e+16 1e-05 3.5 3 2")
        #expect(try render("{{ ['a', \"it's\", 1, none, {'k': false}] }}") == "['a', \"it's\", 1, None, {'k': False}]")
        #expect(try render("{{ missing }}|{{ d.missing }}", ["d": [:]]) == "|")
    }

    @Test func slicingAndIndexingUseCodePoints() throws {
        #expect(try render("{{ s[::-1] }} {{ s[1:] }} {{ s[-1] }} {{ s | length }}", ["s": "a👍🏽"]) == "🏽👍a 👍🏽 🏽 3")
        #expect(try render("{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::2] }} {{ xs[9] }}|", ["xs": [1, 2, 3]]) == "[2, 3] [1, 2] [1, 3] |")
    }

    @Test func testsFollowPythonTypes() throws {
        #expect(try render("{{ 1 is number }} {{ true is integer }} {{ 'a' is sequence }} {{ x is defined }} {{ none is none }} {{ 3 is odd }}") == "True False True False True True")
        #expect(try render("{{ raise_exception is defined }} {{ 'x' is equalto 'x' }} {{ 2 is not eq 3 }}") == "True True True")
    }

    @Test func filters() throws {
        #expect(try render("{{ '  x ' | trim }}|{{ 'ab' | upper }}|{{ [3, 1] | sort | join(',') }}|{{ 'a-b' | replace('-', '+') }}") == "x|AB|1,3|a+b")
        #expect(try render("{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}",
                           ["ms": .messages([("user", "a"), ("assistant", "b"), ("user", "c")])]) == "['a', 'c']")
        #expect(try render("{{ x | default('d') }} {{ '3' | int + 1 }} {{ [1, 2] | first }} {{ {'b': 1, 'a': 2} | dictsort | first | first }}") == "d 4 1 a")
    }

    @Test func tojsonIsTransformersJSONDumps() throws {
        let value: JinjaValue = ["b": [1, 2.5, nil, true], "a": "<é>"]
        #expect(try render("{{ v | tojson }}", ["v": value]) == "{\"b\": [1, 2.5, null, true], \"a\": \"<é>\"}")
        #expect(try render("{{ v | tojson(indent=2) }}", ["v": ["k": []]]) == "{\n  \"k\": []\n}")
    }

    @Test func jsonParsingKeepsKeyOrderAndNumberKinds() throws {
        let value = try JinjaValue(json: #"{"z": 1, "a": [1.5, "x\u00e9\ud83c\udf0d", null, false], "m": {}}"#)
        #expect(try render("{{ v | tojson }}", ["v": value]) == #"{"z": 1, "a": [1.5, "xé🌍", null, false], "m": {}}"#)
        #expect(throws: JinjaError.self) { try JinjaValue(json: "{\"a\": }") }
    }

    // MARK: - errors

    @Test func syntaxErrorsReportTheirLine() throws {
        func line(of source: String) -> Int? {
            do {
                _ = try JinjaTemplate(source)
            } catch JinjaError.syntax(let line, _) {
                return line
            } catch {}
            return nil
        }
        #expect(line(of: "one\ntwo\n{% endfor %}") == 3)
        #expect(line(of: "{% if x %}\n\n{{ 1 + }}\n{% endif %}") == 3)
        #expect(line(of: "{% for x in xs %}\n\n") == 1)
        #expect(line(of: "a\n{{ x | nosuchfilter }}") == 2)
        #expect(line(of: "{{ 'unterminated }}") == 1)
        #expect(line(of: "{% if true %}ok{% endif %}") == nil)
    }

    @Test func raiseExceptionCarriesTheTemplateMessage() throws {
        let template = try JinjaTemplate("{% if messages[0].role != 'user' %}{{ raise_exception('Roles must start with user, got ' ~ messages[0].role) }}{% endif %}")
        #expect(throws: JinjaError.raised(message: "Roles must start with user, got system")) {
            try template.render(["messages": .messages([("system", "s")])])
        }
        #expect(try template.render(["messages": .messages([("user", "u")])]) == "")
    }

    @Test func undefinedFailsOnlyWhereJinja2Does() throws {
        #expect(throws: JinjaError.self) { try self.render("{{ missing.attribute }}") }
        #expect(throws: JinjaError.self) { try self.render("{{ d.x + 1 }}", ["d": [:]]) }
        #expect(throws: JinjaError.self) { try self.render("{{ 'a' + 1 }}") }
        #expect(try render("{{ d.x ~ 'a' }}{{ d.x | length }}{{ 'a' in d.x }}", ["d": [:]]) == "a0False")
    }

    @Test func runtimeErrorsReportTheirLine() throws {
        let template = try JinjaTemplate("line 1\n{{ 'a' }}\n{{ 1 + none }}")
        #expect(throws: JinjaError.runtime(line: 3, message: "unsupported operand type(s) for +: 'int' and 'NoneType'")) {
            try template.render([:])
        }
    }

    @Test func unsupportedFeaturesAreNamed() throws {
        #expect(throws: JinjaError.unsupported(line: 1, feature: "the 'include' tag")) { try JinjaTemplate("{% include 'x' %}") }
        #expect(throws: JinjaError.unsupported(line: 2, feature: "the 'groupby' filter")) { try JinjaTemplate("\n{{ x | groupby('a') }}") }
    }

    // MARK: - API

    @Test func renderChatPassesTransformersVariables() throws {
        let template = try JinjaTemplate("{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}{{ tools is none }}{{ eos_token is defined }}")
        let text = try template.renderChat([.system("s"), .user("u")], addGenerationPrompt: true, bosToken: "<s>", eosToken: nil)
        #expect(text == "<s><system>s<user>u<assistant>TrueFalse")
    }

    @Test func strftimeNowUsesTheGivenClock() throws {
        let text = try JinjaTemplate("{{ strftime_now('%Y-%m-%d %d %b %Y %H:%M') }}").render([:], now: JinjaGoldens.now)
        #expect(text == "2025-01-31 31 Jan 2025 14:05")
    }

    @Test(arguments: [
        (1.0, "1.0"), (0.1, "0.1"), (1e16, "1e+16"), (1e15, "1000000000000000.0"), (123456789.0, "123456789.0"),
        (0.0001, "0.0001"), (0.00001, "1e-05"), (1.5e-7, "1.5e-07"), (-2.5, "-2.5"), (0.0, "0.0"), (-0.0, "-0.0"),
        (1.0 / 3.0, "0.3333333333333333"), (2.0e300, "2e+300"), (Double.infinity, "inf"),
    ])
    func floatsPrintAsPythonRepr(_ value: Double, _ expected: String) {
        #expect(JinjaValue.pythonFloatRepr(value) == expected)
    }
}
