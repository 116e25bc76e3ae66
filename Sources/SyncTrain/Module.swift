// Module SyncTrain.
