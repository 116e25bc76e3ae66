/// One recorded op of the tape: its inputs and the vector-Jacobian product that maps the output gradient to
/// one gradient per input (nil where an input needs none). Backward rules run under no-grad.
final class GradNode {
    let inputs: [Tensor]
    let name: String
    let backward: (Tensor) -> [Tensor?]

    init(_ name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

extension Tensor {
    /// True when an op on `inputs` must record a node: grad mode is on and an input requires gradients.
    @inlinable static func needsTape(_ inputs: Tensor...) -> Bool {
        guard GradMode.isEnabled else { return false }
        for t in inputs where t.requiresGrad { return true }
        return false
    }

    /// Attaches a tape node to the freshly computed `self` when any input requires gradients.
    @discardableResult
    func recording(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        node = GradNode(name, inputs: inputs, backward: backward)
        return self
    }

    /// True for tensors created by the user (parameters, inputs), false for op outputs.
    public var isLeaf: Bool { node == nil }

    /// Reverse-mode differentiation from this tensor. With no `gradient`, the tensor must hold one element
    /// and the seed is 1. Leaf tensors that require gradients accumulate into `grad` (summing over calls,
    /// as PyTorch does; zero them with `zeroGrad`). The tape below this tensor is released afterwards.
    public func backward(_ gradient: Tensor? = nil) {
        let seed = gradient ?? Tensor(filled: 1, shape: shape)
        precondition(seed.shape == shape || seed.count == count, "backward seed \(seed.shape) for \(shape)")
        withNoGrad {
            // Topological order (iterative DFS: deep nets must not overflow the stack).
            var order: [Tensor] = []
            var visited = Set<ObjectIdentifier>()
            var stack: [(Tensor, Bool)] = [(self, false)]
            while let (t, expanded) = stack.popLast() {
                if expanded { order.append(t); continue }
                let id = ObjectIdentifier(t)
                if visited.contains(id) { continue }
                visited.insert(id)
                stack.append((t, true))
                if let n = t.node { for i in n.inputs where i.requiresGrad { stack.append((i, false)) } }
            }
            var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed.reshaped(shape)]
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let n = t.node else {
                    if t.requiresGrad {
                        if let existing = t.grad { t.grad = existing.adding(g) } else { t.grad = g.clone() }
                    }
                    continue
                }
                let inGrads = n.backward(g)
                for (input, ig) in zip(n.inputs, inGrads) {
                    guard let ig, input.requiresGrad else { continue }
                    precondition(ig.count == input.count, "\(n.name) backward: grad \(ig.shape) for input \(input.shape)")
                    let key = ObjectIdentifier(input)
                    if let acc = grads[key] { acc.addInPlace(ig) } else { grads[key] = ig.owned(shape: input.shape) }
                }
                t.node = nil
            }
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// A tensor with fresh storage of `shape` unless this one already owns exclusive storage of that size.
    func owned(shape: [Int]) -> Tensor {
        let t = clone()
        return t.reshaped(shape)
    }
}
