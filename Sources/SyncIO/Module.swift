// Module SyncIO.
