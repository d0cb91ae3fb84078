// A chat template is code from a stranger: every hostile template found by hand (issue 14) is
// stopped by a limit with a one-line error, on any thread that renders, and quickly.

import Foundation
import Testing
@testable import SiroccoEngine

@Suite struct JinjaLimitsTests {
    /// Compiles and renders `source` on a thread with a 512 KiB stack (Swift concurrency's size,
    /// the smallest a renderer may have); returns the output or the error.
    static func renderOnSmallStack(_ source: String) -> Result<String, Error> {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try JinjaTemplate(source).render(["messages": .messages([ChatMessage.user("hi")])]) }
            done.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        done.wait()
        return box.result!
    }

    static func expectLimit(_ source: String, naming limit: String, sourceLocation: SourceLocation = #_sourceLocation) {
        switch renderOnSmallStack(source) {
        case .success(let out):
            Issue.record("rendered \(out.utf8.count) bytes instead of stopping", sourceLocation: sourceLocation)
        case .failure(let error):
            guard case JinjaError.limit(_, let what) = error else {
                Issue.record("\(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(what.contains(limit), "\(what)", sourceLocation: sourceLocation)
            #expect(!"\(error)".contains("\n"), sourceLocation: sourceLocation)
        }
    }

    @Test func aMacroThatCallsItselfStops() {
        Self.expectLimit("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", naming: "macro call depth")
    }

    @Test func deepFiniteRecursionStopsAndShallowRecursionWorks() throws {
        let countdown = "{% macro f(n) %}{% if n > 0 %}{{ n }},{{ f(n - 1) }}{% endif %}{% endmacro %}"
        Self.expectLimit(countdown + "{{ f(1500) }}", naming: "macro call depth")
        #expect(try Self.renderOnSmallStack(countdown + "{{ f(40) }}").get() == (1...40).reversed().map { "\($0)," }.joined())
    }

    @Test func deepNestingIsRefusedByTheParser() throws {
        Self.expectLimit("{{ " + String(repeating: "(", count: 20_000) + "1" + String(repeating: ")", count: 20_000) + " }}",
                         naming: "nesting depth")
        Self.expectLimit(String(repeating: "{% if true %}", count: 20_000) + "x" + String(repeating: "{% endif %}", count: 20_000),
                         naming: "nesting depth")
        Self.expectLimit("{{ " + String(repeating: "not ", count: 20_000) + "x }}", naming: "nesting depth")
        Self.expectLimit("{{ " + String(repeating: "-", count: 20_000) + "1 }}", naming: "nesting depth")
        // a sane depth still works
        #expect(try Self.renderOnSmallStack("{{ " + String(repeating: "(", count: 30) + "1" + String(repeating: ")", count: 30) + " }}").get() == "1")
    }

    @Test func hugeStringsAndListsAreRefusedBeforeTheyAreBuilt() {
        Self.expectLimit("{{ 'a' * 100000000000 }}", naming: "MiB of text built")
        Self.expectLimit("{{ ([1] * 1000000000)|length }}", naming: "MiB of text built")
        Self.expectLimit("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
                         naming: "MiB of text built")
        Self.expectLimit("{{ 'x'|center(100000000000) }}", naming: "MiB of text built")
        Self.expectLimit("{{ 'x'.ljust(100000000000) }}", naming: "MiB of text built")
        Self.expectLimit("{{ ('a' * 1000000).replace('', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb') }}",
                         naming: "MiB of text built")
        Self.expectLimit("{{ ('a' * 10000000)|join('b' * 100) }}", naming: "MiB of text built")
        Self.expectLimit("{{ '%100000000000s' % 'x' }}", naming: "MiB of text built")
        Self.expectLimit("{{ '{:>100000000000}'.format('x') }}", naming: "MiB of text built")
        Self.expectLimit("{{ 'x'|indent(100000000000, true) }}", naming: "MiB of text built")
        Self.expectLimit("{{ messages|tojson(indent=100000000000) }}", naming: "MiB of text built")
        // a width past Int is an error, not an overflow trap
        if case .failure(let error) = Self.renderOnSmallStack("{{ '%99999999999999999999999s' % 'x' }}") {
            #expect("\(error)".contains("too large"), "\(error)")
        } else {
            Issue.record("a 23-digit width was accepted")
        }
    }

    @Test func endlessLoopsStopAtTheStepBudget() {
        Self.expectLimit("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", naming: "evaluation steps")
    }

    @Test func outputOfAConversationScalesWithItsInput() throws {
        // 20 MB of user text renders through ChatML: the allowance grows with the input
        let big = String(repeating: "word ", count: 4_000_000)
        let template = try JinjaTemplate("{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}")
        let out = try template.render(["messages": .messages([ChatMessage.user(big), ChatMessage.assistant("ok")])])
        #expect(out.utf8.count == big.utf8.count + 63)
    }

    @Test func aHostileModelTemplateFallsBackWithANote() throws {
        let format = ChatFormat.jinja("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}{{ '<|im_start|>' }}", name: "model template",
                                      bos: nil, eos: nil)
        let prompt = try format.render([.user("hi")])
        #expect(prompt == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        let notice = format.takeNotice() ?? ""
        #expect(notice.contains("macro call depth") && notice.contains("using the built-in chatml format"), "\(notice)")
    }
}

private final class ResultBox: @unchecked Sendable {
    var result: Result<String, Error>?
}
