"""Demo sandbox: a seeded agency simulator and local fakes of the SaaS it uses.

Nothing here is imported by the pipeline; it exists for the demo, tests and benchmarks.
"""
