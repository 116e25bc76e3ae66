// Module SyncNN.
