"""What each command does, at the edges: read files, load state, call the pure core, write state."""
