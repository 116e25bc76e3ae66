// Module SyncTensor.
