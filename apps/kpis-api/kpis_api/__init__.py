"""kpis_api: business KPIs (revenue, orders, active customers) served from PostgreSQL.

``python -m kpis_api migrate`` creates the schema, ``seed-demo`` loads demo data and
``serve`` exposes ``/api/kpi/summary``, an HTML dashboard on ``/``, ``/metrics``,
``/health`` and ``/ready``. See apps/kpis-api/README.md for the KPI definitions.
"""

__version__ = "0.1.0"
