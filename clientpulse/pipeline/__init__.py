"""Pipeline steps. Each takes a config and ready-made clients, opens the warehouse
itself, and returns a small dict of figures for the run log. DAGs only wire them."""
