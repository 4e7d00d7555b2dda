-- Every week's risk rows, kept from build to build (incremental on week_start): a build
-- replaces the rows of its own week and leaves the others, so a backfill over past
-- weeks, or a rerun of this week, changes nothing else.
SELECT * FROM intermediate.client_risk_current
