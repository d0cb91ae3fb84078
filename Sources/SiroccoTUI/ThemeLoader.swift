// ThemeLoader: finds theme files — `$SIROCCO_THEMES`, `./themes`, a `themes` directory above the
// executable (the repository when running from .build), `<prefix>/share/sirocco/themes` — and
// reads them. A broken or missing theme is an error the UI reports; it never stops the app.

import Foundation
import SiroccoEngine

struct ThemeLoader {
    /// Directories searched, in order.
    var directories: [String]

    static let fileExtension = "theme"

    /// The standard search path for this process.
    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ThemeLoader {
        var dirs: [String] = []
        if let env = environment["SIROCCO_THEMES"], !env.isEmpty {
            dirs += env.split(separator: ":").map(String.init)
        }
        dirs.append(FileManager.default.currentDirectoryPath + "/themes")
        for exe in executableDirectories() {
            var dir = URL(fileURLWithPath: exe)
            // .build/release/sirocco → the repository's themes/ (also through the arch directory)
            for _ in 0..<4 {
                dir.deleteLastPathComponent()
                dirs.append(dir.appendingPathComponent("themes").path)
            }
            dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent()
                .appendingPathComponent("../share/sirocco/themes").standardized.path)
        }
        var seen = Set<String>()
        let existing = dirs.map { URL(fileURLWithPath: $0).standardized.path }.filter { path in
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return false }
            return seen.insert(path).inserted
        }
        return ThemeLoader(directories: existing)
    }

    /// The executable's directory as invoked and as resolved (/proc/self/exe), as files inside it.
    private static func executableDirectories() -> [String] {
        var paths: [String] = []
        if let arg0 = CommandLine.arguments.first, arg0.contains("/") {
            paths.append(URL(fileURLWithPath: arg0, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path + "/.")
        }
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            paths.append(resolved + "/.")
        }
        return paths.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
    }

    /// Names of the themes found (without the extension), sorted.
    var availableNames: [String] {
        var names = Set<String>()
        for dir in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for f in files where f.hasSuffix("." + ThemeLoader.fileExtension) {
                names.insert(String(f.dropLast(ThemeLoader.fileExtension.count + 1)))
            }
        }
        return names.sorted()
    }

    /// The file a theme name refers to: a path (with a slash or the .theme extension) as is,
    /// else `NAME.theme` in the first directory that has it.
    func file(for name: String) throws -> String {
        if name.contains("/") || name.hasSuffix("." + ThemeLoader.fileExtension) {
            guard FileManager.default.fileExists(atPath: name) else { throw ThemeError.notFound(name: name, searched: []) }
            return name
        }
        for dir in directories {
            let path = dir + "/" + name + "." + ThemeLoader.fileExtension
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw ThemeError.notFound(name: name, searched: directories)
    }

    /// Loads a theme by name or path; "default" is the built-in theme.
    func load(_ name: String) throws -> Theme {
        if name == "default" || name == Theme.builtin.name {
            if let path = try? file(for: name), let theme = try? read(path, name: name) { return theme }
            return .builtin
        }
        return try read(try file(for: name), name: name)
    }

    private func read(_ path: String, name: String) throws -> Theme {
        guard let data = try? RegularFile.contents(of: path, maximumBytes: 1 << 20), let text = String(data: data, encoding: .utf8) else {
            throw ThemeError.unreadable(file: path)
        }
        let displayName = name.contains("/") ? URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent : name
        return try Theme.parse(text, name: displayName, file: path)
    }
}
