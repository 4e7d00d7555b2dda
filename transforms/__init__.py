"""The models (staging, intermediate, marts; their catalog beside each layer), the runner
that builds them in dependency order, and the data-dictionary generator."""
