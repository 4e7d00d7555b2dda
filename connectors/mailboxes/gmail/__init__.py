"""Gmail API mail source: service account with domain-wide delegation or a refresh token."""
