/// One recorded op of the tape: edges to the nodes (or leaf tensors) that produced its inputs, and the
/// vector-Jacobian product that maps the output gradient to one gradient per input (nil where an input needs
/// none). Backward rules run under no-grad.
///
/// Nodes reference their producers' nodes, not the input tensors (PyTorch's `next_edges`): an activation stays
/// alive only if some backward rule captured it because it needs its values. So the tape through a frozen
/// layer keeps what that layer's input gradient needs and nothing for its frozen weights.
final class GradNode {
    /// Where an input's gradient goes.
    enum Edge {
        /// The input was produced by a recorded op.
        case node(GradNode)
        /// The input is a leaf that requires gradients (a parameter): its gradient accumulates into `grad`.
        case leaf(Tensor)
        /// The input needs no gradient.
        case none
    }

    let name: String
    let edges: [Edge]
    /// Element counts of the inputs, to check the backward rule's results.
    let inputCounts: [Int]
    /// The rule; released once it has run (the tape is freed as backward walks it).
    private(set) var backward: ((Tensor) -> [Tensor?])?

    init(_ name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        edges = inputs.map { t in
            if let n = t.node { return .node(n) }
            return t.requiresGrad ? .leaf(t) : .none
        }
        inputCounts = inputs.map(\.count)
        self.backward = backward
    }

    /// Runs the rule once and releases it with everything it captured.
    func run(_ gradient: Tensor) -> [Tensor?] {
        guard let rule = backward else { preconditionFailure("\(name): backward through a released tape (call backward once per forward)") }
        backward = nil
        return rule(gradient)
    }
}

extension Tensor {
    /// True when an op on `inputs` must record a node: grad mode is on and an input requires gradients.
    @inlinable static func needsTape(_ inputs: Tensor...) -> Bool {
        guard GradMode.isEnabled else { return false }
        for t in inputs where t.requiresGrad { return true }
        return false
    }

    /// Attaches a tape node to the freshly computed `self` when any input requires gradients: the public hook
    /// for custom ops with their own backward rule. `backward` maps the gradient of `self` to one gradient per
    /// input (nil where none is needed); it runs under no-grad, and should capture only what it needs.
    @discardableResult
    public func recording(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        node = GradNode(name, inputs: inputs, backward: backward)
        return self
    }

    /// True for tensors created by the user (parameters, inputs), false for op outputs.
    public var isLeaf: Bool { node == nil }

    /// Reverse-mode differentiation from this tensor. With no `gradient`, the tensor must hold one element
    /// and the seed is 1. Leaf tensors that require gradients accumulate into `grad` (summing over calls,
    /// as PyTorch does; zero them with `zeroGrad`). The tape below this tensor is released as it is walked.
    public func backward(_ gradient: Tensor? = nil) {
        let seed = gradient ?? Tensor(filled: 1, shape: shape)
        precondition(seed.count == count, "backward seed \(seed.shape) for \(shape)")
        withNoGrad {
            guard let root = node else {
                if requiresGrad { accumulate(seed.reshaped(shape), into: self) }
                return
            }
            // Topological order over nodes (iterative DFS: deep nets must not overflow the stack).
            var order: [GradNode] = []
            var visited = Set<ObjectIdentifier>()
            var stack: [(GradNode, Bool)] = [(root, false)]
            while let (n, expanded) = stack.popLast() {
                if expanded { order.append(n); continue }
                let id = ObjectIdentifier(n)
                if visited.contains(id) { continue }
                visited.insert(id)
                stack.append((n, true))
                for case .node(let child) in n.edges { stack.append((child, false)) }
            }
            var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed.reshaped(shape)]
            for n in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(n)) else { continue }
                let inGrads = n.run(g)
                for (k, (edge, ig)) in zip(n.edges, inGrads).enumerated() {
                    guard let ig else { continue }
                    precondition(ig.count == n.inputCounts[k], "\(n.name) backward: gradient of \(ig.count) elements for input \(k) of \(n.inputCounts[k])")
                    switch edge {
                    case .node(let child):
                        // Out of place: a rule may return views of its incoming gradient (reshape) or the same
                        // tensor for several inputs (add), so stored gradients are never written into.
                        let key = ObjectIdentifier(child)
                        grads[key] = grads[key].map { $0.adding(ig) } ?? ig
                    case .leaf(let t):
                        accumulate(ig, into: t)
                    case .none:
                        break
                    }
                }
            }
            node = nil
        }
    }

    private func accumulate(_ g: Tensor, into leaf: Tensor) {
        if let existing = leaf.grad { existing.addInPlace(g) } else { leaf.grad = g.clone().reshaped(leaf.shape) }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }
}
