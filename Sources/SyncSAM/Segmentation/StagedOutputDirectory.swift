import Foundation

/// All-or-nothing output folder: files are written into a hidden sibling staging folder and moved into the target
/// only when every file succeeded. A new target is created by one rename; in an existing target the previous run's
/// fixed-name outputs (see `SegmentationOutputWriter.isOutputFileName`) are moved aside first and restored if any
/// move fails, so a failure leaves the target exactly as it was (and removes any folders this run created).
struct StagedOutputDirectory {
    let target: URL
    let staging: URL
    /// The outermost folder created for the target's parent, removed again on failure.
    private let createdAncestor: URL?
    private var fm: FileManager { FileManager.default }

    init(target: URL) throws(SegmentationOutputError) {
        let target = target.standardizedFileURL
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: target.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw .directory(path: target.path, reason: "exists and is not a folder")
        }
        let parent = target.deletingLastPathComponent()
        var ancestor: URL?
        var probe = parent
        while !fm.fileExists(atPath: probe.path) && probe.path != "/" {
            ancestor = probe
            probe = probe.deletingLastPathComponent()
        }
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString)")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            if let ancestor { try? fm.removeItem(at: ancestor) }
            throw .directory(path: target.path, reason: "cannot create output folder (\(Self.reason(error)))")
        }
        self.target = target
        self.staging = staging
        createdAncestor = ancestor
    }

    /// Where to write file `name` before the commit.
    func url(_ name: String) -> URL { staging.appendingPathComponent(name) }

    /// Drops everything written so far.
    func discard() {
        try? fm.removeItem(at: staging)
        if let createdAncestor { try? fm.removeItem(at: createdAncestor) }
    }

    /// Moves the staged `files` into the target (see the type's note); on failure the target is restored and the
    /// staging folder removed.
    func commit(files: [String]) throws(SegmentationOutputError) {
        if !fm.fileExists(atPath: target.path) {
            do { try fm.moveItem(at: staging, to: target) } catch {
                discard()
                throw .directory(path: target.path, reason: "cannot move outputs into place (\(Self.reason(error)))")
            }
            return
        }
        let backup = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).previous-\(UUID().uuidString)")
        var movedAside: [String] = []
        var movedIn: [String] = []
        do {
            let previous = try fm.contentsOfDirectory(atPath: target.path)
                .filter(SegmentationOutputWriter.isOutputFileName).sorted()
            try fm.createDirectory(at: backup, withIntermediateDirectories: false)
            for name in previous {
                try fm.moveItem(at: target.appendingPathComponent(name), to: backup.appendingPathComponent(name))
                movedAside.append(name)
            }
            for name in files {
                try fm.moveItem(at: staging.appendingPathComponent(name), to: target.appendingPathComponent(name))
                movedIn.append(name)
            }
        } catch {
            for name in movedIn.reversed() {
                try? fm.moveItem(at: target.appendingPathComponent(name), to: staging.appendingPathComponent(name))
            }
            for name in movedAside.reversed() {
                try? fm.moveItem(at: backup.appendingPathComponent(name), to: target.appendingPathComponent(name))
            }
            try? fm.removeItem(at: backup)
            discard()
            throw .directory(path: target.path, reason: "cannot move outputs into place (\(Self.reason(error)))")
        }
        try? fm.removeItem(at: backup)
        try? fm.removeItem(at: staging)
    }

    /// The first line of a Foundation error.
    static func reason(_ error: Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.split(separator: "\n").first.map(String.init) ?? text
    }
}
