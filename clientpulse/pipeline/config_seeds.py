"""The agency config as seed rows: the `staging.cfg_*` models that SQL models join on.

Their columns and descriptions are declared in transforms/models/staging/_models.yml.
"""

from __future__ import annotations

from clientpulse.config import WEEKDAYS, AgencyConfig


def config_seeds(config: AgencyConfig) -> dict[str, list[dict]]:
    """Rows of every `staging.cfg_*` seed, from the config's current content."""
    clients = []
    for client in config.clients:
        manager = config.manager(client.account_manager)
        clients.append(
            {
                "client_id": client.id,
                "client_name": client.name,
                "account_manager_id": manager.id,
                "account_manager_name": manager.name,
                "account_manager_email": manager.email,
                "crm_company_id": client.crm_company_id,
                "language": client.language,
                "tier": client.tier or config.sla_policies.default_tier,
                "stage": client.stage,
                "contact_cadence_days": client.contact_cadence_days,
                "timezone": client.timezone or config.agency.timezone,
                "annual_marketing_budget": client.annual_marketing_budget,
                "start_date": client.start_date,
                "end_date": client.end_date,
            }
        )
    inputs = config.signals.segmentation.all_inputs()
    agency = config.agency
    calendars = []
    for client in config.clients:
        hours = client.business_hours or agency.business_hours
        calendars.append(
            {
                "client_id": client.id,
                "timezone": client.timezone or agency.timezone,
                "weekdays": [WEEKDAYS.index(day) for day in hours.days],
                "opens": hours.start,
                "closes": hours.end,
                "holiday_country": client.holiday_country or agency.holiday_country,
            }
        )
    return {
        "staging.cfg_clients": clients,
        "staging.cfg_client_domains": [
            {"domain": d, "client_id": c.id} for c in config.clients for d in c.email_domains
        ],
        "staging.cfg_client_addresses": [
            {"address": a.lower(), "client_id": c.id}
            for c in config.clients
            for a in c.contact_addresses
        ],
        "staging.cfg_report_recipients": [
            {"address": a, "client_id": c.id}
            for c in config.clients
            for a in dict.fromkeys(r.lower() for r in c.report_recipients)
        ],
        "staging.cfg_client_projects": [
            {"project_gid": p, "client_id": c.id} for c in config.clients for p in c.asana_projects
        ],
        "staging.cfg_internal_domains": [{"domain": d} for d in config.agency.internal_domains],
        "staging.cfg_vendor_domains": [{"domain": d} for d in config.agency.vendor_domains],
        "staging.cfg_freemail_domains": [{"domain": d} for d in config.freemail_domains()],
        "staging.cfg_sla_targets": [
            {
                "client_id": c.id,
                "metric": metric,
                "customer_target_minutes": customer,
                "prospect_target_minutes": prospect,
            }
            for c in config.clients
            for metric, (customer, prospect) in config.sla_targets(c).items()
        ],
        "staging.cfg_account_managers": [
            {
                "account_manager_id": m.id,
                "account_manager_name": m.name,
                "account_manager_email": m.email,
            }
            for m in config.account_managers
        ],
        "staging.cfg_segment_inputs": [
            {"input_name": name, "axis": axis, **spec.model_dump()}
            for name, (axis, spec) in inputs.items()
        ],
        "staging.cfg_client_segment_values": [
            {"client_id": c.id, "input_name": name, "value": value}
            for c in config.clients
            for name, value in c.segment_inputs.items()
        ],
        "staging.cfg_client_calendars": calendars,
        "staging.cfg_days_off": [{"day": day} for day in agency.days_off],
        "staging.cfg_risk_factors": [
            {"factor": name, **factor.model_dump()}
            for name, factor in config.signals.risk.factors.items()
        ],
    }
