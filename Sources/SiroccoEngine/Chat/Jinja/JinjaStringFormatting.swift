// JinjaStringFormatting: Python's three string-formatting mini-languages as templates use them —
// `'%s: %d' % (a, b)` (printf style, also the `format` filter), `'{} {name}'.format(…)`, and
// `strftime` codes for `strftime_now` (C locale names, local time, as Python's datetime.now()).

import Foundation

extension JinjaEvaluator {
    /// Python's `format % values`; an array is the argument tuple, an object the mapping.
    func percentFormat(_ format: String, _ values: JinjaValue) throws -> String {
        var positional: [JinjaValue]
        var mapping: JinjaObject? = nil
        switch values {
        case .array(let items): positional = items
        case .object(let object) where object.isDict: positional = [values]; mapping = object
        default: positional = [values]
        }
        var nextArgument = 0
        func take() throws -> JinjaValue {
            guard nextArgument < positional.count else { throw failure("not enough arguments for format string") }
            defer { nextArgument += 1 }
            return positional[nextArgument]
        }
        let f = JinjaPythonString.scalars(format)
        var out = ""
        var i = 0
        while i < f.count {
            let c = f[i]
            i += 1
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            guard i < f.count else { throw failure("incomplete format") }
            var value: JinjaValue? = nil
            if f[i] == "(" {
                guard let close = f[i...].firstIndex(of: ")") else { throw failure("incomplete format key") }
                let key = JinjaPythonString.string(f[(i + 1)..<close])
                guard let mapping else { throw failure("format requires a mapping") }
                value = mapping[key] ?? .undefined
                if case .undefined = value! { throw failure("KeyError: '\(key)'") }
                i = close + 1
            }
            var flags = Set<Unicode.Scalar>()
            while i < f.count, "-+ 0#".unicodeScalars.contains(f[i]) { flags.insert(f[i]); i += 1 }
            var width = 0
            if i < f.count, f[i] == "*" {
                width = try intArgument(try take()) ?? 0
                i += 1
            } else {
                while i < f.count, let d = Int(String(f[i])) { width = try appendDigit(width, d); i += 1 }
            }
            try charge(width)
            var precision: Int? = nil
            if i < f.count, f[i] == "." {
                i += 1
                var p = 0
                while i < f.count, let d = Int(String(f[i])) { p = try appendDigit(p, d); i += 1 }
                try charge(p)
                precision = p
            }
            while i < f.count, "hlL".unicodeScalars.contains(f[i]) { i += 1 }
            guard i < f.count else { throw failure("incomplete format") }
            let conversion = f[i]
            i += 1
            if conversion == "%" { out += "%"; continue }
            let argument = try value ?? take()
            var body: String
            var numeric = false
            switch conversion {
            case "s": body = argument.pythonString
            case "r", "a": body = argument.pythonRepr
            case "d", "i", "u":
                guard let n = argument.number else {
                    throw failure("%\(conversion) format: a real number is required, not \(argument.pythonTypeName)")
                }
                switch n {
                case .int(let v): body = String(v)
                case .double(let d): body = String(Int(d.rounded(.towardZero)))
                }
                numeric = true
            case "f", "F", "e", "E", "g", "G":
                guard let n = argument.number else {
                    throw failure("must be real number, not \(argument.pythonTypeName)")
                }
                body = String(format: "%.\(precision ?? 6)\(conversion)", n.doubleValue)
                numeric = true
            case "x", "X", "o":
                guard case .int(let v)? = argument.number else {
                    throw failure("%\(conversion) format: an integer is required, not \(argument.pythonTypeName)")
                }
                body = String(v, radix: conversion == "o" ? 8 : 16, uppercase: conversion == "X")
                numeric = true
            case "c":
                if case .string(let s) = argument { body = s } else if case .int(let v)? = argument.number, let u = Unicode.Scalar(UInt32(clamping: v)) {
                    body = String(u)
                } else {
                    throw failure("%c requires int or char")
                }
            default:
                throw failure("unsupported format character '\(Character(conversion))'")
            }
            if let precision, conversion == "s" || conversion == "r" || conversion == "a" {
                body = JinjaPythonString.string(JinjaPythonString.scalars(body).prefix(precision))
            }
            if numeric && flags.contains("+") && !body.hasPrefix("-") { body = "+" + body }
            else if numeric && flags.contains(" ") && !body.hasPrefix("-") { body = " " + body }
            let padding = max(0, width - JinjaPythonString.length(body))
            if flags.contains("-") {
                body += String(repeating: " ", count: padding)
            } else if numeric && flags.contains("0") {
                let sign = body.hasPrefix("-") || body.hasPrefix("+") || body.hasPrefix(" ") ? String(body.removeFirst()) : ""
                body = sign + String(repeating: "0", count: padding) + body
            } else {
                body = String(repeating: " ", count: padding) + body
            }
            out += body
        }
        if mapping == nil && nextArgument < positional.count {
            throw failure("not all arguments converted during string formatting")
        }
        return out
    }

