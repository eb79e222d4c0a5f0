package multiprocessing

// LiveWorkers is the number of worker processes alive (for tests).
func LiveWorkers() int { return len(registry.snapshot()) }
