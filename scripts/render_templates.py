#!/usr/bin/env python3
"""Render the chat-template fixtures with Python's jinja2, as Hugging Face transformers does.

Writes Tests/SiroccoEngineTests/Fixtures/templates/expected.json: for every template in that folder
(*.jinja, the Jinja source exactly as the model ships it) rendered over every conversation with
add_generation_prompt true and false, the expected output or the expected error; plus "snippets",
small templates that pin down single language features. The Swift tests (JinjaTemplateTests)
render the same inputs with SiroccoEngine's Jinja interpreter and demand byte-identical output.

The environment mirrors transformers' `_compile_jinja_template` (utils/chat_template_utils.py):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the loopcontrols
extension, `raise_exception` raising TemplateError, a `tojson` filter that is plain json.dumps
(ensure_ascii=False, no HTML escaping, keys unsorted) and `strftime_now`. The clock is fixed
(FIXED_NOW) so outputs are reproducible; the Swift tests pass the same instant.

Needs jinja2 (3.1.x). Run from anywhere: python3 scripts/render_templates.py
"""

import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "SiroccoEngineTests", "Fixtures", "templates")
FIXED_NOW = datetime.datetime(2025, 1, 31, 14, 5, 9)

# bos/eos as each model's tokenizer sets them; None means the model has no such token, so the
# name is not passed to the template at all (transformers passes only the tokens that are set).
TEMPLATES = {
    "mistral-7b-instruct-v0.1": ("<s>", "</s>"),
    "mistral-7b-instruct-v0.2": ("<s>", "</s>"),
    "mistral-instruct-v1-system": ("<s>", "</s>"),
    "mistral-7b-instruct-v0.3": ("<s>", "</s>"),
    "mistral-small-24b-instruct-2501": ("<s>", "</s>"),
    "llama-2-chat": ("<s>", "</s>"),
    "llama-3-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama-3.1-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2.5-instruct": (None, "<|im_end|>"),
    "gemma-2-it": ("<bos>", "<eos>"),
    "gemma-3-it": ("<bos>", "<eos>"),
    "phi-3-mini": ("<s>", "<|endoftext|>"),
    "zephyr": ("<s>", "</s>"),
    "smollm2-instruct": ("<|im_start|>", "<|im_end|>"),
    # two more published templates that lean on macros, recursion, loop.previtem/nextitem,
    # namespaces and str.split
    "hermes-3-llama-3.1-tool-use": ("<|begin_of_text|>", "<|im_end|>"),
    "deepseek-r1-distill-qwen": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
}


def system(text):
    return {"role": "system", "content": text}


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a <city> & its 'region' — e.g. Zürich.",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
                },
                "required": ["location"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {"name": "get_time", "description": "Current time", "parameters": {}},
    },
]

WEATHER_CALL = {
    "role": "assistant",
    "tool_calls": [
        {
            "id": "call12345",
            "type": "function",
            "function": {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}},
        }
    ],
}
WEATHER_RESULT = {
    "role": "tool",
    "tool_call_id": "call12345",
    "name": "get_weather",
    "content": '{"temperature": 22, "sky": "clear"}',
}

CONVERSATIONS = {
    "user": {"messages": [user("Hello!")]},
    "system-user": {"messages": [system("You are a helpful assistant."), user("What is the capital of France?")]},
    "multi-turn": {
        "messages": [user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")]
    },
    "system-multi-turn": {
        "messages": [
            system("You are terse."),
            user("2+2?"),
            assistant("4"),
            user("And 3+3?"),
            assistant("6"),
        ]
    },
    "whitespace": {
        "messages": [
            system("  Be brief.  \n"),
            user("  leading and trailing spaces  "),
            assistant("\n\nnewlines around\n\n"),
            user("tabs\tinside\nand a newline\n"),
        ]
    },
    "unicode": {
        "messages": [
            user("Héllo wörld — 你好 🌍 ñ"),
            assistant("Ça va? ✓ «quotes» 'single' \"double\" \\backslash"),
            user("emoji 👍🏽 RTL עברית, <tags> & ampersands"),
        ]
    },
    "empty-content": {"messages": [user(""), assistant(""), user("")]},
    "reasoning": {
        "messages": [
            user("What is 2+2?"),
            assistant("<think>\nEasy: 2+2=4.\n</think>\n\nIt is 4."),
            user("And doubled?"),
        ]
    },
    "roles-not-alternating": {"messages": [user("one"), user("two")]},
    "tools": {
        "messages": [
            system("You can check the weather."),
            user("What's the weather in Paris?"),
            WEATHER_CALL,
            WEATHER_RESULT,
            assistant("It is 22 °C and clear in Paris."),
            user("Thanks!"),
        ],
        "tools": TOOLS,
    },
    "tools-first-turn": {"messages": [user("Weather in Tokyo?")], "tools": TOOLS},
    "tools-string-arguments": {
        "messages": [
            user("Time and weather in Oslo?"),
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "call00001", "type": "function",
                     "function": {"name": "get_time", "arguments": "{}"}},
                    {"id": "call00002", "type": "function",
                     "function": {"name": "get_weather", "arguments": '{"location": "Oslo"}'}},
                ],
            },
            {"role": "tool", "tool_call_id": "call00001", "content": "12:00"},
            {"role": "tool", "tool_call_id": "call00002", "content": "-3 °C"},
        ],
        "tools": TOOLS,
    },
    "system-only": {"messages": [system("Only a system prompt.")]},
}

