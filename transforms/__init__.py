"""SQL models (staging, marts) and the runner that builds them in dependency order."""
