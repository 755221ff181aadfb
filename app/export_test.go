package app

// SetPruneBatches makes m prune in batches of batch rows, at most
// maxBatches of each kind per run, so that tests reach the bounds with a
// handful of rows.
func SetPruneBatches(m *Maintenance, batch, maxBatches int) {
	m.batch, m.maxBatches = batch, maxBatches
}

// PruneBatch is how many rows a prune statement deletes at most.
const PruneBatch = pruneBatch
