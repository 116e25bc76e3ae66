import SyncSAM
import SyncTensor

extension Prompts {
    /// The model's prompt tensors for N masks from their prompt sets (image-major, as the decoder expects).
    /// Point lists of different lengths are padded with not-a-point clicks (label -1); boxes are used when every set
    /// has one. `maskInputs` `[N, 1, m, m]` is attached when any set asks for the mask prompt.
    public init(_ sets: [PromptSet], maskInputs: Tensor? = nil) {
        precondition(!sets.isEmpty, "no prompt sets")
        let n = sets.count
        let p = sets.map(\.points.count).max() ?? 0
        var coords: Tensor?, labels: Tensor?
        if p > 0 {
            var xy = [Float](repeating: 0, count: n * p * 2), lab = [Float](repeating: -1, count: n * p)
            for (i, s) in sets.enumerated() {
                for (j, pt) in s.points.enumerated() {
                    xy[(i * p + j) * 2] = pt.x; xy[(i * p + j) * 2 + 1] = pt.y
                    lab[i * p + j] = Float(pt.label)
                }
            }
            coords = Tensor(shape: [n, p, 2], values: xy)
            labels = Tensor(shape: [n, p], values: lab)
        }
        var boxes: Tensor?
        let allBoxes = sets.compactMap(\.box)
        if allBoxes.count == n {
            boxes = Tensor(shape: [n, 4], values: allBoxes.flatMap { [$0.x0, $0.y0, $0.x1, $0.y1] })
        } else {
            precondition(allBoxes.isEmpty, "either every prompt set of a batch has a box or none has")
        }
        let useMask = sets.contains(where: \.useMaskInput)
        precondition(!useMask || maskInputs != nil, "a prompt set asks for the mask prompt but none was given")
        // The decoder needs at least one prompt kind to know N.
        self.init(pointCoords: coords, pointLabels: labels, boxes: boxes, maskInputs: useMask ? maskInputs : nil)
    }
}