    /// Python's `str.format`: `{}`, `{0}`, `{name}`, `{0.attr}`, `{0[key]}`, `!r`/`!s`, and a
    /// format spec `[[fill]align][sign][0][width][.precision][type]`.
    func strFormat(_ format: String, _ args: JinjaCallArguments) throws -> String {
        let f = JinjaPythonString.scalars(format)
        var out = ""
        var autoIndex = 0
        var i = 0
        while i < f.count {
            let c = f[i]
            if c == "}" {
                guard i + 1 < f.count, f[i + 1] == "}" else { throw failure("Single '}' encountered in format string") }
                out += "}"
                i += 2
                continue
            }
            guard c == "{" else { out.unicodeScalars.append(c); i += 1; continue }
            if i + 1 < f.count, f[i + 1] == "{" { out += "{"; i += 2; continue }
            guard let close = f[(i + 1)...].firstIndex(of: "}") else { throw failure("expected '}' before end of string") }
            var field = JinjaPythonString.string(f[(i + 1)..<close])
            i = close + 1
            var spec = ""
            if let colon = field.firstIndex(of: ":") {
                spec = String(field[field.index(after: colon)...])
                field = String(field[..<colon])
            }
            var conversion: Character? = nil
            if let bang = field.firstIndex(of: "!") {
                conversion = field[field.index(after: bang)...].first
                field = String(field[..<bang])
            }
            // the argument name, then `.attr` / `[key]` accessors
            let nameEnd = field.firstIndex { $0 == "." || $0 == "[" } ?? field.endIndex
            let argumentName = String(field[..<nameEnd])
            var value: JinjaValue
            if argumentName.isEmpty {
                guard autoIndex < args.positional.count else { throw failure("Replacement index \(autoIndex) out of range for positional args tuple") }
                value = args.positional[autoIndex]
                autoIndex += 1
            } else if let index = Int(argumentName) {
                guard index < args.positional.count else { throw failure("Replacement index \(index) out of range for positional args tuple") }
                value = args.positional[index]
            } else {
                guard let keyword = args.keywords.first(where: { $0.name == argumentName }) else { throw failure("KeyError: '\(argumentName)'") }
                value = keyword.value
            }
            var rest = field[nameEnd...]
            while let first = rest.first {
                if first == "." {
                    rest = rest.dropFirst()
                    let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                    value = try attribute(String(rest[..<end]), of: value)
                    rest = rest[end...]
                } else {
                    guard let end = rest.firstIndex(of: "]") else { throw failure("Missing ']' in format string") }
                    let key = String(rest[rest.index(after: rest.startIndex)..<end])
                    value = try item(Int(key).map(JinjaValue.int) ?? .string(key), of: value)
                    rest = rest[rest.index(after: end)...]
                }
            }
            if conversion == "r" || conversion == "a" { value = .string(value.pythonRepr) }
            if conversion == "s" { value = .string(value.pythonString) }
            out += try formatSpec(value, spec)
        }
        return out
    }

