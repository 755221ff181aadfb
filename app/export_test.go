package app

// PruneBatch is how many rows a prune statement deletes at most.
const PruneBatch = pruneBatch
