"""Rendering deliveries from the marts: the leadership digest and client status emails."""
