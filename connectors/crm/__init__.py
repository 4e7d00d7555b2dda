"""CRM → raw: `hubspot_sync` reads HubSpot and writes each page as it comes (list, then
search by last-modified, with `cursors`); `csv_import` loads a folder of exports."""
