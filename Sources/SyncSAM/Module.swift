// Module SyncSAM.