# Small templates, one language feature each; their outputs pin jinja2's exact behaviour.
SNIPPETS = [
    ("trim-blocks", "{% if true %}\nyes\n{% endif %}\nafter\n", {}),
    ("lstrip-blocks", "line\n    {% if true %}\n    indented\n    {% endif %}\nend", {}),
    ("lstrip-not-for-variables", "a\n    {{ 'x' }}\n  {# c #}\nb", {}),
    ("lstrip-only-whitespace-before", "text {% if true %}kept{% endif %}\n", {}),
    ("dash-trims-both-sides", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c", {}),
    ("plus-disables-lstrip", "x\n    {%+ if true %}y{% endif %}", {}),
    ("plus-keeps-newline", "{% if true +%}\ny{% endif %}", {}),
    ("variable-dashes", "a  {{- 'b' -}}  c\n\n{{- 'd' }}", {}),
    ("comment-trim", "a\n{# comment #}\nb\n  {#- c -#}  \nc", {}),
    ("raw-block", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}\n!", {}),
    ("trailing-newline-dropped", "hello\n", {}),
    ("only-one-trailing-newline-dropped", "hello\n\n", {}),
    ("crlf-source", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc", {}),
    ("loop-variables",
     "{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}"
     "/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}", {"xs": ["a", "b", "c"]}),
    ("loop-prev-next",
     "{% for x in xs %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{% endfor %}", {"xs": [1, 2, 3]}),
    ("loop-cycle", "{% for x in xs %}{{ loop.cycle('odd', 'even') }} {% endfor %}", {"xs": [1, 2, 3]}),
    ("loop-else", "{% for x in xs %}{{ x }}{% else %}empty{% endfor %}", {"xs": []}),
    ("loop-filter", "{% for x in xs if x is odd %}{{ loop.index }}:{{ x }} {% endfor %}", {"xs": [1, 2, 3, 4, 5]}),
    ("loop-unpacking", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("loop-over-dict", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"x": 1, "y": 2}}),
    ("loop-over-string", "{% for c in 'héy' %}[{{ c }}]{% endfor %}", {}),
    ("loop-nested", "{% for a in [1,2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("loop-break-continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop-scoping", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}", {}),
    ("namespace", "{% set ns = namespace(found=false, n=0) %}{% for m in ms %}{% if m == 'b' %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.found }} {{ ns.n }}", {"ms": ["a", "b", "c"]}),
    ("set-tuple", "{% set a, b = 1, 'two' %}{{ a }} {{ b }}", {}),
    ("set-block", "{% set body %}\n  hi {{ name }}\n{% endset %}[{{ body }}]", {"name": "x"}),
    ("if-elif-else", "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %} {% endfor %}", {}),
    ("inline-if", "{{ 'yes' if flag else 'no' }} {{ 'only' if not flag }}|", {"flag": True}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', punct='?') }} {{ greet(name='Cy') }}", {}),
    ("literals", "{{ 'a\\'b' }} {{ \"c\\\"d\" }} {{ 'tab\\tnl\\n' }} {{ '\\u00e9\\x41' }} {{ 42 }} {{ -7 }} {{ 3.25 }} {{ 1e3 }} {{ 0x1F }} {{ 1_000 }} {{ true }} {{ False }} {{ none }} {{ None }}", {}),
    ("adjacent-strings", "{{ 'a' 'b' \"c\" }}", {}),
    ("print-containers", "{{ [1, 'a', none, true, 1.0, {'k': \"it's\"}, [2.5]] }} {{ {'a': 1, 'b': [none]} }} {{ [] }} {{ {} }}", {}),
    ("print-floats", "{{ 1/2 }} {{ 4/2 }} {{ 1e20 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 0.1 + 0.2 }} {{ 2.0 * 3 }} {{ -0.0 }} {{ 123456789.123 }}", {}),
    ("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7.5 // 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1 + 2 * 3 - 4 }} {{ (1 + 2) * 3 }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 1 + 1.5 }} {{ true + 1 }}", {}),
    ("concat", "{{ 'a' ~ 1 ~ none ~ true ~ [1] ~ missing }}", {}),
    ("comparisons", "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'abc' < 'abd' }} {{ [1, 2] < [1, 3] }} {{ {'a': 1} == {'a': 1.0} }} {{ none == none }} {{ 2 >= 2 }} {{ 1 <= 0 }}", {}),
    ("logic-returns-operands", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}| {{ none or [] }} {{ not 0 }} {{ not 'x' }}", {}),
    ("membership", "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in [1, 2] }} {{ 1.0 in [1] }}", {}),
    ("slicing", "{{ 'hello'[1:] }} {{ 'hello'[:-1] }} {{ 'hello'[::-1] }} {{ 'hello'[1:4:2] }} {{ xs[1:] }} {{ xs[-2:] }} {{ xs[::2] }} {{ xs[5:] }} {{ xs[-1] }} {{ 'héllo'[1] }} {{ xs[10] }}|", {"xs": [1, 2, 3, 4]}),
    ("attribute-and-item", "{{ m.role }} {{ m['content'] }} {{ m.missing }}|{{ xs.0 }} {{ m['nested']['k'] }} {{ m.nested.k }}", {"m": {"role": "user", "content": "hi", "nested": {"k": "v"}}, "xs": ["first"]}),
    ("undefined-printing", "[{{ missing }}][{{ m.nope }}][{{ m.nope | default('dflt') }}][{{ missing | length }}][{{ missing | trim }}]", {"m": {}}),
    ("undefined-tests", "{{ missing is defined }} {{ missing is undefined }} {{ m.x is defined }} {{ m.x is none }} {{ m.x is iterable }} {{ not m.x }} {{ 'a' in m.x }} {{ m.x == none }}", {"m": {}}),
    ("defined-globals", "{{ raise_exception is defined }} {{ strftime_now is defined }} {{ range is defined }} {{ namespace is defined }}", {}),
    ("tests", "{{ none is none }} {{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 1 is integer }} {{ 1.5 is float }} {{ 'x' is string }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is sequence }} {{ 'ab' is sequence }} {{ 1 is iterable }} {{ 3 is odd }} {{ 4 is even }} {{ true is boolean }} {{ 1 is boolean }} {{ true is true }} {{ 0 is false }} {{ 'a' is equalto 'a' }} {{ 2 is eq 2 }} {{ 6 is divisibleby 3 }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ 2 is gt 1 }} {{ 2 is in [1, 2] }} {{ 1 is not none }}", {}),
    ("filters-strings", "{{ '  pad  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'Hello' | upper }} {{ 'Hello' | lower }} {{ 'hello wORLD-foo(bar' | title }} {{ 'hELLO world' | capitalize }} {{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'abc' | reverse }} {{ 'abc' | length }} {{ 'héllo' | count }} {{ 5 | string }} {{ none | string }} {{ '<a href=\"x\">&\\'</a>' | escape }} {{ 'x' | safe }}", {}),
    ("filters-indent-center", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}|{{ 'hi' | center(6) }}|{{ 'one two  three' | wordcount }}", {}),
    ("filters-numbers", "{{ '42' | int }} {{ '3.9' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '0x1A' | int(0, 16) }} {{ 5 | float }} {{ '2.5' | float }} {{ 'n' | float }} {{ -3 | abs }} {{ 2.567 | round }} {{ 2.567 | round(2) }} {{ 2.5 | round(0, 'floor') }} {{ 2.1 | round(0, 'ceil') }} {{ [1, 2, 3] | sum }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }}", {}),
    ("filters-sequences", "{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'a', 'C'] | sort }} {{ ['b', 'A', 'a', 'C'] | sort(case_sensitive=true) }} {{ ['b', 'A', 'a', 'b'] | unique | list }} {{ [1, 2] | reverse | list }} {{ [1, 2] | first }} {{ [1, 2] | last }} {{ [] | first }}| {{ 'abc' | list }} {{ {'a': 1} | list }} {{ [1, 'a'] | join(', ') }} {{ ['x', 'y'] | join }} {{ [1, 2, 3] | length }} {{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(3, 0, -1) | list }}", {}),
    ("filters-dicts", "{% for k, v in d | items %}{{ k }}={{ v }} {% endfor %}|{% for k, v in d | dictsort %}{{ k }}={{ v }} {% endfor %}|{% for k, v in d | dictsort(reverse=true) %}{{ k }} {% endfor %}|{% for p in d | dictsort(by='value') %}{{ p[0] }}{{ p[1] }} {% endfor %}|{{ d | length }}", {"d": {"b": 2, "A": 3, "c": 1}}),
    ("filters-select-map", "{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ ms | rejectattr('role', 'equalto', 'user') | list | length }} {{ ms | selectattr('tool') | list }} {{ ms | map(attribute='missing', default='d') | join(',') }} {{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('gt', 2) | list }} {{ ['a', 'b'] | map('upper') | list }} {{ [1, 2] | map('string') | join }} {{ ms | map(attribute='role') | unique | list }} {{ ms | selectattr('role', 'in', ['system', 'tool']) | list | length }}",
     {"ms": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "tool": True}, {"role": "user", "content": "c"}]}),
    ("filters-default", "{{ missing | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | default('d') }} {{ missing | d('short') }} {{ false | d('x', boolean=true) }}", {}),
    ("tojson",
     "{{ v | tojson }}\n{{ v | tojson(indent=2) }}\n{{ v | tojson(separators=(',', ':')) }}\n{{ v | tojson(sort_keys=true) }}\n{{ 'é<&>\\'\"\\n' | tojson }}\n{{ 'é' | tojson(ensure_ascii=true) }}\n{{ [] | tojson(indent=2) }} {{ {} | tojson(indent=4) }} {{ [1.0, 2.5e-7, 1e22] | tojson }}",
     {"v": {"z": 1, "a": [True, None, 1.5, "x"], "m": {"k": [], "e": {}}, "s": "tab\there \u0001 \"q\" \\ ünï 🌍"}}),
    ("string-methods",
     "{{ '  x  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  x  '.lstrip() }}|{{ '  x  '.rstrip() }}|{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ 'hello world'.title() }} {{ \"they're bob's\".title() }} {{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ 'hi there'.capitalize() }} {{ 'aXbX'.replace('X', '-') }} {{ 'abc'.find('c') }} {{ 'abcabc'.count('b') }} {{ ','.join(['a', 'b']) }} {{ '{} and {}'.format('x', 'y') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='N') }} {{ 'Ab1'.isalnum() }} {{ '12'.isdigit() }} {{ ' '.isspace() }} {{ 'x\\ny'.splitlines() }}",
     {}),
    ("dict-methods", "{{ d.keys() | list }} {{ d.values() | list }} {% for k, v in d.items() %}{{ k }}:{{ v }} {% endfor %}{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d['b'] }}", {"d": {"a": 1, "b": [2]}}),
    ("percent-format", "{{ '%s is %d years' % ('Al', 30) }} {{ '%s' % 'one' }} {{ '%.2f' % 3.14159 }} {{ '%5s|%-5s|' % ('a', 'b') }} {{ '100%%' % () }}", {}),
    ("strftime-now", "{{ strftime_now('%Y-%m-%d') }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%A %B %H:%M:%S %y %j %p %I') }}", {}),
    ("raise-exception", "before{{ raise_exception('Custom failure: ' ~ n) }}after", {"n": 3}),
    ("error-undefined-attribute", "{{ missing.attr }}", {}),
    ("error-undefined-arithmetic", "{{ m.x + 1 }}", {"m": {}}),
    ("error-add-str-int", "{{ 'a' + 1 }}", {}),
    ("error-iterate-none", "{% for x in none %}{% endfor %}", {}),
    ("error-tojson-undefined", "{{ missing | tojson }}", {}),
    ("error-call-undefined", "{{ nothing() }}", {}),
    ("unicode-lengths", "{{ s | length }} {{ s[0] }} {{ s[-1] }} {{ s | upper }} {{ s[::-1] }}", {"s": "🌍ßé👍🏽"}),
    ("generation-tag", "{% generation %}kept{% endgeneration %}", {}),
    ("whitespace-in-tags", "{%if   x%}a{%endif%}{{x}}{{   x   }}{%- if x -%} b {%- endif -%}", {"x": 1}),
    ("dict-literal-and-nested-braces", "{{ {'a': {'b': [1, {'c': 2}]}}['a']['b'][1]['c'] }} {{ {'k': 'v'}.k }}", {}),
    ("tuple-literals", "{% for a, b in [(1, 'x'), (2, 'y')] %}{{ a }}{{ b }}{% endfor %}", {}),
    ("lstrip-tabs-and-unicode-spaces", "a\n\t {% if true %}b{% endif %}\n\u3000\u00a0{% if true %}c{% endif %}\n  {{ 'd' }}", {}),
    ("lstrip-first-line", "   {% if true %}x{% endif %}", {}),
    ("lstrip-after-variable-same-line", "{{ 'a' }}   {% if true %}b{% endif %}", {}),
    ("lstrip-after-block-newline-kept", "{% if true +%}\n   {% if true %}x{% endif %}{% endif %}", {}),
    ("trim-after-comment-and-raw", "{# c #}\nx{% raw %}\n y {% endraw %}\nz", {}),
    ("raw-with-dashes", "a  {%- raw -%}  b  {%- endraw -%}  c", {}),
    ("dash-on-output-at-line-start", "x\n    {{- 'y' }}\n    {{ 'z' -}}\n  w", {}),
    ("trim-block-end-only-one-newline", "{% if true %}\n\n\nx{% endif %}", {}),
    ("comment-dash-sides", "a  {#- one -#}  b {#- two #}\n  c", {}),
    ("block-then-text-on-next-line", "{% for i in [1, 2] %}\n  item {{ i }}\n{% endfor %}\ndone", {}),
    ("nested-if-indented", "{% for m in ms %}\n    {% if m %}\n        <{{ m }}>\n    {% endif %}\n{% endfor %}", {"ms": ["a", "", "b"]}),
    ("string-escapes", "{{ '\\101\\x41\\u0041\\q\\\\ \\'' }}|{{ \"a\\\nb\" }}", {}),
    ("number-literals", "{{ 0b101 }} {{ 0o17 }} {{ 0xff }} {{ 1_000.5 }} {{ 1e-3 }} {{ 2E+2 }} {{ 0_0 }}", {}),
    ("syntax-leading-zeros", "{{ 007 }}", {}),
    ("not-in-and-is-not", "{{ 1 not in [2] }} {{ x is not defined }} {{ not x is defined }} {{ none is not none }}", {}),
    ("conditional-without-else", "[{{ 'a' if false }}] [{{ ('b' if false) is defined }}]", {}),
    ("nested-conditionals", "{{ 'a' if x == 1 else 'b' if x == 2 else 'c' }}{{ 'p' if true and not false or x }}", {"x": 2}),
    ("loop-filtered-prev-next-length", "{% for x in xs if x %}{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }}/{{ loop.length }}/{{ loop.revindex }} {% endfor %}", {"xs": [1, 0, 2, None, 3]}),
    ("loop-outer-variable-shadowing", "{% set x = 'outer' %}{% for x in ['in'] %}{{ x }}{% endfor %}{{ x }}", {}),
    ("loop-variable-after-loop", "{% for i in [1, 2] %}{% endfor %}[{{ i }}][{{ loop }}]", {}),
    ("if-set-leaks-to-top-level", "{% if true %}{% set y = 5 %}{% endif %}{{ y }}", {}),
    ("set-in-nested-loop-namespace", "{% set ns = namespace(items=[]) %}{% for a in [1, 2] %}{% for b in [3] %}{% set ns.items = ns.items + [a * b] %}{% endfor %}{% endfor %}{{ ns.items }}", {}),
    ("namespace-from-dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}", {}),
    ("macro-recursion-and-scope", "{% set sep = '-' %}{% macro count(n) %}{{ n }}{% if n > 0 %}{{ sep }}{{ count(n - 1) }}{% endif %}{% endmacro %}{{ count(3) }}", {}),
    ("macro-whitespace", "{% macro m(x) %}\n  [{{ x }}]\n{% endmacro %}\n{{ m(1) }}|{{ m(2) | trim }}", {}),
    ("set-block-with-filter", "{% set x | upper %}abc {{ 'd' }}{% endset %}{{ x }}", {}),
    ("filter-block", "{% filter upper %}hello {{ name }}{% endfilter %}!", {"name": "bob"}),
    ("with-block", "{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]", {}),
    ("string-comparisons-unicode", "{{ 'é' > 'z' }} {{ 'B' < 'a' }} {{ ['b', 'a', 'É'] | sort }} {{ 'Straße' | upper }} {{ 'ǅ' | lower }}", {}),
    ("int-float-mixing", "{{ 3 * 1.5 }} {{ 10 / 4 }} {{ 2 ** 0.5 }} {{ 9 ** 0.5 }} {{ 1e300 * 1e10 }} {{ -1e300 * 1e10 }} {{ 7 % 2.5 }} {{ -7.5 // 2 }}", {}),
    ("round-half-even", "{{ 0.5 | round }} {{ 1.5 | round }} {{ 2.5 | round }} {{ 2.675 | round(2) }} {{ 7 | round }} {{ -0.5 | round }}", {}),
    ("string-multiplication-and-join", "{{ '-' * 3 }}{{ 3 * 'ab' }}{{ '' * 5 }}{{ 'x' * 0 }}{{ 'x' * -1 }}|{{ ['a', 1, none] | join('|') }}", {}),
    ("truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, none, 0.0, true, false] %}{{ 'T' if v else 'F' }}{% endfor %}", {}),
    ("length-of-things", "{{ 'abc' | length }} {{ [1, 2] | count }} {{ {'a': 1} | length }} {{ '' | length }}", {}),
    ("map-and-select-chains", "{{ ms | map(attribute='content') | map('trim') | select | map('upper') | join(',') }}", {"ms": [{"content": " a "}, {"content": " "}, {"content": "b"}]}),
    ("selectattr-defined-and-none", "{{ ms | selectattr('x', 'defined') | list | length }} {{ ms | selectattr('x', 'none') | list | length }} {{ ms | rejectattr('x') | list | length }}", {"ms": [{"x": None}, {}, {"x": 1}]}),
    ("dictsort-case", "{% for k, v in d | dictsort %}{{ k }}{% endfor %} {% for k, v in d | dictsort(true) %}{{ k }}{% endfor %}", {"d": {"b": 1, "B": 2, "a": 3}}),
    ("sort-by-attribute", "{{ ms | sort(attribute='n') | map(attribute='n') | list }} {{ ms | sort(attribute='n', reverse=true) | map(attribute='n') | join }} {{ ms | max(attribute='n') }}", {"ms": [{"n": 2}, {"n": 1}, {"n": 3}]}),
    ("unique-and-case", "{{ ['A', 'a', 'b', 'B'] | unique | list }} {{ ['A', 'a'] | unique(case_sensitive=true) | list }}", {}),
    ("first-last-strings-dicts", "{{ 'abc' | first }}{{ 'abc' | last }}{{ {'k': 1, 'z': 2} | first }}{{ {'k': 1, 'z': 2} | last }}", {}),
    ("default-chain", "{{ a.b | default(c) | default('z') }}", {"a": {}}),
    ("attribute-on-non-dicts", "[{{ 'str'.foo }}][{{ none.foo }}][{{ 5.foo }}][{{ [1].foo }}][{{ none['x'] }}]", {}),
    ("item-on-dict-with-int", "{{ d[0] }}|{{ d['0'] }}|{{ xs[true] }}|{{ xs[-4] }}|", {"d": {"0": "zero"}, "xs": [1, 2, 3]}),
    ("dict-literal-order-and-dupes", "{{ {'b': 1, 'a': 2, 'b': 3} }} {{ {'x': 1}['x'] }}", {}),
    ("equality-across-types", "{{ 1 == '1' }} {{ [1, 2] == [1, 2] }} {{ {'a': [1]} == {'a': [1.0]} }} {{ none == false }} {{ 0 == false }} {{ '' == none }}", {}),
    ("in-operator-variants", "{{ 'a' in ['a'] }} {{ 'a' in {'a': 1} }} {{ 'ab' in 'cabd' }} {{ '' in 'x' }} {{ 1 in [1.0] }} {{ [1] in [[1]] }}", {}),
    ("tojson-special-values", "{{ [1e100, -0.0, 0.1, 100.0, 1.5e-10] | tojson }} {{ 'ctl\u0007\u001f\u007f' | tojson }} {{ 'ctl\u0007' | tojson(ensure_ascii=true) }} {{ {'a': {'b': [1, {'c': none}]}} | tojson(indent=1) }}", {}),
    ("tojson-indent-string", "{{ [1, [2]] | tojson(indent='\t') }}", {}),
    ("string-methods-edge", "{{ 'a,b,'.split(',') }} {{ ' a  b '.split(' ') }} {{ ''.split() }} {{ 'abc'.split('b', 0) }} {{ 'x'.startswith('') }} {{ 'aaa'.replace('a', 'b', 0) }} {{ 'aaa'.replace('', '-') }} {{ 'aXbXc'.rsplit('X', 1) }} {{ '  '.strip() == '' }} {{ 'abc'.strip('ac') }} {{ 'a\tb'.expandtabs is defined }}", {}),
    ("format-method-specs", "{{ '{:>5}|{:<4}|{:^6}|{:05d}|{:.3f}|{:+d}|{!r}'.format('a', 'b', 'c', 42, 3.14159, 7, 'q') }}", {}),
    ("percent-format-dict", "{{ '%(a)s-%(b)05.1f' % {'a': 'x', 'b': 2.25} }} {{ '%x %X %o %c %r' % (255, 255, 8, 65, 'q') }} {{ 'x' | format }}", {}),
    ("format-filter", "{{ '%s and %s' | format('a', 'b') }} {{ '%d%%' | format(50) }}", {}),
    ("wordcount-and-center", "{{ 'Hello, world! 123_abc' | wordcount }} {{ 'ab' | center(7) }}|{{ 'abc' | center(6) }}|", {}),
    ("truncate", "{{ 'hello world this is long' | truncate(12) }}|{{ 'hello world this is long' | truncate(12, true) }}|{{ 'short' | truncate(3) }}|{{ 'a b c d e f g h' | truncate(9, false, '…', 0) }}", {}),
    ("int-filter-edge", "{{ ' 12 ' | int }} {{ '1_000' | int }} {{ '-7' | int }} {{ '1e3' | int }} {{ true | int }} {{ none | int }} {{ '0b11' | int(0, 0) }} {{ 'ff' | int(0, 16) }}", {}),
    ("float-filter-edge", "{{ ' 1.5 ' | float }} {{ 'inf' | float }} {{ '-nan' | float }} {{ '1_0.5' | float }} {{ true | float }} {{ none | float }}", {}),
    ("abs-sum-min-max", "{{ -2.5 | abs }} {{ [1.5, 2] | sum }} {{ [] | sum }} {{ [[1], [2]] | sum(start=[]) }} {{ ['b', 'A', 'c'] | min }} {{ ['b', 'A', 'c'] | max }} {{ [] | max }}|", {}),
    ("indent-variants", "[{{ 'a\nb' | indent(first=true) }}][{{ '' | indent }}][{{ 'x\n' | indent(2) }}][{{ 'a\r\nb' | indent(1) }}]", {}),
    ("escape-non-strings", "{{ 5 | e }} {{ none | escape }} {{ ['<'] | e }} {{ missing | e }}|", {}),
    ("reverse-and-list", "{{ 'héllo' | reverse }} {{ [1, [2]] | reverse | list }} {{ {'a': 1, 'b': 2} | reverse | list }}", {}),
    ("replace-count", "{{ 'a-a-a' | replace('-', '+', 1) }} {{ 'a-a' | replace('', '.') }}", {}),
    ("capitalize-title-unicode", "{{ 'élan VITAL' | capitalize }} {{ 'ǆemal' | capitalize }} {{ \"o'neil mc-donald\" | title }} {{ 'hello_world' | title }} {{ 'ǆ'.title() }} {{ '1st place'.title() }}", {}),
    ("loop-over-dict-items-filter", "{% for k, v in d | items if v > 1 %}{{ k }}{% endfor %}", {"d": {"a": 1, "b": 2, "c": 3}}),
    ("unpacking-strings", "{% for a, b in ['xy', 'zw'] %}{{ b }}{{ a }}{% endfor %}", {}),
    ("error-unpack-mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("error-compare-str-int", "{{ 'a' < 1 }}", {}),
    ("error-division-by-zero", "{{ 1 / 0 }}", {}),
    ("error-int-modulo-zero", "{{ 1 % 0 }}", {}),
    ("error-not-callable", "{{ 'abc'() }}", {}),
    ("error-unknown-method", "{{ 'abc'.nosuchmethod() }}", {}),
    ("error-list-append-unsafe", "{% set xs = [] %}{{ xs.append(1) }}", {}),
    ("error-undefined-call-method", "{{ m.x.strip() }}", {"m": {}}),
    ("error-length-of-int", "{{ 5 | length }}", {}),
    ("error-items-of-list", "{{ [1] | items | list }}", {}),
    ("error-namespace-set-on-dict", "{% set d = {} %}{% set d.x = 1 %}{{ d }}", {}),
    ("error-raise-in-macro", "{% macro m() %}{{ raise_exception('from macro') }}{% endmacro %}{{ m() }}", {}),
    ("error-range-too-big", "{{ range(200000) | length }}", {}),
    ("syntax-unclosed-if", "{% if true %}no end", {}),
    ("syntax-unknown-filter", "{{ 1 | frobnicate }}", {}),
    ("syntax-unknown-tag", "\n{% frob %}", {}),
    ("syntax-bad-expression", "{{ 1 + }}", {}),
    ("syntax-unbalanced", "{{ (1 }}", {}),
    ("syntax-elif-after-else", "{% if x %}{% else %}{% elif y %}{% endif %}", {}),
    ("methods-as-values", "{{ d.items is defined }} {{ d.get is defined }} {{ d.update is defined }} {{ xs.append is defined }} {{ xs.index is defined }} [{{ d.items.type }}] {{ d['items'].type }} {{ 'x'.upper is defined }} {{ d.items is callable }} {% if d.keys %}T{% endif %}", {"d": {"items": {"type": "t"}}, "xs": []}),
    ("namespace-printing-and-type", "{% set ns = namespace(a=1) %}{{ ns }} {{ ns is mapping }} {{ ns.a }} {{ ns['a'] }} {{ ns.missing is defined }}", {}),
    ("filter-precedence", "{{ -3 | abs }} {{ 'a' + 'b' | upper }} {{ ('a' + 'b') | upper }} {{ 1 + [1, 2] | length }} {{ not 'x' | length }} {{ xs | length > 1 }}", {"xs": [1, 2]}),
]


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return FIXED_NOW.strftime(format)


class GenerationTag(jinja2.ext.Extension):
    """`{% generation %}…{% endgeneration %}` renders its body, as transformers' AssistantTracker
    does when no assistant mask is requested."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.Scope(body, lineno=lineno)


def render(env, source, context):
    """The rendered text, or the error jinja2 raised: kind "raise" for raise_exception (its message
    is what a user sees), "error" for any other failure."""
    try:
        return {"output": env.from_string(source).render(**context)}
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"error": {"kind": "syntax", "message": str(e.message), "line": e.lineno}}
    except jinja2.exceptions.TemplateError as e:
        if type(e) is jinja2.exceptions.TemplateError:
            return {"error": {"kind": "raise", "message": str(e)}}
        return {"error": {"kind": "error", "message": f"{type(e).__name__}: {e}"}}
    except Exception as e:  # TypeError, ValueError, ... from Python operations
        return {"error": {"kind": "error", "message": f"{type(e).__name__}: {e}"}}


def compact_json(document):
    """JSON with one line per case, snippet, template and conversation: small, and diffable."""

    def dump(value):
        return json.dumps(value, ensure_ascii=False)

    lines = ["{"]
    keys = list(document)
    for i, key in enumerate(keys):
        value = document[key]
        comma = "," if i < len(keys) - 1 else ""
        if isinstance(value, list):
            lines.append(f" {dump(key)}: [")
            lines += [f"  {dump(item)}" + ("," if j < len(value) - 1 else "") for j, item in enumerate(value)]
            lines.append(" ]" + comma)
        elif isinstance(value, dict):
            lines.append(f" {dump(key)}: {{")
            items = list(value.items())
            lines += [f"  {dump(k)}: {dump(v)}" + ("," if j < len(items) - 1 else "") for j, (k, v) in enumerate(items)]
            lines.append(" }" + comma)
        else:
            lines.append(f" {dump(key)}: {dump(value)}{comma}")
    lines.append("}")
    return "\n".join(lines)


def main():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols, GenerationTag]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now

    templates = {}
    cases = []
    for name, (bos, eos) in TEMPLATES.items():
        path = os.path.join(FIXTURES, name + ".jinja")
        with open(path, encoding="utf-8", newline="") as f:
            source = f.read()
        templates[name] = {"file": name + ".jinja", "bos_token": bos, "eos_token": eos}
        for conversation_name, conversation in CONVERSATIONS.items():
            for add_generation_prompt in (True, False):
                # the variables transformers' apply_chat_template passes
                context = {
                    "messages": conversation["messages"],
                    "tools": conversation.get("tools"),
                    "documents": None,
                    "add_generation_prompt": add_generation_prompt,
                }
                if bos is not None:
                    context["bos_token"] = bos
                if eos is not None:
                    context["eos_token"] = eos
                case = {
                    "template": name,
                    "conversation": conversation_name,
                    "add_generation_prompt": add_generation_prompt,
                }
                case.update(render(env, source, context))
                cases.append(case)

    snippets = []
    for name, source, context in SNIPPETS:
        snippet = {"name": name, "template": source, "context": context}
        snippet.update(render(env, source, context))
        snippets.append(snippet)

    expected = {
        "generator": "scripts/render_templates.py with jinja2 " + jinja2.__version__,
        "now": FIXED_NOW.isoformat(),
        "templates": templates,
        "conversations": CONVERSATIONS,
        "cases": cases,
        "snippets": snippets,
    }
    out = os.path.join(FIXTURES, "expected.json")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(compact_json(expected) + "\n")
    errors = sum(1 for c in cases if "error" in c)
    print(f"{out}: {len(cases)} cases ({errors} expected errors), {len(snippets)} snippets", file=sys.stderr)


if __name__ == "__main__":
    main()
