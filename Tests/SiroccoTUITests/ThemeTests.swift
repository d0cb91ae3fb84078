// Themes: the file format, errors that name file and line, the shipped themes, and degrading
// to 8 colours.

import Foundation
@testable import SiroccoTUI
import Testing

struct ThemeTests {
    @Test func parsesStylesAndKeepsDefaultsForRolesNotNamed() throws {
        let text = """
            # comment
            title = black on cyan bold
            user  = 214 underline   # trailing comment
            border-focused = bright-blue

            error = default on red reverse
            """
        let theme = try Theme.parse(text, name: "t", file: "t.theme")
        #expect(theme.style(.title) == ThemeStyle(.index(0), on: .index(6), bold: true))
        #expect(theme.style(.user) == ThemeStyle(.index(214), underline: true))
        #expect(theme.style(.borderFocused) == ThemeStyle(.index(12)))
        #expect(theme.style(.error) == ThemeStyle(.terminalDefault, on: .index(1), reverse: true))
        #expect(theme.style(.assistant) == Theme.builtin.style(.assistant))
    }

    @Test(arguments: [
        ("user = purplish", 1, "unknown colour 'purplish'"),
        ("\n\nuser cyan", 3, "expected 'role = colour'"),
        ("text = default\nsparkle = red", 2, "unknown role 'sparkle'"),
        ("user = 300", 1, "unknown colour '300'"),
        ("user =", 1, "missing colour"),
        ("user = red on", 1, "missing background"),
        ("user = red blue", 1, "unexpected 'blue'"),
    ])
    func malformedFilesNameFileAndLine(text: String, line: Int, reason: String) {
        do {
            _ = try Theme.parse(text, name: "bad", file: "/x/bad.theme")
            Issue.record("parsed a malformed theme")
        } catch let error as ThemeError {
            #expect(error.description.hasPrefix("/x/bad.theme:\(line): "), "\(error)")
            #expect(error.description.contains(reason), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: ["dark", "light", "high-contrast"])
    func shippedThemesParse(name: String) throws {
        let loader = ThemeLoader(directories: [ThemeTests.repositoryThemes])
        let theme = try loader.load(name)
        #expect(theme.name == name)
        #expect(loader.availableNames.contains(name))
    }

    @Test(arguments: ["dark", "light", "high-contrast"])
    func shippedThemesNameEveryRole(name: String) throws {
        let text = try String(contentsOfFile: ThemeTests.repositoryThemes + "/\(name).theme", encoding: .utf8)
        let named = Set(text.split(separator: "\n").compactMap { line in
            line.split(separator: "=").first.map { $0.trimmingCharacters(in: .whitespaces) }
        })
        for role in ThemeRole.allCases { #expect(named.contains(role.rawValue), "\(name).theme lacks \(role.rawValue)") }
    }

    @Test func darkThemeIsTheBuiltinOne() throws {
        let dark = try ThemeLoader(directories: [ThemeTests.repositoryThemes]).load("dark")
        #expect(dark.styles == Theme.builtin.styles)
    }

    @Test func missingThemeSaysWhereItLooked() {
        let loader = ThemeLoader(directories: ["/nowhere/themes"])
        #expect(throws: ThemeError.notFound(name: "neon", searched: ["/nowhere/themes"])) { try loader.load("neon") }
        #expect(throws: Never.self) { try loader.load("default") }
    }

    @Test func coloursDegradeOnSmallPalettes() {
        #expect(ThemeColor.index(12).adapted(toColors: 256) == (.index(12), false))
        #expect(ThemeColor.index(12).adapted(toColors: 16) == (.index(12), false))
        #expect(ThemeColor.index(12).adapted(toColors: 8) == (.index(4), true))
        #expect(ThemeColor.index(196).adapted(toColors: 8) == (.index(1), true))   // bright red
        #expect(ThemeColor.index(231).adapted(toColors: 16) == (.index(15), false)) // white
        #expect(ThemeColor.index(16).adapted(toColors: 8) == (.index(0), false))    // black
        #expect(ThemeColor.terminalDefault.adapted(toColors: 8) == (.terminalDefault, false))
    }

    @Test(arguments: [("cyan", 6), ("bright-cyan", 14), ("brightcyan", 14), ("grey", 8), ("0", 0), ("255", 255)])
    func colourNames(name: String, index: Int) {
        #expect(ThemeColor(name: name) == .index(index))
    }

    static var repositoryThemes: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("themes").path
    }
}
