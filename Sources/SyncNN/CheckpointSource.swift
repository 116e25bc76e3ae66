import SyncIO

/// Checkpoint tensors (any format SyncIO reads) as a source for `ParameterStore.load(from:options:)`:
/// float16/bfloat16/float64 and integer dtypes are converted to Float32 on access.
///
/// Each read releases the tensor's pages of the file mapping afterwards, so loading a whole checkpoint keeps
/// about one tensor of the file resident at a time (the values stay readable; they map again from the file).
extension TensorMap: TensorSource {
    public var tensorNames: [String] { names }
    public func shape(of name: String) -> [Int]? { self[name]?.shape }
    public func floatValues(of name: String) throws -> [Float] {
        let t = try tensor(name)
        defer { t.releaseMappedPages() }
        return t.floats()
    }
    public func copyFloatValues(of name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let t = try tensor(name)
        guard t.elementCount == destination.count else {
            throw WeightLoadError.shapeMismatch(key: name, expected: [destination.count], found: t.shape)
        }
        t.copyFloats(into: destination, releasingMappedPages: true)
    }
    private func tensor(_ name: String) throws -> StoredTensor {
        guard let t = self[name] else { throw WeightLoadError.missingKeys([name]) }
        return t
    }
}

extension ParameterStore {
    /// Loads a checkpoint file into the model. A training checkpoint that wraps its weights under `model.`,
    /// `state_dict.` or `module.` is unwrapped automatically when the bare names do not match.
    @discardableResult
    public func load(checkpoint path: String, options: LoadOptions = LoadOptions()) throws -> LoadReport {
        let ckpt = try Checkpoint.load(path: path)
        var map = ckpt.tensors
        let known = Set(entries.map(\.name))
        if !map.names.contains(where: { known.contains(options.mapped($0)) }) {
            for wrapper in ["model.", "state_dict.", "module.", "model.module."] {
                let inner = map.strippingPrefix(wrapper)
                if inner.names.contains(where: { known.contains(options.mapped($0)) }) { map = inner; break }
            }
        }
        return try load(from: map, options: options)
    }

    /// Writes every parameter and buffer to a safetensors file (atomically), with `metadata` such as the model
    /// config. BatchNorm's `num_batches_tracked` is stored as int64 like PyTorch's.
    public func save(safetensors path: String, metadata: [String: String] = [:]) throws {
        let items: [(name: String, tensor: StoredTensor)] = entries.map { e in
            if e.name.hasSuffix("num_batches_tracked") {
                return (e.name, StoredTensor(shape: e.tensor.shape, int64s: e.tensor.toArray().map { Int64($0) }))
            }
            return (e.name, StoredTensor(shape: e.tensor.shape, floats: e.tensor.toArray()))
        }
        try Safetensors.write(items, metadata: metadata, to: path)
    }
}
