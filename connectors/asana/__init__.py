"""Asana → raw: `fetch` reads a project from the API in worker threads (no warehouse),
`load` writes what they produce on the one writer thread, `cursors` are its marks."""
