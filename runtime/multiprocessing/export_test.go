package multiprocessing

// LiveWorkers is the number of worker processes alive (for tests).
func LiveWorkers() int { return len(registry.snapshot()) }

// PoolsAbandoned counts the pools terminated because nothing referred to
// them (for tests).
func PoolsAbandoned() int64 { return poolsAbandoned.Load() }