    private func formatSpec(_ value: JinjaValue, _ spec: String) throws -> String {
        if spec.isEmpty { return value.pythonString }
        var s = Array(spec)
        var fill: Character = " "
        var align: Character? = nil
        if s.count >= 2, "<>^=".contains(s[1]) {
            fill = s[0]
            align = s[1]
            s.removeFirst(2)
        } else if let first = s.first, "<>^=".contains(first) {
            align = first
            s.removeFirst()
        }
        var sign: Character? = nil
        if let first = s.first, "+- ".contains(first) { sign = first; s.removeFirst() }
        if s.first == "0" { if align == nil { fill = "0"; align = "=" }; s.removeFirst() }
        var width = 0
        while let d = s.first?.wholeNumberValue { width = try appendDigit(width, d); s.removeFirst() }
        try charge(width, times: fill.utf8.count)
        var precision: Int? = nil
        if s.first == "." {
            s.removeFirst()
            var p = 0
            while let d = s.first?.wholeNumberValue { p = try appendDigit(p, d); s.removeFirst() }
            try charge(p)
            precision = p
        }
        let type = s.first
        var body: String
        let isNumber = value.number != nil
        switch type {
        case nil, "s"?:
            if case .string(let text) = value {
                body = precision.map { JinjaPythonString.string(JinjaPythonString.scalars(text).prefix($0)) } ?? text
            } else if let precision, case .double(let d) = value {
                body = String(format: "%.\(precision)g", d)
            } else {
                body = value.pythonString
            }
        case "d"?:
            guard case .int(let i)? = value.number else { throw failure("Unknown format code 'd' for object of type '\(value.pythonTypeName)'") }
            body = String(i)
        case "f"?, "F"?, "e"?, "E"?, "g"?, "G"?, "%"?:
            guard let n = value.number else { throw failure("Unknown format code '\(type!)' for object of type '\(value.pythonTypeName)'") }
            if type == "%" {
                body = String(format: "%.\(precision ?? 6)f", n.doubleValue * 100) + "%"
            } else {
                body = String(format: "%.\(precision ?? 6)\(type!)", n.doubleValue)
            }
        case "x"?, "X"?, "o"?, "b"?:
            guard case .int(let i)? = value.number else { throw failure("Unknown format code '\(type!)' for object of type '\(value.pythonTypeName)'") }
            body = String(i, radix: type == "o" ? 8 : (type == "b" ? 2 : 16), uppercase: type == "X")
        default:
            throw failure("Unsupported format code '\(type!)'")
        }
        if isNumber, let sign, sign != "-", !body.hasPrefix("-") { body = (sign == "+" ? "+" : " ") + body }
        let padding = max(0, width - JinjaPythonString.length(body))
        guard padding > 0 else { return body }
        let pad = { (n: Int) in String(repeating: fill, count: n) }
        switch align ?? (isNumber ? ">" : "<") {
        case "<": return body + pad(padding)
        case "^": return pad(padding / 2) + body + pad(padding - padding / 2)
        case "=":
            if let first = body.first, "+- ".contains(first) { return String(first) + pad(padding) + body.dropFirst() }
            return pad(padding) + body
        default: return pad(padding) + body
        }
    }

    /// C-locale `strftime` of `date` in the local time zone, as Python's `datetime.strftime`.
    func strftime(_ format: String, _ date: Date) -> String {
        let calendar = Calendar(identifier: .gregorian)
        let c = calendar.dateComponents(in: TimeZone.current, from: date)
        let year = c.year ?? 1970, month = c.month ?? 1, day = c.day ?? 1
        let hour = c.hour ?? 0, minute = c.minute ?? 0, second = c.second ?? 0
        let weekday = (c.weekday ?? 1) - 1  // 0 = Sunday
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        var out = ""
        var chars = Array(format)[...]
        while let ch = chars.popFirst() {
            guard ch == "%", let next = chars.first else { out.append(ch); continue }
            chars = chars.dropFirst()
            var code = next
            var pad = true
            if code == "-", let after = chars.first {
                pad = false
                code = after
                chars = chars.dropFirst()
            }
            func number(_ value: Int, _ width: Int) -> String {
                let text = String(value)
                return pad ? String(repeating: "0", count: max(0, width - text.count)) + text : text
            }
            switch code {
            case "Y": out += String(year)
            case "y": out += number(year % 100, 2)
            case "m": out += number(month, 2)
            case "d": out += number(day, 2)
            case "e": out += pad ? String(repeating: " ", count: day < 10 ? 1 : 0) + String(day) : String(day)
            case "H": out += number(hour, 2)
            case "I": out += number(hour % 12 == 0 ? 12 : hour % 12, 2)
            case "M": out += number(minute, 2)
            case "S": out += number(second, 2)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "j": out += number(dayOfYear, 3)
            case "f": out += number((c.nanosecond ?? 0) / 1000, 6)
            case "b", "h": out += String(months[month - 1].prefix(3))
            case "B": out += months[month - 1]
            case "a": out += String(days[weekday].prefix(3))
            case "A": out += days[weekday]
            case "w": out += String(weekday)
            case "u": out += String(weekday == 0 ? 7 : weekday)
            case "F": out += String(year) + "-" + number(month, 2) + "-" + number(day, 2)
            case "D": out += number(month, 2) + "/" + number(day, 2) + "/" + number(year % 100, 2)
            case "T": out += number(hour, 2) + ":" + number(minute, 2) + ":" + number(second, 2)
            case "R": out += number(hour, 2) + ":" + number(minute, 2)
            case "Z", "z": break  // naive datetime: empty, as Python prints
            case "n": out += "\n"
            case "t": out += "\t"
            case "%": out += "%"
            default: out += "%" + (pad ? "" : "-") + String(code)
            }
        }
        return out
    }

    /// `value * 10 + digit` for a width or precision written in a format, refusing one too large.
    private func appendDigit(_ value: Int, _ digit: Int) throws -> Int {
        let (times, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times.addingReportingOverflow(digit)
        guard !o1, !o2 else { throw failure("a format width or precision too large") }
        return sum
    }
}
