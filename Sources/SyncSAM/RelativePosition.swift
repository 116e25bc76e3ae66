import SyncTensor

/// SAM's decomposed relative positions (SPEC 1.4 and 1.5): `get_rel_pos` and window partitioning.
/// Port of `get_rel_pos`, `window_partition` and `window_unpartition` in
/// `segment_anything/modeling/image_encoder.py` (facebookresearch/segment-anything).
public enum RelativePosition {
    /// Resizes a relative-position table [L_in, C] to [length, C] by 1-D linear interpolation with
    /// align_corners = False (PyTorch `F.interpolate(mode="linear")`; the same values as SAM-Med2D's bilinear
    /// resize of a (1, 1, L_in, C) tensor). Returns the table itself when the length already matches.
    public static func resized(_ table: Tensor, length: Int) -> Tensor {
        let lin = table.shape[0], c = table.shape[1]
        if lin == length { return table }
        return table.reshaped([1, 1, lin, c]).bilinearResized(height: length, width: c).reshaped([length, c])
    }

    /// Table row for every (query, key) pair: `rel[qi, kj] = qi·max(k/q, 1) − kj·max(q/k, 1) + (k−1)·max(q/k, 1)`,
    /// truncated to an integer (`qi − kj + S − 1` when q = k = S). Row-major [q, k].
    public static func indices(querySize q: Int, keySize k: Int) -> [Int] {
        let qScale = max(Double(k) / Double(q), 1), kScale = max(Double(q) / Double(k), 1)
        var out = [Int](repeating: 0, count: q * k)
        for i in 0..<q {
            for j in 0..<k {
                out[i * k + j] = Int(Double(i) * qScale - Double(j) * kScale + Double(k - 1) * kScale)
            }
        }
        return out
    }

    /// `get_rel_pos(q_size, k_size, table)`: the table (resized to 2·max(q, k) − 1 rows when needed) gathered for
    /// every (query, key) pair. table [L, C] -> [q, k, C]. Differentiable in the table.
    public static func gathered(querySize q: Int, keySize k: Int, table: Tensor) -> Tensor {
        let resizedTable = resized(table, length: 2 * max(q, k) - 1)
        return resizedTable.indexSelect(indices(querySize: q, keySize: k)).reshaped([q, k, table.shape[1]])
    }
}

/// Non-overlapping square windows over a BHWC token grid, with zero padding at the bottom/right (SPEC 1.5).
public enum WindowPartition {
    /// Number of windows along one side and the padded side for a grid side `size` and window `window`.
    public static func paddedSize(_ size: Int, window: Int) -> Int { (size + window - 1) / window * window }

    /// x [B, H, W, C] -> windows [B·nH·nW, window, window, C] in batch-major, row-major window order, after zero
    /// padding H and W up to multiples of `window`.
    public static func partition(_ x: Tensor, window: Int) -> Tensor {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let hp = paddedSize(h, window: window), wp = paddedSize(w, window: window)
        let padded = x.padded([(0, 0), (0, hp - h), (0, wp - w), (0, 0)])
        let nh = hp / window, nw = wp / window
        return padded.reshaped([b, nh, window, nw, window, c]).permuted([0, 1, 3, 2, 4, 5])
            .reshaped([b * nh * nw, window, window, c])
    }

    /// Inverse of `partition`: windows [B·nH·nW, window, window, C] -> [B, H, W, C] (padding cropped).
    public static func unpartition(_ windows: Tensor, window: Int, height h: Int, width w: Int) -> Tensor {
        let c = windows.shape[3]
        let hp = paddedSize(h, window: window), wp = paddedSize(w, window: window)
        let nh = hp / window, nw = wp / window
        let b = windows.shape[0] / (nh * nw)
        var x = windows.reshaped([b, nh, nw, window, window, c]).permuted([0, 1, 3, 2, 4, 5])
            .reshaped([b, hp, wp, c])
        if hp > h { x = x.narrowed(1, start: 0, length: h) }
        if wp > w { x = x.narrowed(2, start: 0, length: w) }
        return x
    }
}
