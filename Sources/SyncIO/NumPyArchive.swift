// Reading NumPy .npz archives and decoding scipy CSR matrices saved in them.

/// A dense 2-D mask decoded from a sparse matrix: `values[row * columns + column]`.
public struct DenseMask: Sendable {
    /// Number of rows (for IMIS-style labels, one row per class).
    public let rows: Int
    /// Number of columns (for IMIS-style labels, height x width of the image).
    public let columns: Int
    /// Row-major values, 0 where the sparse matrix has no entry.
    public let values: [UInt8]
}

extension NumPy {
    /// Reads the arrays of the `.npz` archive at `path` (zip members stored or deflated), keyed by member name
    /// without `.npy`. With `names`, only those members are decoded (others, of any dtype, are skipped).
    public static func readNPZ(path: String, names: Set<String>? = nil) throws -> [String: StoredTensor] {
        let zip = try ZipArchive(buffer: try ByteBuffer.map(path: path), path: path)
        var arrays: [String: StoredTensor] = [:]
        for entry in zip.entries where entry.name.hasSuffix(".npy") {
            let key = String(entry.name.dropLast(4))
            if let names, !names.contains(key) { continue }
            let bytes = try zip.contents(of: entry, verifyCRC: true)
            do {
                arrays[key] = try parseNPY(bytes.buffer, start: bytes.start, count: bytes.count, path: path)
            } catch let CheckpointError.unsupportedDType(_, dtype) {
                throw CheckpointError.unsupportedDType(path: path, dtype: "\(dtype) (member '\(key)')")
            }
        }
        if let names, let absent = names.subtracting(arrays.keys).sorted().first {
            throw CheckpointError.badHeader(path: path, reason: "archive has no member '\(absent).npy'")
        }
        return arrays
    }

    /// Decodes the scipy CSR matrix saved by `scipy.sparse.save_npz` / `np.savez` at `npzPath` (members `data`,
    /// `indices`, `indptr`, `shape`, and optionally `format`, which must then be `csr`) into a dense mask.
    public static func denseCSR(npzPath: String) throws -> DenseMask {
        let zip = try ZipArchive(buffer: try ByteBuffer.map(path: npzPath), path: npzPath)
        if let entry = zip.entry(named: "format.npy") {
            let bytes = try zip.contents(of: entry, verifyCRC: true)
            let header = try parseHeader(bytes.buffer, start: bytes.start, count: bytes.count, path: npzPath)
            let format = try stringScalar(bytes, header: header, path: npzPath)
            guard format == "csr" else {
                throw CheckpointError.unsupported(path: npzPath, feature: "sparse format '\(format)' (only csr)")
            }
        }
        let arrays = try readNPZ(path: npzPath, names: ["data", "indices", "indptr", "shape"])
        return try denseCSR(data: arrays["data"]!, indices: arrays["indices"]!, indptr: arrays["indptr"]!,
                            shape: arrays["shape"]!, path: npzPath)
    }

    /// The text of a 0-d byte-string (`|Sn`) or unicode (`<Un`) array.
    private static func stringScalar(_ bytes: StorageBytes, header: Header, path: String) throws -> String {
        let isBytes = header.descr.hasPrefix("|S")
        guard isBytes || header.descr.hasPrefix("<U"), header.shape.isEmpty,
              let length = Int(header.descr.dropFirst(2)), length >= 0, length <= 1024 else {
            throw CheckpointError.badHeader(path: path, reason: "sparse format member is not a string (\(header.descr))")
        }
        let width = isBytes ? 1 : 4
        let available = bytes.start + bytes.count - header.dataStart
        guard length * width <= available else { throw CheckpointError.truncated(path: path, what: "sparse format member") }
        let raw = bytes.buffer.slice(header.dataStart, length * width)
        let characters = stride(from: 0, to: raw.count, by: width).map { raw[$0] }  // ASCII: low byte of UTF-32LE
        return String(decoding: characters.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Decodes a CSR matrix (`data`, column `indices`, row pointers `indptr`, 2-element `shape`) into a dense mask.
    /// Values are converted to integers and clamped to 0...255. Every index is validated.
    public static func denseCSR(data: StoredTensor, indices: StoredTensor, indptr: StoredTensor, shape: StoredTensor,
                                path: String = "<memory>") throws -> DenseMask {
        func bad(_ reason: String) -> CheckpointError { .badHeader(path: path, reason: "CSR matrix \(reason)") }
        let dims = shape.int64s()
        guard dims.count == 2, dims[0] >= 0, dims[1] >= 0, dims[0] < 1 << 31, dims[1] < 1 << 31 else {
            throw bad("shape \(dims) is not two sizes")
        }
        let rows = Int(dims[0])
        let columns = Int(dims[1])
        let (cells, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, cells <= 1 << 32 else { throw bad("of \(rows) x \(columns) is too large") }
        let pointers = indptr.int64s()
        let columnIndices = indices.int64s()
        let values = data.int64s()
        guard pointers.count == rows + 1 else { throw bad("indptr has \(pointers.count) entries for \(rows) rows") }
        guard pointers.first == 0 || rows == 0 && pointers == [0],
              let last = pointers.last, last <= Int64(min(columnIndices.count, values.count)) else {
            throw bad("indptr does not fit the \(values.count) stored values")
        }
        let stored = min(columnIndices.count, values.count)
        var dense = [UInt8](repeating: 0, count: cells)
        try dense.withUnsafeMutableBufferPointer { out in
            for row in 0..<rows {
                let begin = Int(clamping: pointers[row])
                let end = Int(clamping: pointers[row + 1])
                guard begin >= 0, begin <= end else { throw bad("indptr decreases at row \(row)") }
                guard end <= stored else { throw bad("indptr at row \(row) exceeds the \(stored) stored values") }
                for k in begin..<end {
                    let column = columnIndices[k]
                    guard column >= 0, column < Int64(columns) else { throw bad("column index \(column) out of range at row \(row)") }
                    out[row * columns + Int(column)] = UInt8(clamping: values[k])
                }
            }
        }
        return DenseMask(rows: rows, columns: columns, values: dense)
    }
}
